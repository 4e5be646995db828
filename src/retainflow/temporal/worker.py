"""The worker: runs case workflows and the runtime's activities on a task queue.

    python -m retainflow.temporal.worker --address 127.0.0.1:7233 --task-queue retainflow \\
        --ledger ledger.db workflows/reactive_retention.rflow

Input: a Temporal address, namespace and task queue; the `.rflow` files the service
runs (compiled at start, so a broken file stops the worker before it takes work, and
kept warm in the compile cache: the workflow itself runs the source pinned in each
case's history, whatever files the worker was given); a ledger (`--ledger FILE` for a
SQLite ledger shared by the host's workers; in memory without); host action handlers
(`--actions MODULE:ATTR`, a mapping of action name to handler, or a callable that
returns one). Output: a running worker until SIGINT or SIGTERM.

From Python, `create_worker(client, task_queue, ledger=..., actions=...)` gives a
`temporalio.worker.Worker` to run in a service's own event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import temporalio.client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from retainflow.temporal.activities import ActionHandler, RetainflowActivities
from retainflow.temporal.client import connect, with_converter
from retainflow.temporal.ledger import LedgerBackend, MemoryLedger, SQLiteLedger
from retainflow.temporal.store import compiled, source_info
from retainflow.temporal.workflow import CaseWorkflow

__all__ = ["PASSTHROUGH_MODULES", "create_worker", "main", "sandbox_runner"]

log = logging.getLogger("retainflow.temporal")

# The engine is deterministic by construction (no clock, no I/O, no randomness), and
# its dependencies are not sandbox-safe to re-import (lark, attrs, zoneinfo objects):
# they are passed through, imported once per process.
PASSTHROUGH_MODULES = (
    "retainflow",
    "lark",
    "attrs",
    "attr",
    "networkx",
    "holidays",
    "yaml",
    "dateutil",
    "zoneinfo",
    "tzdata",
    "click",
)


def sandbox_runner() -> SandboxedWorkflowRunner:
    """Temporal's workflow sandbox, with retainflow and its dependencies passed through."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def create_worker(
    client: temporalio.client.Client,
    task_queue: str,
    *,
    ledger: LedgerBackend | None = None,
    actions: Mapping[str, ActionHandler] | None = None,
    default_action: ActionHandler | None = None,
    **options: Any,
) -> Worker:
    """A worker for the case workflow and the ledger and action activities.

    `options` go to `temporalio.worker.Worker` (e.g. `max_concurrent_activities`).
    """
    activities = RetainflowActivities(ledger or MemoryLedger(), actions, default_action)
    options.setdefault("workflow_runner", sandbox_runner())
    return Worker(
        with_converter(client),
        task_queue=task_queue,
        workflows=[CaseWorkflow],
        activities=activities.all,
        **options,
    )


def _load_actions(spec: str) -> Mapping[str, ActionHandler]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"--actions wants MODULE:ATTR, got {spec!r}")
    value = getattr(importlib.import_module(module_name), attr)
    if callable(value) and not isinstance(value, Mapping):
        value = value()
    if not isinstance(value, Mapping):
        raise SystemExit(f"--actions {spec}: not a mapping of action name to handler")
    return value


async def _serve(args: argparse.Namespace) -> int:
    import retainflow

    for path in args.workflows:
        try:
            wf = retainflow.load(path)
        except (OSError, UnicodeDecodeError, retainflow.CompileError) as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            return 2
        compiled(source_info(wf))  # warm the cache (and check the hash round trip)
        log.info("loaded %s version %s (%s)", wf.name, wf.version, wf.content_hash[:12])
    ledger: LedgerBackend = SQLiteLedger(args.ledger) if args.ledger else MemoryLedger()
    actions = _load_actions(args.actions) if args.actions else None
    client = await connect(args.address, namespace=args.namespace)
    worker = create_worker(client, args.task_queue, ledger=ledger, actions=actions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print(
            f"retainflow worker on {args.address} namespace {args.namespace} "
            f"task queue {args.task_queue}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retainflow.temporal.worker",
        description="Run retainflow case workflows on a Temporal task queue.",
    )
    parser.add_argument("workflows", nargs="*", metavar="WORKFLOW.rflow")
    parser.add_argument("--address", default="127.0.0.1:7233")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", default="retainflow")
    parser.add_argument("--ledger", metavar="FILE", help="SQLite ledger file (default: memory)")
    parser.add_argument("--actions", metavar="MODULE:ATTR", help="host action handlers")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(message)s")
    return asyncio.run(_serve(args))


if __name__ == "__main__":
    sys.exit(main())
