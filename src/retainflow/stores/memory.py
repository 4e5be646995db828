"""The in-process store: dicts and a heap, for tests, one-off runs and `retainflow run`.

Input/output: the `Store` Protocol of `retainflow.stores.base`. Case states are kept as
live objects (the engine core changes them in place, so no copy is made per input); the
timer index is a heap of (time, sequence, case) with lazy deletion; the ledger is a list
per client kept in time order.

A transaction that raises undoes the clock, sequence, timer and ledger changes and the
cases it created; changes made in place to existing case states stay (only a bug in the
engine raises there: rejections happen before anything changes).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from retainflow.ledger import Grant
from retainflow.runtime.state import CaseState
from retainflow.stores.base import DueTimer, StoreTransaction, WorkflowSource

__all__ = ["MemoryStore"]


class MemoryStore:
    """Everything in memory; `MemoryStore()` is the engine's default store."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseState] = {}
        self.clock: dt.datetime | None = None
        self.seq = 0
        self._heap: list[tuple[dt.datetime, int, str]] = []
        self._live: dict[int, DueTimer] = {}
        self._ledger: dict[str, list[Grant]] = {}
        self._ledger_keys: dict[str, list[tuple[dt.datetime, int]]] = {}
        self._grant_count = 0
        self._workflows: dict[tuple[str, int], WorkflowSource] = {}
        self._journal: list[tuple[str, Any]] | None = None
        self._tx = _Transaction(self)

    # ---- Store --------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        return self._tx

    def _undo(self, saved: tuple[dt.datetime | None, int]) -> None:
        self.clock, self.seq = saved
        for kind, item in reversed(self._journal or []):
            if kind == "case":
                self.cases.pop(item, None)
            elif kind == "timer":
                self._live.pop(item, None)
            elif kind == "cancel":
                self._live[item.seq] = item
                heapq.heappush(self._heap, (item.at, item.seq, item.case_id))
            elif kind == "grant":
                client, index = item
                del self._ledger[client][index]
                del self._ledger_keys[client][index]

    def save_workflow(self, workflow: WorkflowSource) -> None:
        self._workflows.setdefault((workflow.name, workflow.version), workflow)

    def workflow_source(self, name: str, version: int) -> WorkflowSource | None:
        return self._workflows.get((name, version))

    def case_ids(self) -> Iterator[str]:
        return iter(list(self.cases))

    # ---- StoreTransaction ---------------------------------------------------------------

    def get_clock(self) -> dt.datetime | None:
        return self.clock

    def set_clock(self, at: dt.datetime) -> None:
        self.clock = at

    def load_case(self, case_id: str) -> CaseState | None:
        return self.cases.get(case_id)

    def save_case(self, state: CaseState) -> None:
        if state.case_id not in self.cases:
            self.cases[state.case_id] = state
            if self._journal is not None:
                self._journal.append(("case", state.case_id))

    def take_seq(self) -> int:
        return self.seq

    def put_seq(self, next_seq: int) -> None:
        self.seq = max(self.seq, next_seq)

    def add_timer(self, timer: DueTimer) -> None:
        self._live[timer.seq] = timer
        heapq.heappush(self._heap, (timer.at, timer.seq, timer.case_id))
        if self._journal is not None:
            self._journal.append(("timer", timer.seq))

    def cancel_timer(self, seq: int) -> None:
        timer = self._live.pop(seq, None)
        if timer is not None and self._journal is not None:
            self._journal.append(("cancel", timer))

    def _clean_top(self) -> None:
        heap, live = self._heap, self._live
        while heap and heap[0][1] not in live:
            heapq.heappop(heap)

    def pop_due(self, until: dt.datetime) -> DueTimer | None:
        self._clean_top()
        if not self._heap or self._heap[0][0] > until:
            return None
        _, seq, _ = heapq.heappop(self._heap)
        timer = self._live.pop(seq)
        if self._journal is not None:
            self._journal.append(("cancel", timer))
        return timer

    def next_wakeup(self) -> dt.datetime | None:
        self._clean_top()
        return self._heap[0][0] if self._heap else None

    def pending_timers(self) -> list[DueTimer]:
        """Every live timer, in firing order (for tests and status displays)."""
        return sorted(self._live.values())

    def grants(self, client: str) -> Sequence[Grant]:
        return self._ledger.get(client, ())

    def add_grant(self, grant: Grant) -> None:
        client = grant.client or ""
        grants = self._ledger.setdefault(client, [])
        keys = self._ledger_keys.setdefault(client, [])
        self._grant_count += 1
        key = (grant.at, self._grant_count)
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        grants.insert(index, grant)
        if self._journal is not None:
            self._journal.append(("grant", (client, index)))

    def all_grants(self) -> list[Grant]:
        """The whole ledger, oldest first (for reports)."""
        return sorted((g for grants in self._ledger.values() for g in grants), key=lambda g: g.at)


class _Transaction:
    """`with store.transaction():` without a generator (it runs once per engine call)."""

    __slots__ = ("depth", "saved", "store")

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.depth = 0
        self.saved: tuple[dt.datetime | None, int] = (None, 0)

    def __enter__(self) -> StoreTransaction:
        store = self.store
        if self.depth == 0:
            store._journal = []
            self.saved = (store.clock, store.seq)
        self.depth += 1
        return store

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.depth -= 1
        if self.depth:
            return
        if kind is not None:
            self.store._undo(self.saved)
        self.store._journal = None
