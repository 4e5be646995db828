"""Offers in the engine: limits per case and per client, windows, currencies, grant counts,
approvals (granted, re-checked, denied, withdrawn), rounding, and the shared ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from test_engine_support import at, flow, record

from retainflow import Engine, Money
from retainflow.ledger import Grant

OFFER = """
case {{ client: text?; arr: money(USD); bonus: money(USD)? }}
trigger t on open
{limits}
start give
step give {{
  offer discount {amount} label "sorry"
  when offer.status in ["granted", "capped"] -> happy
  -> sad
}}
outcome happy as retained
outcome sad as churned
"""


def offer_flow(limits: str, amount: str = "10% of case.arr", name: str = "w") -> Any:
    return flow(OFFER.format(limits=limits, amount=amount), name=name)


def run_offer(
    engine: Engine,
    case: str,
    arr: str = "10000 USD",
    client: str | None = "acme",
    when: dt.datetime | None = None,
    **more: Any,
) -> dict[str, Any]:
    moment = when or at()
    engine.submit({"id": case, "client": client, "arr": arr, **more}, at=moment)
    engine.handle(case, {"type": "open"}, at=moment)
    offers: list[dict[str, Any]] = record(engine, case)["offers"]
    return offers[-1]


def test_capped_to_the_per_case_limit_and_granted_under_it() -> None:
    engine = Engine([offer_flow("limit compensation per case 500 USD")])
    offer = run_offer(engine, "C1", arr="12000 USD")
    assert offer == {
        "at": "2026-03-02T09:00:00Z",
        "decided_at": "2026-03-02T09:00:00Z",
        "step": "give",
        "kind": "discount",
        "requested": "1200.00 USD",
        "amount": "500.00 USD",
        "status": "capped",
        "reason": None,
        "label": "sorry",
    }
    assert record(engine, "C1")["outcome"] == "happy"
    offer = run_offer(engine, "C2", arr="1000 USD")
    assert (offer["status"], offer["amount"]) == ("granted", "100.00 USD")
    grant = [a for a in record(engine, "C2")["actions"] if a["name"] == "grant"]
    assert grant == [
        {
            "at": "2026-03-02T09:00:00Z",
            "step": "give",
            "name": "grant",
            "args": {"kind": "discount", "amount": "100.00 USD", "label": "sorry"},
        }
    ]


def test_money_rounds_half_even_to_the_minor_unit() -> None:
    engine = Engine([offer_flow("limit compensation per case 5000 USD")])
    assert run_offer(engine, "C1", arr="123.45 USD")["amount"] == "12.34 USD"  # 12.345
    assert run_offer(engine, "C2", arr="123.55 USD")["amount"] == "12.36 USD"  # 12.355


def test_per_client_limit_is_shared_across_cases() -> None:
    engine = Engine([offer_flow("limit discount per client 1500 USD")])
    assert run_offer(engine, "C1")["amount"] == "1000.00 USD"
    second = run_offer(engine, "C2", when=at(1))
    assert (second["status"], second["amount"]) == ("capped", "500.00 USD")
    third = run_offer(engine, "C3", when=at(2))
    assert (third["status"], third["reason"], third["amount"]) == ("refused", "limit", "0.00 USD")
    assert record(engine, "C3")["outcome"] == "sad"
    other = run_offer(engine, "C4", client="other", when=at(3))
    assert other["status"] == "granted"
    assert [g.case for g in engine.ledger("acme")] == ["C1", "C2"]
    # grants in a window: since <= at < until, either bound open
    assert [g.case for g in engine.ledger("acme", since=at(1))] == ["C2"]
    assert [g.case for g in engine.ledger("acme", until=at(1))] == ["C1"]
    assert [g.case for g in engine.ledger("acme", since=at(0), until=at(5))] == ["C1", "C2"]
    with pytest.raises(ValueError, match="naive"):
        engine.ledger("acme", since=dt.datetime(2026, 3, 2))


def test_window_counts_grants_younger_than_dur_only() -> None:
    wf = offer_flow("limit compensation per client 1000 USD over 30d")

    def offer_after(age: dt.timedelta) -> dict[str, Any]:
        engine = Engine([wf])
        engine.seed([Grant(at() - age, "acme", "credit", Money(800, "USD"))])
        return run_offer(engine, "C", arr="5000 USD")

    exactly = offer_after(dt.timedelta(days=30))  # exactly DUR old: no longer counts
    assert (exactly["status"], exactly["amount"]) == ("granted", "500.00 USD")
    younger = offer_after(dt.timedelta(days=30) - dt.timedelta(seconds=1))
    assert (younger["status"], younger["amount"]) == ("capped", "200.00 USD")


def test_grant_count_limit_and_reason_order() -> None:
    engine = Engine(
        [offer_flow("limit compensation per client 100 USD\nlimit grants per client 1 over 90d")]
    )
    engine.seed([Grant(at(-1), "acme", "credit", Money(100, "USD"))])
    offer = run_offer(engine, "C")
    assert (offer["status"], offer["reason"]) == ("refused", "grant_count")  # before limit


def test_currency_refusal_beats_grant_count() -> None:
    engine = Engine(
        [offer_flow("limit compensation per client 5000 USD\nlimit grants per client 1")]
    )
    engine.seed([Grant(at(-1), "acme", "credit", Money(10, "EUR"))])
    offer = run_offer(engine, "C")
    assert (offer["status"], offer["reason"]) == ("refused", "currency")


def test_missing_amount_and_missing_client() -> None:
    engine = Engine([offer_flow("limit compensation per client 5000 USD", amount="case.bonus")])
    offer = run_offer(engine, "C1")
    # zero in the currency AMOUNT's type names (`bonus: money(USD)?`): nothing was granted
    assert (offer["status"], offer["reason"], offer["requested"], offer["amount"]) == (
        "refused",
        "missing_amount",
        None,
        "0.00 USD",
    )
    offer = run_offer(engine, "C2", client=None, bonus="10 USD")
    assert (offer["status"], offer["reason"], offer["amount"]) == (
        "refused",
        "missing_client",
        "0.00 USD",
    )


def test_offer_amount_is_zero_when_amount_is_none_and_null_without_a_known_currency() -> None:
    def amounts(field_type: str) -> tuple[Any, Any]:
        engine = Engine(
            [
                flow(f"""
            case {{ client: text; bonus: {field_type} }}
            trigger t on open
            start give
            step give {{ offer credit case.bonus; do tell(amount: offer.amount); on x -> done }}
            outcome done
        """)
            ]
        )
        engine.submit({"id": "C", "client": "acme"}, at=at())
        result = engine.handle("C", {"type": "open"}, at=at())
        (shown,) = [a.args["amount"] for a in result.actions]
        return shown, record(engine, "C")["offers"][0]["amount"]

    assert amounts("money(EUR)?") == (Money(0, "EUR"), "0.00 EUR")
    assert amounts("money?") == (None, None)  # any currency: none is known to be zero in


def test_limits_shared_by_two_workflows_of_one_engine() -> None:
    a = offer_flow("limit compensation per client 1500 USD", name="first")
    b = offer_flow("limit compensation per client 1200 USD", name="second")
    engine = Engine([a, b])
    engine.submit({"id": "C", "client": "acme", "arr": "10000 USD"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    first, second = engine.records("C")
    assert first["offers"][0]["amount"] == "1000.00 USD"
    assert (second["offers"][0]["status"], second["offers"][0]["amount"]) == (
        "capped",
        "200.00 USD",
    )
    budget = {
        (row.workflow, row.kind): row.remaining for row in engine.budget("acme", at=at(1), case="C")
    }
    assert budget == {
        ("first", "compensation"): Money(300, "USD"),
        ("second", "compensation"): Money(0, "USD"),
    }


APPROVE = """
case { client: text; arr: money(USD) }
trigger t on open
limit compensation per client 5000 USD
approve compensation above 1000 USD by "lead"
approve discount above 2000 USD by "director"
approve compensation above 2000 USD by "vp"
start give
step give {
  offer discount 10% of case.arr
  do after_offer()
  due 1d
  when offer.status in ["granted", "capped"] -> happy
  on timeout -> sad
  -> sad
}
outcome happy
outcome sad
"""


def test_approval_role_of_the_highest_threshold_and_grant_on_approval() -> None:
    engine = Engine([flow(APPROVE)])
    engine.submit({"id": "C", "client": "acme", "arr": "30000 USD"}, at=at())
    r = engine.handle("C", {"type": "open"}, at=at())
    assert [(a.name, a.args) for a in r.actions] == [
        ("request_approval", {"kind": "discount", "amount": Money(3000, "USD"), "role": "director"})
    ]  # 2000 twice: the first in source order
    assert engine.get("C").phase == "pending"  # type: ignore[union-attr]
    r = engine.handle("C", {"type": "approval", "approved": True}, at=at(1))
    assert [a.name for a in r.actions] == ["grant", "after_offer"]
    offer = record(engine, "C")["offers"][0]
    assert (offer["status"], offer["amount"], offer["decided_at"]) == (
        "granted",
        "3000.00 USD",
        "2026-03-02T10:00:00Z",
    )
    assert record(engine, "C")["outcome"] == "happy"


def test_approval_rechecks_limits_and_may_cap_or_refuse() -> None:
    engine = Engine([flow(APPROVE)])
    for case in ("A", "B"):
        engine.submit({"id": case, "client": "acme", "arr": "30000 USD"}, at=at())
        engine.handle(case, {"type": "open"}, at=at())
    engine.seed([Grant(at(1), "acme", "credit", Money(3000, "USD"))])
    engine.handle("A", {"type": "approval", "approved": True}, at=at(2))
    engine.handle("B", {"type": "approval", "approved": True}, at=at(2))
    a, b = record(engine, "A")["offers"][0], record(engine, "B")["offers"][0]
    assert (a["status"], a["amount"]) == ("capped", "2000.00 USD")
    assert (b["status"], b["reason"], b["amount"]) == ("refused", "limit", "0.00 USD")


def test_denied_and_withdrawn_offers() -> None:
    engine = Engine([flow(APPROVE)])
    engine.submit({"id": "D", "client": "acme", "arr": "30000 USD"}, at=at())
    engine.handle("D", {"type": "open"}, at=at())
    engine.handle("D", {"type": "approval", "approved": False}, at=at(1))
    denied = record(engine, "D")
    assert (denied["offers"][0]["status"], denied["offers"][0]["amount"]) == ("denied", "0.00 USD")
    assert denied["outcome"] == "sad"
    engine.submit({"id": "W", "client": "acme", "arr": "30000 USD"}, at=at(2))
    engine.handle("W", {"type": "open"}, at=at(2))
    engine.advance(at(30))  # the due fires while pending: leaving withdraws the offer
    withdrawn = record(engine, "W")
    assert withdrawn["offers"][0]["status"] == "withdrawn"
    assert withdrawn["offers"][0]["decided_at"] == "2026-03-03T11:00:00Z"
    assert withdrawn["outcome"] == "sad"
    engine.handle("W", {"type": "approval", "approved": True}, at=at(31))
    assert record(engine, "W")["ignored"][-1]["reason"] == "no instance"


def test_approval_for_another_workflow_is_an_ordinary_event() -> None:
    engine = Engine([flow(APPROVE)])
    engine.submit({"id": "C", "client": "acme", "arr": "30000 USD"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    r = engine.handle("C", {"type": "approval", "approved": True, "workflow": "other"}, at=at(1))
    assert [i.reason for i in r.ignored] == ["no handler"]
    assert record(engine, "C")["offers"][0]["status"] == "pending"


def test_pending_offer_reserves_nothing() -> None:
    engine = Engine([flow(APPROVE)])
    engine.submit({"id": "A", "client": "acme", "arr": "40000 USD"}, at=at())
    engine.handle("A", {"type": "open"}, at=at())  # 4000 pending
    engine.submit({"id": "B", "client": "acme", "arr": "40000 USD"}, at=at())
    r = engine.handle("B", {"type": "open"}, at=at())
    assert r.actions[0].args["amount"] == Money(4000, "USD")  # not 1000
