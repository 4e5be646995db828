"""Limit arithmetic of `retainflow.ledger`: windows, kinds, currencies, reasons, capping."""

from __future__ import annotations

import datetime as dt

from retainflow.ledger import EvaluatedLimit, Grant, budget_row, check_limits, in_window
from retainflow.values import Money

T = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def usd(amount: float | int | str) -> Money:
    from decimal import Decimal

    return Money(Decimal(str(amount)), "USD")


def money_limit(
    amount: Money | None,
    scope: str = "client",
    kind: str = "compensation",
    over: dt.timedelta | None = None,
) -> EvaluatedLimit:
    return EvaluatedLimit(kind, scope, False, amount, over)


def count_limit(n: int, scope: str = "client", over: dt.timedelta | None = None) -> EvaluatedLimit:
    return EvaluatedLimit("grants", scope, True, n, over)


def grant(days_ago: float, amount: Money, kind: str = "discount") -> Grant:
    return Grant(T - dt.timedelta(days=days_ago), "acme", kind, amount)


def test_window_is_strictly_younger_than_dur() -> None:
    grants = [grant(30, usd(1)), grant(29.999, usd(2)), grant(0, usd(3))]
    assert [g.amount for g in in_window(grants, 30 * DAY, T)] == [usd(2), usd(3)]
    assert len(in_window(grants, None, T)) == 3


def test_capped_to_the_smallest_remainder() -> None:
    limits = [money_limit(usd(5000), "case"), money_limit(usd(1000))]
    decision = check_limits("discount", usd(1200), "acme", [], [grant(1, usd(300))], limits, T)
    assert decision.amount == usd(700) and decision.reason is None


def test_kind_limits_count_only_their_kind() -> None:
    limits = [money_limit(usd(500), kind="credit")]
    theirs = [grant(1, usd(400), "discount"), grant(1, usd(450), "credit")]
    assert check_limits("credit", usd(100), "acme", [], theirs, limits, T).amount == usd(50)
    # a credit limit does not cover a discount offer
    assert check_limits("discount", usd(900), "acme", [], theirs, limits, T).amount == usd(900)


def test_reasons_in_order() -> None:
    full = [money_limit(usd(100)), count_limit(1)]
    theirs = [grant(1, usd(100))]
    assert check_limits("discount", None, "acme", [], theirs, full, T).reason == "missing_amount"
    assert check_limits("discount", usd(5), None, [], [], full, T).reason == "missing_client"
    assert check_limits("discount", usd(5), "acme", [], theirs, full, T).reason == "grant_count"
    only_money = [money_limit(usd(100))]
    assert check_limits("discount", usd(5), "acme", [], theirs, only_money, T).reason == "limit"
    euros = [grant(1, Money(1, "EUR"))]
    assert check_limits("discount", usd(5), "acme", [], euros, full, T).reason == "currency"
    # an offer in another currency than a limit
    offer_eur = Money(5, "EUR")
    assert check_limits("discount", offer_eur, "acme", [], [], full, T).reason == "currency"


def test_count_limits_per_case_use_the_instance_grants() -> None:
    limits = [count_limit(1, "case")]
    assert (
        check_limits("discount", usd(5), None, [grant(0, usd(1))], [], limits, T).reason
        == "grant_count"
    )
    assert check_limits("discount", usd(5), None, [], [], limits, T).amount == usd(5)


def test_none_limit_amount_refuses_and_budget_rows() -> None:
    assert (
        check_limits("discount", usd(5), "acme", [], [], [money_limit(None)], T).reason == "limit"
    )
    row = budget_row("w", money_limit(usd(1000), over=30 * DAY), [grant(1, usd(250))], T)
    assert (row.used, row.remaining, row.problem) == (usd(250), usd(750), None)
    row = budget_row("w", count_limit(2, over=90 * DAY), [grant(1, usd(1))] * 3, T)
    assert (row.used, row.remaining, row.problem) == (3, 0, "grant_count")
