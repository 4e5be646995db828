"""Helpers of the Temporal tests: where shared/ is, a time-skipping environment, and a
driver that feeds a case file through the Temporal runtime on one timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from retainflow import EventRejected
from retainflow.caseio import CaseEntry, read_document
from retainflow.compile import Workflow
from retainflow.results import rejected_record
from retainflow.runtime.batch import default_until
from retainflow.temporal import ActionRequest, RetainflowClient, RunOptions
from tests.support import SHARED

EXAMPLE = SHARED / "conformance" / "run" / "reactive_retention"


@asynccontextmanager
async def time_skipping(test_server: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(test_server))
    try:
        yield env
    finally:
        await env.shutdown()


class Recorder:
    """Host action handlers that remember every request (by idempotency key)."""

    def __init__(self) -> None:
        self.calls: list[ActionRequest] = []

    async def __call__(self, request: ActionRequest) -> None:
        self.calls.append(request)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.calls]


def offset_for(first: dt.datetime, temporal_now: dt.datetime) -> RunOptions:
    """Options whose case clock puts `first` a minute after Temporal's current time."""
    delta = (first - dt.timedelta(minutes=1)) - temporal_now
    return RunOptions(clock_offset_us=delta // dt.timedelta(microseconds=1))


async def sleep_until(
    env: WorkflowEnvironment, options: RunOptions, case_time: dt.datetime
) -> None:
    """Skip Temporal's clock to the instant that is `case_time` on the case clock."""
    target = case_time - dt.timedelta(microseconds=options.clock_offset_us)
    now = await env.get_current_time()
    if target > now:
        await env.sleep(target - now)


async def run_timeline(
    env: WorkflowEnvironment,
    rf: RetainflowClient,
    workflow: Workflow,
    entries: Sequence[CaseEntry],
    raw_cases: Sequence[Any],
) -> list[dict[str, Any]]:
    """What `retainflow run` does, through Temporal: every input at its time on one
    timeline (timers skipped to by the test server), then the records in file order."""
    inputs: list[tuple[dt.datetime, int, int, CaseEntry]] = []
    for entry in entries:
        if entry.ok and entry.at is not None:
            inputs.append((entry.at.astimezone(dt.UTC), entry.index, 0, entry))
            for event in entry.events:
                inputs.append((event.at.astimezone(dt.UTC), entry.index, event.index, entry))
    inputs.sort(key=lambda item: item[:3])
    horizon = default_until(entries)
    late: dict[int, str] = {}
    rejected: dict[int, str] = {}
    for entry in entries:  # bad data: the client rejects it before any workflow starts
        if not entry.ok:
            raw = dict(raw_cases[entry.index])
            raw.pop("events", None)
            try:
                await rf.submit(raw)
            except EventRejected as error:
                rejected[entry.index] = str(error)
    for at, _, sub, entry in inputs:
        if horizon is not None and at > horizon:
            continue
        await sleep_until(env, rf.options, at)
        assert entry.case_id is not None
        try:
            if sub == 0:
                await rf.submit(entry.data, at=at)
            else:
                await rf.handle(entry.case_id, entry.events[sub - 1].raw, at=at)
        except EventRejected as error:
            late.setdefault(entry.index, str(error))
    if horizon is not None:
        await sleep_until(env, rf.options, horizon)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry.ok or entry.case_id is None:
            error = rejected.get(entry.index, entry.error or "rejected")
            records.append(rejected_record(workflow, entry.case_id, error))
            continue
        if entry.index in late:
            records.append(rejected_record(workflow, entry.case_id, late[entry.index]))
        if entry.case_id in seen:
            continue
        seen.add(entry.case_id)
        records.extend(await rf.records(entry.case_id))
    return records


def raw_cases(path: Path) -> list[Any]:
    document = read_document(path)
    if isinstance(document, dict):
        document = document["cases"]
    assert isinstance(document, list)
    return document


# ---- small workflows of the runtime tests ------------------------------------------------

FOLLOWUP = """\
workflow followup version {version}
title "Follow up on an unhappy client"

case {{
  client: text
  arr: money(USD)
  active: bool
}}

event answered {{ score: number }}

trigger opened when case.active

limit compensation per client 300 USD over 365d

start ask

step ask {{
  do survey(kind: "{kind}")
  every 1d up to 2
  due 5d
  on answered when event.score >= 4 -> happy
  on answered -> sorry
  on timeout -> lost
}}

step sorry {{
  offer credit 200 USD label "sorry"
  when offer.status in ["granted", "capped"] -> happy
  -> lost
}}

outcome happy as retained
outcome lost as churned
"""


def followup(version: int = 1, kind: str = "csat") -> Workflow:
    import retainflow

    return retainflow.load(FOLLOWUP.format(version=version, kind=kind))


WAITER = """\
workflow waiter version 1

case {
  fast: bool
}

trigger go when true or case.fast

start triage

step triage {
  when case.fast -> quick
  -> slow
}

step quick {
  do ping(n: 1)
  due 8s
  on reply -> done
  on timeout -> late
}

step slow {
  do ping(n: 2)
  due 1h
  on reply -> done
  on timeout -> late
}

outcome done as retained
outcome late as churned
"""

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def runtime(
    test_server: Path, workflows: Sequence[Workflow], task_queue: str = "rt", **options: Any
) -> AsyncIterator[tuple[WorkflowEnvironment, RetainflowClient, Recorder]]:
    """A time-skipping server, a worker, and a client whose case clock starts at T0."""
    from retainflow.temporal import create_worker

    recorder = Recorder()
    async with time_skipping(test_server) as env:
        base = offset_for(T0, await env.get_current_time())
        opts = RunOptions(clock_offset_us=base.clock_offset_us, **options)
        async with create_worker(env.client, task_queue, default_action=recorder):
            yield env, RetainflowClient(env.client, workflows, task_queue, options=opts), recorder
