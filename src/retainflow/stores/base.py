"""The store Protocol: what the engine needs from persistence, one transaction per call.

Input: the engine's reads and writes during one API call (`submit`, `handle`, `advance`,
`move`, `cancel`). Output: durable case states, a timer index ordered by (time, creation
sequence), the shared compensation ledger, the store's clock and the sources of the
workflow versions that have instances.

Every engine call opens `store.transaction()` and does all its reads and writes through
the object it yields; leaving the `with` block normally commits everything at once, an
exception discards it (a SQLite store maps this to one `BEGIN IMMEDIATE ... COMMIT`, so
several engines may share a file: a timer fires once and an event applies once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

import attrs

from retainflow.ledger import Grant
from retainflow.runtime.state import CaseState

__all__ = ["DueTimer", "Store", "StoreError", "StoreTransaction", "WorkflowSource"]


class StoreError(Exception):
    """A store file that cannot be used (missing, not a retainflow store, unreadable)."""


class DueTimer(NamedTuple):
    """One entry of the timer index: when, creation sequence, and whose (orders by time,
    then sequence)."""

    at: dt.datetime
    seq: int
    case_id: str


@attrs.frozen
class WorkflowSource:
    name: str
    version: int
    content_hash: str
    source: str
    path: str | None


class StoreTransaction(Protocol):
    """Reads and writes of one engine call; committed together when the block ends."""

    def get_clock(self) -> dt.datetime | None:
        """The store's clock: the latest time the engine advanced to (None at first)."""

    def set_clock(self, at: dt.datetime) -> None: ...

    def load_case(self, case_id: str) -> CaseState | None:
        """The case's state, to be changed and handed back with `save_case`."""

    def save_case(self, state: CaseState) -> None: ...

    def take_seq(self) -> int:
        """The next timer creation sequence number (store-wide, increasing)."""

    def put_seq(self, next_seq: int) -> None:
        """Set the next sequence number after the core allocated some."""

    def add_timer(self, timer: DueTimer) -> None: ...

    def cancel_timer(self, seq: int) -> None: ...

    def pop_due(self, until: dt.datetime) -> DueTimer | None:
        """Remove and return the earliest live timer due at or before `until`."""

    def next_wakeup(self) -> dt.datetime | None: ...

    def grants(self, client: str) -> Sequence[Grant]:
        """Every grant of `client` (all cases and workflows), oldest first."""

    def add_grant(self, grant: Grant) -> None: ...


class Store(Protocol):
    """A place the engine keeps its state in (see the module docstring)."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]: ...

    def save_workflow(self, workflow: WorkflowSource) -> None:
        """Keep the source of a workflow version (idempotent)."""

    def workflow_source(self, name: str, version: int) -> WorkflowSource | None: ...

    def case_ids(self) -> Iterator[str]:
        """Every case id the store knows, in first-submission order."""

    def case_history(self, case_id: str) -> list[tuple[Any, ...]] | None:
        """The case's whole history (`CaseState.history` entries, oldest first), or None
        for an unknown case. A store may keep the history apart from the case state it
        hands the engine (the SQLite store does: the state it loads holds only the
        entries added since), so readers ask the store, never the state."""

    def next_wakeup(self) -> dt.datetime | None:
        """The earliest pending timer, outside any transaction."""
