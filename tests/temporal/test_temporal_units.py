"""The Temporal runtime's pieces without a server: the wire form, the ledgers, the
in-workflow store and the worker's command line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("temporalio")

from temporalio.api.common.v1 import Payload

from retainflow.ledger import Grant
from retainflow.runtime.data import Plain
from retainflow.temporal import DATA_CONVERTER, MemoryLedger, SQLiteLedger
from retainflow.temporal.converter import from_wire, to_wire
from retainflow.temporal.ledger import LedgerBackend, grant_to_wire
from retainflow.temporal.messages import CaseInput, LedgerRequest
from retainflow.temporal.store import CaseStore
from retainflow.values import Money, Percent


def test_wire_form_round_trips_runtime_values_and_key_order() -> None:
    value = {
        "z": Decimal("4.50"),
        "a": Money.parse("5000 USD"),
        "p": Percent(Decimal(15)),
        "t": dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "d": dt.timedelta(days=10),
        "day": dt.date(2026, 4, 2),
        "tuple": (1, "x"),
        "plain": Plain("0012", Decimal(12)),
        "$odd": "a user key that looks like a tag",
        "nested": [{"$n": "not a number"}],
    }
    back = from_wire(json.loads(json.dumps(to_wire(value))))
    assert back == value
    assert list(back) == list(value)
    assert isinstance(back["plain"], Plain) and back["plain"].value == Decimal(12)
    converter = DATA_CONVERTER.payload_converter
    [payload] = converter.to_payloads([CaseInput("event", None, value)])
    assert isinstance(payload, Payload)
    [decoded] = converter.from_payloads([payload], [CaseInput])
    assert decoded == CaseInput("event", None, value)
    assert list(decoded.data) == list(value)


def _grant(client: str, amount: str, case: str, hour: int = 1) -> Grant:
    at = dt.datetime(2026, 1, 5, hour, tzinfo=dt.UTC)
    return Grant(at, client, "credit", Money.parse(amount), case, "followup", "sorry", 1)


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerBackend:
    if request.param == "memory":
        return MemoryLedger()
    return SQLiteLedger(str(tmp_path / "ledger.db"))


def test_ledger_refuses_a_stale_view_and_applies_a_retried_commit_once(
    ledger: LedgerBackend,
) -> None:
    a = LedgerRequest("wf-A/1", {"acme": 0}, [grant_to_wire(_grant("acme", "200 USD", "A"))])
    b = LedgerRequest("wf-B/1", {"acme": 0}, [grant_to_wire(_grant("acme", "200 USD", "B"))])
    first = ledger.sync(a)
    assert first.ok and first.ledgers["acme"]["version"] == 1
    stale = ledger.sync(b)  # B read version 0: A's grant is missing from its view
    assert not stale.ok and stale.ledgers["acme"]["version"] == 1
    assert [g["case"] for g in stale.ledgers["acme"]["grants"]] == ["A"]
    again = ledger.sync(a)  # A's activity retried after a lost reply
    assert again.ok and again.ledgers["acme"]["version"] == 1
    b2 = LedgerRequest("wf-B/2", {"acme": 1}, [grant_to_wire(_grant("acme", "100 USD", "B"))])
    assert ledger.sync(b2).ok
    assert [(g.case, str(g.amount)) for g in ledger.grants("acme")] == [
        ("A", "200.00 USD"),
        ("B", "100.00 USD"),
    ]
    ledger.seed([_grant("acme", "5 USD", "old", hour=0)])
    assert [g.case for g in ledger.grants("acme")] == ["old", "A", "B"]


def test_a_request_asked_again_gets_the_reply_it_got_the_first_time(
    ledger: LedgerBackend,
) -> None:
    """A workflow task cut off by a killed worker asks again from its start (its local
    activities' results die with it): its first, stale request must not now see the grant
    its own lost run committed next, or the re-run would decide otherwise."""
    ledger.sync(
        LedgerRequest("wf-X/1", {"acme": 0}, [grant_to_wire(_grant("acme", "100 USD", "X"))])
    )
    learn = LedgerRequest("wf-A/1", {"acme": -1}, [])  # A has not read acme yet
    first = ledger.sync(learn)
    assert not first.ok and first.ledgers["acme"]["version"] == 1
    commit = LedgerRequest("wf-A/2", {"acme": 1}, [grant_to_wire(_grant("acme", "200 USD", "A"))])
    assert ledger.sync(commit).ok
    # the worker died before the task completed: the re-run sends the same two requests
    again = ledger.sync(learn)
    assert (again.ok, again.ledgers) == (first.ok, first.ledgers)  # not A's own grant
    assert ledger.sync(commit).ok
    assert [g.case for g in ledger.grants("acme")] == ["X", "A"]  # applied once


def test_sqlite_ledger_serializes_concurrent_commits(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.db")
    wins: list[str] = []
    failures: list[BaseException] = []
    together = threading.Barrier(8)

    def offer(case: str) -> None:
        try:
            together.wait()
            ledger = SQLiteLedger(path)  # one connection per "worker process", opened at once
            grants = [grant_to_wire(_grant("acme", "200 USD", case))]
            if ledger.sync(LedgerRequest(f"wf-{case}/1", {"acme": 0}, grants)).ok:
                wins.append(case)
        except BaseException as error:  # a worker that dies must fail the test
            failures.append(error)

    threads = [threading.Thread(target=offer, args=(f"C{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(wins) == 1
    assert [g.case for g in SQLiteLedger(path).grants("acme")] == wins


def test_case_store_carries_its_state_across_continue_as_new() -> None:
    import retainflow
    from tests.temporal.helpers import followup, hours

    store = CaseStore()
    engine = retainflow.Engine([followup()], store=store)
    engine.submit({"id": "A", "client": "acme", "arr": "1000 USD", "active": True}, at=hours(0))
    moved = CaseStore()
    moved.take(json.loads(json.dumps(store.carry())))
    assert moved.case == store.case
    assert moved.timers == store.timers and moved.seq == store.seq and moved.clock == store.clock


def test_worker_command_line_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rflow"
    broken.write_text("workflow broken version 1\nstart nowhere\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "retainflow.temporal.worker", "--address", "x:1", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "broken.rflow" in result.stderr
