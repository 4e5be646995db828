"""The Temporal runtime against the embedded engine: duplicates, continue-as-new,
version pinning, the shared ledger, rejections. Each test runs the same inputs through
`retainflow.Engine` and through case workflows in the time-skipping test server and
compares the run-results records."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

import retainflow
from tests.temporal.helpers import followup, hours, runtime, sleep_until


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def plain(records: Any) -> Any:
    return json.loads(json.dumps(records))


CASE_A = {"id": "A", "client": "acme", "arr": "1000 USD", "active": True}
CASE_B = {"id": "B", "client": "acme", "arr": "2000 USD", "active": True}


def test_duplicate_event_ids_apply_once(test_server_path: Path) -> None:
    wf = followup()
    engine = retainflow.Engine([wf])
    engine.submit(CASE_A, at=hours(0))
    for event, at in [
        ({"type": "ping", "id": "e1"}, hours(1)),
        ({"type": "ping", "id": "e1"}, hours(2)),  # re-sent later: duplicate
        ({"type": "ping", "id": "e2"}, hours(3)),
        ({"type": "ping", "id": "e2"}, hours(3)),  # re-sent at once: duplicate
        ({"type": "answered", "score": 5, "id": "e3"}, hours(4)),
    ]:
        engine.handle("A", event, at=at)
    want = engine.records("A")

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        async with runtime(test_server_path, [wf]) as (_env, rf, _):
            await rf.submit(CASE_A, at=hours(0))
            first = await rf.handle("A", {"type": "ping", "id": "e1"}, at=hours(1))
            # The same call retried (same id and time): Temporal's update id absorbs it
            # and answers with the first result.
            again = await rf.handle("A", {"type": "ping", "id": "e1"}, at=hours(1))
            assert again == first
            await rf.handle("A", {"type": "ping", "id": "e1"}, at=hours(2))
            await rf.signal("A", {"type": "ping", "id": "e2"}, at=hours(3))
            await rf.signal("A", {"type": "ping", "id": "e2"}, at=hours(3))
            last = await rf.handle("A", {"type": "answered", "score": 5, "id": "e3"}, at=hours(4))
            return await rf.records("A"), first, last

    got, first, last = run(scenario())
    assert first["ignored"] == [
        {"at": "2026-01-05T10:00:00Z", "type": "ping", "id": "e1", "reason": "no handler"}
    ]
    assert last["ignored"] == []
    assert plain(got) == plain(want)
    reasons = [i["reason"] for i in got[0]["ignored"]]
    assert reasons == ["no handler", "duplicate", "no handler", "duplicate"]


def test_continue_as_new_keeps_the_case(test_server_path: Path) -> None:
    wf = followup()
    engine = retainflow.Engine([wf])
    inputs: list[tuple[str, Any, dt.datetime]] = [
        ("submit", CASE_A, hours(0)),
        ("event", {"type": "ping", "id": "p1"}, hours(1)),
        ("event", {"type": "ping", "id": "p2"}, hours(30)),  # after the first survey repeat
        ("event", {"type": "ping", "id": "p1"}, hours(31)),  # duplicate across runs
        ("event", {"type": "answered", "score": 1, "id": "s1"}, hours(60)),
    ]
    for kind, body, at in inputs:
        if kind == "submit":
            engine.submit(body, at=at)
        else:
            engine.handle("A", body, at=at)
    want = engine.records("A")

    async def scenario() -> tuple[list[dict[str, Any]], set[str], dict[str, Any]]:
        async with runtime(test_server_path, [wf], max_inputs_per_run=2) as (env, rf, _rec):
            runs = set()
            for kind, body, at in inputs:
                await sleep_until(env, rf.options, at)
                if kind == "submit":
                    await rf.submit(body, at=at)
                else:
                    await rf.handle("A", body, at=at)
                await asyncio.sleep(0.05)
                runs.add((await rf.handle_of("followup", "A").describe()).run_id or "")
            await sleep_until(env, rf.options, hours(24 * 7))
            status = await rf.status("A")
            return await rf.records("A"), runs, status

    got, runs, status = run(scenario())
    assert plain(got) == plain(want)
    assert len(runs) >= 3  # the case moved to new runs and kept everything
    assert status["inputs"] >= len(inputs) and status["run_inputs"] < status["inputs"]


def test_versions_are_pinned_per_case(test_server_path: Path) -> None:
    v1, v2 = followup(1, "csat"), followup(2, "nps")

    async def scenario() -> dict[str, Any]:
        async with runtime(test_server_path, [v1]) as (_env, rf1, _):
            await rf1.submit(CASE_A, at=hours(0))
            from retainflow.temporal import RetainflowClient

            rf2 = RetainflowClient(rf1.client, [v2], rf1.task_queue, options=rf1.options)
            await rf2.submit(CASE_B, at=hours(1))
            # A keeps running on version 1, whichever client talks to it.
            await rf2.handle("A", {"type": "answered", "score": 5, "id": "a1"}, at=hours(2))
            a1 = await rf2.get("A")
            b1 = await rf2.get("B")
            # After an upgrade, the case's next instance starts on version 2.
            await rf2.upgrade("A", v2)
            await rf2.handle("A", {"type": "case_updated", "active": False}, at=hours(3))
            await rf2.handle("A", {"type": "case_updated", "active": True}, at=hours(4))
            records = await rf2.records("A")
            status = await rf2.status("A")
            return {"a1": a1, "b1": b1, "records": records, "status": status}

    out = run(scenario())
    assert out["a1"]["version"] == 1 and out["a1"]["outcome"] == "happy"
    assert out["a1"]["actions"][0]["args"] == {"kind": "csat"}
    assert out["b1"]["version"] == 2
    assert out["b1"]["actions"][0]["args"] == {"kind": "nps"}
    assert [(r["instance"], r["version"]) for r in out["records"]] == [(1, 1), (2, 2)]
    assert out["records"][1]["actions"][0]["args"] == {"kind": "nps"}
    assert out["status"]["versions"] == [1, 2]


@pytest.mark.parametrize("local", [True, False], ids=["local-activity", "activity"])
def test_two_cases_of_one_client_never_over_grant(test_server_path: Path, local: bool) -> None:
    """Both cases offer at once against a 300 USD per-client limit: one gets 200, the
    other only what is left, whatever order the ledger sees them in."""
    wf = followup()

    async def scenario() -> list[dict[str, Any]]:
        async with runtime(test_server_path, [wf], ledger_local=local) as (_env, rf, _):
            await rf.submit(CASE_A, at=hours(0))
            await rf.submit(CASE_B, at=hours(0))
            await asyncio.gather(
                rf.handle("A", {"type": "answered", "score": 1, "id": "a"}, at=hours(1)),
                rf.handle("B", {"type": "answered", "score": 1, "id": "b"}, at=hours(1)),
            )
            return [await rf.get("A"), await rf.get("B")]

    lines = run(scenario())
    offers = sorted((o["status"], o["amount"]) for line in lines for o in line["offers"])
    assert offers == [("capped", "100.00 USD"), ("granted", "200.00 USD")]


def test_rejections_are_the_engines(test_server_path: Path) -> None:
    wf = followup()

    async def scenario() -> None:
        async with runtime(test_server_path, [wf]) as (_env, rf, _):
            with pytest.raises(retainflow.EventRejected, match="case A: field arr"):
                await rf.submit({**CASE_A, "arr": "lots"}, at=hours(0))
            with pytest.raises(retainflow.UnknownCase):
                await rf.handle("A", {"type": "ping"}, at=hours(0))
            await rf.submit(CASE_A, at=hours(2))
            with pytest.raises(retainflow.EventRejected, match="older than"):
                await rf.handle("A", {"type": "ping"}, at=hours(1))
            with pytest.raises(retainflow.EventRejected, match="event answered"):
                await rf.handle("A", {"type": "answered", "score": "x"}, at=hours(3))
            with pytest.raises(ValueError, match="naive"):
                await rf.handle("A", {"type": "ping"}, at=dt.datetime(2026, 1, 5, 12))
            # A signal cannot answer: its rejection shows in the status.
            await rf.signal("A", {"type": "ping"}, at=hours(1))
            await asyncio.sleep(0.2)
            status = await rf.status("A")
            assert status["rejections"][-1]["type"] == "EventRejected"
            cancelled = await rf.cancel("A", reason="duplicate case", at=hours(5))
            assert cancelled["errors"] == []
            line = await rf.get("A")
            assert line is not None and line["status"] == "cancelled"

    run(scenario())


def test_temporal_runtime_has_engines_calls_and_reads_the_workers_ledger(
    test_server_path: Path,
) -> None:
    """Issue #8's client API: `TemporalRuntime(client, task_queue, workflows)` with
    `submit`, `handle`, `get` and `ledger` (the ledger the workers grant through)."""
    from retainflow.temporal import MemoryLedger, TemporalRuntime, create_worker
    from tests.temporal.helpers import T0, offset_for, time_skipping

    wf = followup()
    engine = retainflow.Engine([wf])
    engine.submit(CASE_A, at=hours(0))
    engine.handle("A", {"type": "answered", "score": 1, "id": "a"}, at=hours(1))

    async def scenario() -> tuple[Any, list[Any], str]:
        ledger = MemoryLedger()
        async with time_skipping(test_server_path) as env:
            options = offset_for(T0, await env.get_current_time())
            async with create_worker(env.client, "tr", ledger=ledger):
                rt = TemporalRuntime(env.client, "tr", [wf], ledger=ledger, options=options)
                await rt.submit(CASE_A, at=hours(0))
                await rt.handle("A", {"type": "answered", "score": 1, "id": "a"}, at=hours(1))
                line = await rt.get("A")
                grants = await rt.ledger("acme")
                without = TemporalRuntime(env.client, "tr", [wf], options=options)
                with pytest.raises(ValueError, match="ledger=SQLiteLedger"):
                    await without.ledger("acme")
                return line, grants, rt.task_queue

    line, grants, queue = run(scenario())
    assert queue == "tr"
    assert plain(line) == plain(engine.records("A")[-1])
    assert (
        [(g.case, str(g.amount)) for g in grants]
        == [(g.case, str(g.amount)) for g in engine.ledger("acme")]
        == [("A", "200.00 USD")]
    )
