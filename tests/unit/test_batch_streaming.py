"""A streaming run (`run_entries(release=True)`, what `retainflow run` does without
`--store`): cases that can no longer change are released from the memory store as the run
goes, and nothing else shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_engine_support import at, flow

import retainflow
from retainflow import Engine, MemoryStore
from retainflow.caseio import check_case, load_cases
from retainflow.results import dumps_line
from retainflow.runtime.batch import run_entries

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ["reactive_retention", "complaint_loyalty", "sla_recovery", "account_checkins"]
EXAMPLES.append("crisis_response")

WAITS = """
case { client: text }
trigger t on open
start a
step a { on go -> done; on later -> snooze }
step snooze { wait 2h; -> done }
outcome done as retained
"""


@pytest.mark.parametrize("name", EXAMPLES)
def test_streaming_gives_the_records_of_a_run_that_keeps_every_case(name: str) -> None:
    workflow = retainflow.load(ROOT / "workflows" / f"{name}.rflow")
    entries = load_cases(ROOT / "examples" / f"{name}.cases.yaml", [workflow])
    kept = run_entries(workflow, entries)
    streamed = run_entries(workflow, entries, release=True)
    assert streamed.lines() == [dumps_line(record) for record in kept.records]
    assert streamed.records == [json.loads(dumps_line(r)) for r in kept.records]
    assert streamed.failed == kept.failed
    released = {e.case_id for e in entries if e.ok} - set(streamed.engine.store.case_ids())
    assert released  # every example has cases that end before the file does
    texts = [
        r["case"]
        for item, r in zip(streamed.items, streamed.records, strict=True)
        if isinstance(item, str)
    ]
    assert set(texts) == released  # their records kept as JSON Lines text


def entry(index: int, case_id: str, minutes: float, *events: tuple[str, float]) -> object:
    data = {
        "id": case_id,
        "client": "x",
        "at": at(minutes=minutes).isoformat(),
        "events": [{"type": kind, "at": at(minutes=m).isoformat()} for kind, m in events],
    }
    return check_case(index, data, [flow(WAITS)])


def test_a_case_stays_until_its_last_input_and_until_it_is_done() -> None:
    workflow = flow(WAITS)
    entries = [
        entry(0, "ENDS", 0, ("open", 1), ("go", 2)),  # done at minute 2: released
        entry(1, "AGAIN", 0, ("open", 1), ("go", 2)),  # done, but submitted again below
        entry(2, "WAITS", 0, ("open", 1)),  # still waiting at the end: kept
        entry(3, "TIMER", 0, ("open", 1), ("later", 3)),  # a timer: done at 2h 3m
        entry(4, "AGAIN", 600, ("open", 601), ("go", 602)),  # (after TIMER's timer)
    ]
    for item in entries:
        assert item.ok, item.error  # type: ignore[attr-defined]
    output = run_entries(workflow, entries, release=True)  # type: ignore[arg-type]
    assert sorted(output.engine.store.case_ids()) == ["WAITS"]
    records = output.records
    assert [(r["case"], r["instance"], r["status"]) for r in records] == [
        ("ENDS", 1, "ended"),
        ("AGAIN", 1, "ended"),
        ("AGAIN", 2, "ended"),
        ("WAITS", 1, "waiting"),
        ("TIMER", 1, "ended"),
    ]
    assert records == run_entries(workflow, entries).records  # type: ignore[arg-type]


@pytest.mark.parametrize(("minutes", "kept"), [(120, ["OTHER", "TIMER"]), (123, ["OTHER"])])
def test_a_case_done_on_a_timer_is_released_once_the_run_has_passed_that_timer(
    minutes: float, kept: list[str]
) -> None:
    workflow = flow(WAITS)
    entries = [
        entry(0, "TIMER", 0, ("open", 1), ("later", 3)),  # done at 3 minutes + 2 hours
        entry(1, "OTHER", 0, ("open", minutes)),  # an input at or before that time
    ]
    output = run_entries(workflow, entries, release=True)  # type: ignore[arg-type]
    assert sorted(output.engine.store.case_ids()) == kept
    assert [r["status"] for r in output.records] == ["ended", "waiting"]


def test_an_error_record_of_a_released_case_fails_the_run() -> None:
    workflow = flow("""
        case { client: text }
        trigger t on open
        start a
        step a { on ping when event.flag -> done }
        outcome done
    """)
    data = {
        "id": "X",
        "client": "x",
        "at": at().isoformat(),
        "events": [
            {"type": "open", "at": at(1).isoformat()},
            {"type": "ping", "flag": 5, "at": at(2).isoformat()},
        ],
    }
    output = run_entries(workflow, [check_case(0, data, [workflow])], release=True)
    assert list(output.engine.store.case_ids()) == []
    assert output.failed and output.records[0]["status"] == "error"


def test_the_memory_store_releases_only_cases_done_for_now() -> None:
    store = MemoryStore()
    engine = Engine([flow(WAITS)], store=store)
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at(1))
    assert not store.is_done("C") and not store.release("C")  # an active instance
    engine.handle("C", {"type": "later"}, at=at(2))
    assert not store.release("C")  # a pending timer
    engine.advance(at(5))
    assert store.is_done("C") and store.release("C")
    assert engine.case_state("C") is None and not store.release("C")
    assert not store.is_done("NEVER")
    with store.transaction(), pytest.raises(AssertionError):
        store.release("C")
