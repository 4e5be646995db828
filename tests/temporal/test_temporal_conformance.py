"""shared/conformance/run/reactive_retention through the Temporal runtime.

Every case of cases.yaml runs as its own case workflow in the time-skipping test server,
on one timeline (timers fire as the server skips time; R5a/R5b/R5c share client wayne's
ledger through the ledger activity); the records read back by query must equal
expected.jsonl field by field, as for `retainflow run` (error by prefix; R6a is
rejected by the client before any workflow starts).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

pytest.importorskip("temporalio")

from temporalio.worker import Replayer

import retainflow
from retainflow.caseio import load_cases
from retainflow.temporal import (
    DATA_CONVERTER,
    CaseWorkflow,
    RetainflowClient,
    create_worker,
    sandbox_runner,
)
from tests.support import compare_records, expected_records
from tests.temporal.helpers import (
    EXAMPLE,
    Recorder,
    offset_for,
    raw_cases,
    run_timeline,
    time_skipping,
)

pytestmark = pytest.mark.skipif(not EXAMPLE.is_dir(), reason="shared/ is not beside the project")


def test_conformance_records_match_expected_jsonl(test_server_path: Path) -> None:
    workflow = retainflow.load(EXAMPLE / "reactive_retention.rflow")
    entries = load_cases(EXAMPLE / "cases.yaml", [workflow])
    first = min(e.at for e in entries if e.at is not None)
    recorder = Recorder()

    async def scenario() -> list[dict[str, object]]:
        async with time_skipping(test_server_path) as env:
            options = offset_for(first, await env.get_current_time())
            async with create_worker(env.client, "conformance", default_action=recorder):
                rf = RetainflowClient(env.client, [workflow], "conformance", options=options)
                records = await run_timeline(
                    env, rf, workflow, entries, raw_cases(EXAMPLE / "cases.yaml")
                )
                # R6a never got a case workflow: the client rejected its data first.
                assert await _exists(rf, "R6a") is False
                await _drained(rf, {r["case"] for r in records if r["instance"] is not None})
                # Replaying the recorded histories gives the same commands: the case
                # workflow is deterministic (the ledger case R5a, the paused SLA of R3).
                histories = [
                    await rf.handle_of("reactive_retention", case).fetch_history()
                    for case in ("C-1001", "R3", "R5a", "R7")
                ]
                replayer = Replayer(
                    workflows=[CaseWorkflow],
                    workflow_runner=sandbox_runner(),
                    data_converter=DATA_CONVERTER,
                )
                for history in histories:
                    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
                    assert result.replay_failure is None, history.workflow_id
                return records

    records = asyncio.run(asyncio.wait_for(scenario(), 120))
    compare_records([json.loads(json.dumps(r)) for r in records], expected_records())
    # Every action of every record went to the host once, under its own key.
    want = [
        (r["case"], r["instance"], n, a["name"])
        for r in records
        for n, a in enumerate(r["actions"], start=1)
    ]
    got = sorted((c.case, c.instance, int(c.key.rsplit("/", 1)[1]), c.name) for c in recorder.calls)
    assert got == sorted(want)
    assert len(set(recorder.keys)) == len(recorder.keys)


async def _drained(rf: RetainflowClient, cases: set[str]) -> None:
    """Wait until every case has dispatched all its actions."""
    for case in sorted(cases):
        for _ in range(200):
            if (await rf.status(case))["pending_actions"] == 0:
                break
            await asyncio.sleep(0.05)


async def _exists(rf: RetainflowClient, case_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await rf.handle_of("reactive_retention", case_id).describe()
    except RPCError:
        return False
    return True
