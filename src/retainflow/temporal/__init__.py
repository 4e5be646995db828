"""retainflow on Temporal: each case a durable Temporal workflow running the same engine.

Install with the extra: `pip install 'retainflow[temporal]'`. The core package never
imports this one (nor temporalio).

    from retainflow.temporal import RetainflowClient, SQLiteLedger, connect, create_worker

    client = await connect("127.0.0.1:7233")
    async with create_worker(client, "retainflow", ledger=SQLiteLedger("ledger.db")):
        rf = RetainflowClient(client, [retainflow.load("playbook.rflow")], "retainflow")
        await rf.submit({"id": "C-1", ...}, at=at)
        await rf.handle("C-1", {"type": "call_logged", "id": "ev-1"}, at=later)
        line = await rf.get("C-1")     # the run-results line of the latest instance

Modules: `workflow` (the case workflow), `activities` (ledger and host actions),
`ledger` (the shared ledger backends), `store` (the case's store inside its workflow),
`client`, `worker` (also `python -m retainflow.temporal.worker`), `converter` (the
wire form), `messages`. See docs/temporal.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported on first use, so that `python -m retainflow.temporal.worker` runs its module
# once (runpy warns when the package has imported it already).
_EXPORTS = {
    "ActionHandler": "retainflow.temporal.activities",
    "RetainflowActivities": "retainflow.temporal.activities",
    "RetainflowClient": "retainflow.temporal.client",
    "TemporalRuntime": "retainflow.temporal.client",
    "connect": "retainflow.temporal.client",
    "with_converter": "retainflow.temporal.client",
    "workflow_id": "retainflow.temporal.client",
    "DATA_CONVERTER": "retainflow.temporal.converter",
    "LedgerBackend": "retainflow.temporal.ledger",
    "MemoryLedger": "retainflow.temporal.ledger",
    "SQLiteLedger": "retainflow.temporal.ledger",
    "ActionRequest": "retainflow.temporal.messages",
    "RunOptions": "retainflow.temporal.messages",
    "create_worker": "retainflow.temporal.worker",
    "sandbox_runner": "retainflow.temporal.worker",
    "CaseWorkflow": "retainflow.temporal.workflow",
}

if TYPE_CHECKING:
    from retainflow.temporal.activities import ActionHandler, RetainflowActivities
    from retainflow.temporal.client import (
        RetainflowClient,
        TemporalRuntime,
        connect,
        with_converter,
        workflow_id,
    )
    from retainflow.temporal.converter import DATA_CONVERTER
    from retainflow.temporal.ledger import LedgerBackend, MemoryLedger, SQLiteLedger
    from retainflow.temporal.messages import ActionRequest, RunOptions
    from retainflow.temporal.worker import create_worker, sandbox_runner
    from retainflow.temporal.workflow import CaseWorkflow

__all__ = [
    "DATA_CONVERTER",
    "ActionHandler",
    "ActionRequest",
    "CaseWorkflow",
    "LedgerBackend",
    "MemoryLedger",
    "RetainflowActivities",
    "RetainflowClient",
    "RunOptions",
    "SQLiteLedger",
    "TemporalRuntime",
    "connect",
    "create_worker",
    "sandbox_runner",
    "with_converter",
    "workflow_id",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'retainflow.temporal' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
