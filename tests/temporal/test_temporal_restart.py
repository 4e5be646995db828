"""Durability on a real (local dev) server with a file database: waiting cases survive a
restart of the worker and of the server.

The worker runs as `retainflow worker --temporal ADDRESS` (the entry point services
use; `python -m retainflow.temporal.worker` is the same). Case `slow` waits for a reply
with a 1h due; case `fast` has a 5s due. The worker and then the server are stopped and
started again on the same database; then `slow` gets its reply and `fast`'s timer fires,
each taken up by the new worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from temporalio.client import WorkflowExecutionStatus

import retainflow
from retainflow.temporal import RetainflowClient, RunOptions, connect
from tests.temporal.helpers import WAITER, free_port


@contextlib.contextmanager
def dev_server(binary: Path, db: Path, port: int) -> Iterator[str]:
    args = [
        str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
        "--port", str(port), "--http-port", str(free_port()),
        "--metrics-port", str(free_port()), "--log-level", "warn", "--db-filename", str(db),
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def worker(
    address: str, flow: Path, ledger: Path, log: Path, actions: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "retainflow", "worker", "--temporal", address]
    command += ["--task-queue", "restart", "--ledger", str(ledger), str(flow)]
    if actions is not None:  # MODULE:ATTR, the module in the log's folder
        command += ["--actions", actions]
        env["PYTHONPATH"] = os.pathsep.join([str(log.parent), env.get("PYTHONPATH", "")])
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=out,
            env=env,
        )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _client(address: str, flow: Any, **options: Any) -> RetainflowClient:
    deadline = time.monotonic() + 20
    while True:
        try:
            run_options = RunOptions(**options) if options else None
            return RetainflowClient(await connect(address), [flow], "restart", options=run_options)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _until(rf: RetainflowClient, case: str, status: str, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        line = await rf.get(case)
        if line is not None and line["status"] == status:
            return line
        if time.monotonic() > deadline:
            raise AssertionError(f"{case}: still {line and line['status']}: {line}")
        await asyncio.sleep(0.3)


def test_waiting_cases_survive_worker_and_server_restarts(
    dev_server_path: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "waiter.rflow"
    flow.write_text(WAITER, encoding="utf-8")
    wf = retainflow.load(flow)
    db, ledger, log = tmp_path / "temporal.db", tmp_path / "ledger.db", tmp_path / "worker.log"
    port = free_port()

    async def first_half() -> None:
        with dev_server(dev_server_path, db, port) as address:
            rf = await _client(address, wf)
            with worker(address, flow, ledger, log):
                await rf.submit({"id": "slow", "fast": False})
                await rf.submit({"id": "fast", "fast": True})
                assert (await _until(rf, "slow", "waiting", 10))["path"] == ["triage", "slow"]
            # The worker is gone; the cases wait in the server's database.
            described = await rf.handle_of("waiter", "fast").describe()
            assert described.status == WorkflowExecutionStatus.RUNNING

    async def second_half() -> tuple[Any, Any, Any]:
        with dev_server(dev_server_path, db, port) as address:
            rf = await _client(address, wf)
            with worker(address, flow, ledger, log):
                await rf.handle("slow", {"type": "reply", "id": "r1"})
                slow = await _until(rf, "slow", "ended", 20)
                fast = await _until(rf, "fast", "ended", 20)
                status = await rf.status("fast")
                return slow, fast, status

    try:
        asyncio.run(asyncio.wait_for(first_half(), 60))
        slow, fast, status = asyncio.run(asyncio.wait_for(second_half(), 60))
    except BaseException:
        print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise
    assert slow["outcome"] == "done" and slow["path"] == ["triage", "slow", "done"]
    assert fast["outcome"] == "late" and fast["path"] == ["triage", "quick", "late"]
    assert [a["name"] for a in fast["actions"]] == ["ping"]
    assert status["pending_actions"] == 0 and status["failed_actions"] == []


GIVER = """\
workflow giver version 1

case {
  client: text
}

trigger go when true

limit compensation per client 300 USD

start give

step give {
  do note(n: 1)
  offer credit 100 USD
  when offer.status == "granted" -> done
  -> refused
}

outcome done as retained
outcome refused as churned
"""

# Host action handlers of the worker process: each call appends its idempotency key.
HANDLERS = """\
import os

def _note(request):
    with open(os.environ["RF_ACTIONS_LOG"], "a", encoding="utf-8") as out:
        out.write(f"{request.key} {request.case} {request.name}\\n")

HANDLERS = {"note": _note, "grant": _note}
"""


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(
    dev_server_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 cases of 4 clients offer at once against a 300 USD per-client limit; the worker
    is killed (SIGKILL) while they run and a new one takes over. Every case ends, each
    client has exactly its 3 grants of 100 USD (in the records and in the shared
    ledger), and every host action ran under its own key, none with two."""
    flow = tmp_path / "giver.rflow"
    flow.write_text(GIVER, encoding="utf-8")
    (tmp_path / "rf_handlers.py").write_text(HANDLERS, encoding="utf-8")
    calls = tmp_path / "actions.log"
    monkeypatch.setenv("RF_ACTIONS_LOG", str(calls))
    wf = retainflow.load(flow)
    db, ledger, log = tmp_path / "temporal.db", tmp_path / "ledger.db", tmp_path / "worker.log"
    port = free_port()
    cases = [(f"K{n}", f"client{n % 4}") for n in range(16)]

    async def scenario() -> list[Any]:
        with dev_server(dev_server_path, db, port) as address:
            # an action cut off by the kill is retried once its 3 s timeout passes
            rf = await _client(address, wf, action_timeout_ms=3_000)
            with worker(address, flow, ledger, log, "rf_handlers:HANDLERS") as first:
                sent = [asyncio.ensure_future(rf.submit({"id": c, "client": k})) for c, k in cases]
                while not calls.exists() or len(calls.read_text().splitlines()) < 6:
                    await asyncio.sleep(0.01)  # the first actions ran: the rest are on their way
                first.kill()  # SIGKILL: no shutdown, activities and updates cut off mid-flight
                first.wait()
            with worker(address, flow, ledger, log, "rf_handlers:HANDLERS"):
                for submitted in sent:  # a submission cut off is sent again, as a host would
                    with contextlib.suppress(Exception):
                        await submitted
                for (case, client), submitted in zip(cases, sent, strict=True):
                    if submitted.exception() is not None:
                        await rf.submit({"id": case, "client": client})
                ended = [await _until(rf, case, "ended", 60) for case, _ in cases]
                for case, _ in cases:  # and every action handed to the host
                    deadline = time.monotonic() + 90
                    while (await rf.status(case))["pending_actions"]:
                        assert time.monotonic() < deadline, await rf.status(case)
                        await asyncio.sleep(0.3)
                return ended

    try:
        lines = asyncio.run(asyncio.wait_for(scenario(), 240))
    except BaseException:
        print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise
    by_client: dict[str, list[str]] = {}
    for line in lines:
        (offer,) = line["offers"]
        by_client.setdefault(line["client"], []).append(offer["status"])
    assert {k: sorted(v) for k, v in by_client.items()} == {
        f"client{n}": ["granted", "granted", "granted", "refused"] for n in range(4)
    }
    from retainflow.temporal import SQLiteLedger

    shared = SQLiteLedger(str(ledger))
    for n in range(4):
        grants = shared.grants(f"client{n}")
        assert sorted(g.case or "" for g in grants) == sorted(
            line["case"]
            for line in lines
            if line["client"] == f"client{n}" and line["outcome"] == "done"
        )
    keys: dict[str, set[str]] = {}
    for row in calls.read_text(encoding="utf-8").splitlines():
        key, case, name = row.split()
        keys.setdefault(f"{case} {name}", set()).add(key)
    assert all(len(found) == 1 for found in keys.values()), keys  # retried: same key
    assert sorted(keys) == sorted(
        [f"{case} note" for case, _ in cases]
        + [f"{line['case']} grant" for line in lines if line["outcome"] == "done"]
    )
