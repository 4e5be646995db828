"""The messages between the client, the case workflow and the activities.

Plain dataclasses of JSON types; user data (case fields, payloads, action arguments)
travels in `Any` fields in the wire form of `retainflow.temporal.converter`. Names are
part of the durable contract: a field added later needs a default, so that histories and
continue-as-new inputs written by an older version still load.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = [
    "ActionRequest",
    "CaseInput",
    "LedgerReply",
    "LedgerRequest",
    "RunOptions",
    "SourceInfo",
    "StartInput",
]

WORKFLOW_TYPE = "retainflow.case"
LEDGER_ACTIVITY = "retainflow.ledger_sync"
ACTION_ACTIVITY = "retainflow.action"


@dataclasses.dataclass
class SourceInfo:
    """One pinned workflow version: what `load_source` needs, and the hash to check."""

    name: str
    version: int
    content_hash: str
    source: str
    path: str | None = None


@dataclasses.dataclass
class RunOptions:
    """Per-case settings fixed when the case workflow starts (carried on continue-as-new).

    `clock_offset_us`: case time = Temporal time + this offset (0 in production; a replay
    of a past timeline, as the tests do, shifts Temporal's clock onto the case times).
    `max_inputs_per_run`: continue-as-new after this many inputs (or when Temporal
    suggests it). `dispatch_actions`: run host actions as activities. `ledger_local`:
    run the ledger activity as a local activity, in the worker that runs the case (a
    regular activity, scheduled through the server, otherwise).
    """

    clock_offset_us: int = 0
    max_inputs_per_run: int = 1000
    dispatch_actions: bool = True
    action_timeout_ms: int = 60_000
    action_max_attempts: int = 10
    ledger_timeout_ms: int = 30_000
    ledger_local: bool = True


@dataclasses.dataclass
class StartInput:
    """The case workflow's input: the case, its pinned versions and, after a
    continue-as-new, the state it carries."""

    case_id: str
    workflow: str  # the retainflow workflow's name
    sources: list[SourceInfo]  # every version the case knows; the last is the current one
    options: RunOptions = dataclasses.field(default_factory=RunOptions)
    carried: dict[str, Any] | None = None  # CaseStore.carry() after continue-as-new


@dataclasses.dataclass
class CaseInput:
    """One input for a case: `kind` is submit, event, move or cancel.

    `at` is the input's time (ISO 8601 with an offset); None means "now" on the case's
    clock (`workflow.now()` plus the clock offset).
    """

    kind: str
    at: str | None = None
    data: dict[str, Any] | None = None  # submit: the case's fields; event: the event
    step: str | None = None  # move
    reason: str | None = None  # move, cancel


@dataclasses.dataclass
class ActionRequest:
    """A host action for the service's handler, with its idempotency key.

    `key` is `WORKFLOW_ID/RUN/INSTANCE/N` (RUN is the case workflow's first run id, N
    counts the instance's actions from 1): the same action always has the same key,
    across retries, replays and continue-as-new; a case started afresh after its
    workflow was terminated gets new keys.
    `args` are in run-results form (money "5000.00 USD", durations "10d", times "...Z").
    """

    key: str
    case: str
    workflow: str
    version: int
    instance: int
    step: str
    name: str
    args: dict[str, Any]
    at: str


@dataclasses.dataclass
class LedgerRequest:
    """Check-and-append on the shared ledger, atomically.

    `expected` maps each client whose grants the engine read to the ledger version it
    read (the number of that client's grants; -1: never read). When every version still
    matches, `grants` are appended and `ok` is true; otherwise nothing is written and the
    reply carries the current grants. `key` makes a retried commit idempotent.
    """

    key: str
    expected: dict[str, int]
    grants: list[dict[str, Any]]


@dataclasses.dataclass
class LedgerReply:
    ok: bool
    ledgers: dict[str, Any]  # client -> {"version": n, "grants": [grant dicts]}
