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
from retainflow.temporal import RetainflowClient, connect
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
def worker(address: str, flow: Path, ledger: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "retainflow", "worker", "--temporal", address]
    command += ["--task-queue", "restart", "--ledger", str(ledger), str(flow)]
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


async def _client(address: str, flow: Any) -> RetainflowClient:
    deadline = time.monotonic() + 20
    while True:
        try:
            return RetainflowClient(await connect(address), [flow], "restart")
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
