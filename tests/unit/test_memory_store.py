"""The memory store: with `compact=True`, cases that are done for now are kept encoded,
and nothing shows it."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from test_engine_support import at, flow

import retainflow
import retainflow.stores.memory as memory_module
from retainflow import Engine, MemoryStore
from retainflow.caseio import load_cases
from retainflow.runtime.batch import run_entries

ROOT = Path(__file__).resolve().parents[2]

WAITS = """
case { client: text }
trigger t on open
start a
step a { on go -> done }
outcome done as retained
"""


@pytest.fixture
def at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encode a case as soon as it is done for now (not after 64 more cases)."""
    monkeypatch.setattr(memory_module, "_KEEP_LIVE", 0)


@pytest.mark.usefixtures("at_once")
def test_an_ended_case_is_kept_as_one_untracked_object_and_reads_back() -> None:
    store = MemoryStore(compact=True)
    engine = Engine([flow(WAITS)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open", "id": "e1"}, at=at(1))
    live = store.cases["C"]
    assert not isinstance(live, bytes)  # active, waiting for `go` (no timer): kept live
    engine.handle("C", {"type": "go", "id": "e2"}, at=at(2))
    kept = store.cases["C"]
    assert isinstance(kept, bytes) and not gc.is_tracked(kept)
    assert [r["outcome"] for r in engine.records("C")] == ["done"]
    assert [h["kind"] for h in engine.history("C")][:3] == ["submission", "event", "trace"]
    # a later input decodes it, runs, and keeps it encoded again once it is done again
    engine.handle("C", {"type": "open", "id": "e3"}, at=at(3))
    assert not isinstance(store.cases["C"], bytes)
    engine.handle("C", {"type": "go", "id": "e4"}, at=at(4))
    assert isinstance(store.cases["C"], bytes)
    assert [r["outcome"] for r in engine.records("C")] == ["done", "done"]
    duplicate = engine.handle("C", {"type": "go", "id": "e4"}, at=at(5))
    assert not duplicate.actions and engine.history("C")[-1]["kind"] == "duplicate"


@pytest.mark.usefixtures("at_once")
def test_one_transaction_sees_one_object_per_encoded_case() -> None:
    store = MemoryStore(compact=True)
    engine = Engine([flow(WAITS)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    assert isinstance(store.cases["C"], bytes)  # no trigger fired: done for now
    with store.transaction() as tx:
        assert tx.load_case("C") is tx.load_case("C")
    with store.transaction() as tx:
        first = tx.load_case("C")
    with store.transaction() as tx:
        assert tx.load_case("C") is not first  # decoded afresh: nothing kept live


def test_the_latest_cases_done_for_now_stay_live() -> None:
    store = MemoryStore(compact=True)
    engine = Engine([flow(WAITS)], store=store)
    count = memory_module._KEEP_LIVE + 10
    for i in range(count):  # no trigger: each is done for now once submitted
        engine.submit({"id": f"C{i}", "client": "x"}, at=at(minutes=i))
    encoded = [i for i in range(count) if isinstance(store.cases[f"C{i}"], bytes)]
    assert encoded == list(range(10))
    engine.handle("C3", {"type": "open", "id": "e1"}, at=at(5))  # back to work: live
    engine.handle("C70", {"type": "open", "id": "e2"}, at=at(5))
    assert not isinstance(store.cases["C3"], bytes)
    assert [r["status"] for r in engine.records("C3")] == ["waiting"]


def test_big_runs_compact_their_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    import retainflow.runtime.batch as batch

    workflow = retainflow.load(ROOT / "workflows" / "reactive_retention.rflow")
    entries = load_cases(ROOT / "examples" / "reactive_retention.cases.yaml", [workflow])
    assert run_entries(workflow, entries).engine.store.compact is False  # type: ignore[attr-defined]
    monkeypatch.setattr(batch, "COMPACT_FROM", len(entries) - 1)
    assert run_entries(workflow, entries).engine.store.compact is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name",
    [
        "reactive_retention",
        "complaint_loyalty",
        "sla_recovery",
        "account_checkins",
        "crisis_response",
    ],
)
def test_runs_give_the_same_records_and_histories_as_a_store_that_keeps_all_live(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_module, "_KEEP_LIVE", 3)  # the examples are small
    workflow = retainflow.load(ROOT / "workflows" / f"{name}.rflow")
    entries = load_cases(ROOT / "examples" / f"{name}.cases.yaml", [workflow])
    encoded = run_entries(workflow, entries, store=MemoryStore(compact=True))
    assert any(isinstance(v, bytes) for v in encoded.engine.store.cases.values())  # type: ignore[attr-defined]
    live = run_entries(workflow, entries)
    assert not any(isinstance(v, bytes) for v in live.engine.store.cases.values())  # type: ignore[attr-defined]
    assert json.dumps(encoded.records, default=str) == json.dumps(live.records, default=str)
    for case_id in dict.fromkeys(e.case_id for e in entries if e.ok):
        assert case_id is not None
        assert encoded.engine.history(case_id) == live.engine.history(case_id)
        assert encoded.engine.case_state(case_id) == live.engine.case_state(case_id)
