"""The in-process store: dicts and a heap, for tests, one-off runs and `retainflow run`.

Input/output: the `Store` Protocol of `retainflow.stores.base`. Case states are kept as
live objects (the engine core changes them in place, so no copy is made per input);
with `compact=True`, those of cases that are done for now (no pending timer, no active
instance) are kept encoded (`retainflow.stores.codec`): one bytes object of about 2 KB
instead of some forty objects and 8.5 KB, decoded when the case is read. That is a
quarter of the memory and shorter garbage-collector pauses for a store that keeps many
finished cases, for about as much CPU time as the collector saves (encoding a case that
has been in memory for a while costs 60-70 us: docs/engine.md); the
timer index is a heap of integer keys (microseconds since the epoch, then the creation
sequence, in one int: comparing ints is several times cheaper than comparing tuples of
datetimes) with lazy deletion; the ledger is a list per client kept in time order.

A transaction that raises undoes the clock, sequence, timer and ledger changes and the
cases it created (from a journal of what it changed: no copy is taken up front); changes
made in place to existing case states stay (only a bug in the engine raises there:
rejections happen before anything changes).
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
from retainflow.runtime.state import CaseState, Timer
from retainflow.stores.base import DueTimer, StoreTransaction, WorkflowSource
from retainflow.stores.codec import dump_state, load_state

__all__ = ["MemoryStore"]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SEQ_BITS = 64  # a heap key is (microseconds since the epoch) << 64 | sequence
_SEQ_MASK = (1 << _SEQ_BITS) - 1
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__
_heappush = heapq.heappush


def _micros(at: dt.datetime) -> int:
    """Microseconds since the epoch, from the fields of the difference: `timedelta //
    timedelta` costs about three times as much, and so does hashing a fresh aware
    datetime (a memo would)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _key(at: dt.datetime, seq: int) -> int:
    """The heap key of a timer: orders by time, then by creation sequence."""
    return (_micros(at) << _SEQ_BITS) | seq


class MemoryStore:
    """Everything in memory; `MemoryStore()` is the engine's default store."""

    def __init__(self, *, compact: bool = False) -> None:
        self.compact = compact
        self.cases: dict[str, CaseState | bytes] = {}  # bytes: a case done for now
        self._thawed: dict[str, CaseState] = {}  # encoded cases decoded in this transaction
        # cases done for now, still live, oldest first: encoded once `_KEEP_LIVE` more
        # cases were saved (a case that gets another input soon is not encoded for nothing)
        self._resting: dict[str, None] = {}
        self.clock: dt.datetime | None = None
        self.seq = 0
        self._heap: list[int] = []  # `_key`s, live or cancelled
        self._live: dict[int, DueTimer] = {}  # seq -> pending timer
        self._ledger: dict[str, list[Grant]] = {}
        self._ledger_keys: dict[str, list[tuple[dt.datetime, int]]] = {}
        self._grant_count = 0
        self._workflows: dict[tuple[str, int], WorkflowSource] = {}
        # What the open transaction changed, for its undo: a case id (str) created, a timer
        # seq (int) added, a DueTimer removed (cancelled or fired), (client, index) of a grant.
        self._journal: list[Any] | None = None
        self._until: dt.datetime | None = None  # the last `pop_due` bound and its key
        self._until_key = 0
        self._tx = _Transaction(self)

    # ---- Store --------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        return self._tx

    def _undo(self, saved: tuple[dt.datetime | None, int]) -> None:
        self.clock, self.seq = saved
        added = False
        for item in reversed(self._journal or []):
            if isinstance(item, str):
                self.cases.pop(item, None)
            elif type(item) is int:
                self._live.pop(item, None)
                added = True
            elif isinstance(item, DueTimer):
                self._live[item.seq] = item
                heapq.heappush(self._heap, _key(item.at, item.seq))
            else:
                client, index = item
                del self._ledger[client][index]
                del self._ledger_keys[client][index]
        if added:
            # the undone timers' sequence numbers will be given out again: drop their keys
            live = self._live
            self._heap = [
                key
                for key in self._heap
                if (timer := live.get(key & _SEQ_MASK)) is not None
                and key == _key(timer.at, timer.seq)
            ]
            heapq.heapify(self._heap)

    def save_workflow(self, workflow: WorkflowSource) -> None:
        self._workflows.setdefault((workflow.name, workflow.version), workflow)

    def workflow_source(self, name: str, version: int) -> WorkflowSource | None:
        return self._workflows.get((name, version))

    def case_ids(self) -> Iterator[str]:
        return iter(list(self.cases))

    def is_done(self, case_id: str) -> bool:
        """The case is stored and done for now: no pending timer, no active instance (only
        a new input can change it)."""
        found = self.cases.get(case_id)
        return found is not None and (type(found) is bytes or _done_for_now(found))  # type: ignore[arg-type]

    def release(self, case_id: str) -> bool:
        """Forget a case that is done for now (`is_done`), outside a transaction; False,
        and nothing forgotten, for any other case. For a batch run that has given the case
        its last input and kept its records: its state would otherwise stay in memory,
        traversed by every full pass of the garbage collector, until the run ends. The
        ledger keeps the case's grants."""
        assert not self._tx.depth, "release inside a transaction"
        if not self.is_done(case_id):
            return False
        del self.cases[case_id]
        self._resting.pop(case_id, None)
        return True

    def case_history(self, case_id: str) -> list[tuple[Any, ...]] | None:
        state = self.load_case(case_id)
        if not self._tx.depth:
            self._thawed.clear()
        return None if state is None else list(state.history)

    # ---- StoreTransaction ---------------------------------------------------------------

    def get_clock(self) -> dt.datetime | None:
        return self.clock

    def set_clock(self, at: dt.datetime) -> None:
        self.clock = at

    def load_case(self, case_id: str) -> CaseState | None:
        found = self.cases.get(case_id)
        if type(found) is bytes:
            # decoded once per transaction: the engine may load a case more than once
            state = self._thawed.get(case_id)
            if state is None:
                state = self._thawed[case_id] = load_state(found)
            return state
        return found  # type: ignore[return-value]  # a CaseState or None

    def save_case(self, state: CaseState) -> None:
        case_id = state.case_id
        if case_id not in self.cases and self._journal is not None:
            self._journal.append(case_id)
        self.cases[case_id] = state
        if self.compact:
            resting = self._resting
            if case_id in resting:
                del resting[case_id]
            if _done_for_now(state):
                resting[case_id] = None

    def _rest(self) -> None:
        """Encode the cases done for now beyond the `_KEEP_LIVE` latest (at the end of a
        transaction: within one, a case's state stays one object)."""
        resting, cases = self._resting, self.cases
        while len(resting) > _KEEP_LIVE:
            oldest = next(iter(resting))
            del resting[oldest]
            found = cases.get(oldest)
            if found is not None and type(found) is not bytes:
                cases[oldest] = dump_state(found)  # type: ignore[arg-type]

    def take_seq(self) -> int:
        return self.seq

    def put_seq(self, next_seq: int) -> None:
        if next_seq > self.seq:
            self.seq = next_seq

    def add_timer(self, timer: DueTimer) -> None:
        seq = timer.seq
        self._live[seq] = timer
        delta = timer.at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        heapq.heappush(self._heap, (micros << _SEQ_BITS) | seq)
        if self._journal is not None:
            self._journal.append(seq)

    def cancel_timer(self, seq: int) -> None:
        timer = self._live.pop(seq, None)
        if timer is not None and self._journal is not None:
            self._journal.append(timer)

    def pop_due(self, until: dt.datetime) -> DueTimer | None:
        heap = self._heap
        if not heap:
            return None
        if until is not self._until:
            self._until = until
            # every key below this one is due at or before `until` (`_micros` inlined: this
            # runs for nearly every input, and inputs rarely share an instant)
            delta = until - _EPOCH
            micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
            self._until_key = (micros + 1) << _SEQ_BITS
        limit = self._until_key
        live = self._live
        while heap and heap[0] < limit:
            timer = live.pop(heapq.heappop(heap) & _SEQ_MASK, None)
            if timer is not None:  # else it was cancelled
                if self._journal is not None:
                    self._journal.append(timer)
                return timer
        return None

    def take_effects(
        self,
        state: CaseState,
        timers: list[Timer],
        cancelled: list[int],
        grants: list[Grant],
        next_seq: int,
    ) -> dt.datetime | None:
        """What the engine hands a store after each input, in one call: `add_timer` for
        each of the core's new timers, `cancel_timer`, `add_grant`, `put_seq` and
        `save_case`, in that order; empties the three lists and returns the earliest new
        timer. Only for `Engine` inside a transaction: it runs once per input, and the
        separate calls (one per timer) were a fifth of the store's time."""
        journal = self._journal
        assert journal is not None, "take_effects outside a transaction"
        earliest = None
        if timers:
            case_id = state.case_id
            live, heap = self._live, self._heap
            for timer in timers:
                at, seq = timer.at, timer.seq
                live[seq] = _new(DueTimer, (at, seq, case_id))
                delta = at - _EPOCH  # `_key`, inlined
                micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
                _heappush(heap, (micros << _SEQ_BITS) | seq)
                journal.append(seq)
                if earliest is None or at < earliest:
                    earliest = at
            timers.clear()
        if cancelled:
            pop = self._live.pop
            for seq in cancelled:
                removed = pop(seq, None)
                if removed is not None:
                    journal.append(removed)
            cancelled.clear()
        if grants:
            for grant in grants:
                self.add_grant(grant)
            grants.clear()
        if next_seq > self.seq:
            self.seq = next_seq
        self.save_case(state)
        return earliest

    def next_wakeup(self) -> dt.datetime | None:
        heap, live = self._heap, self._live
        while heap:
            timer = live.get(heap[0] & _SEQ_MASK)
            if timer is not None:
                return timer.at
            heapq.heappop(heap)
        return None

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
            self._journal.append((client, index))

    def all_grants(self) -> list[Grant]:
        """The whole ledger, oldest first (for reports)."""
        return sorted((g for grants in self._ledger.values() for g in grants), key=lambda g: g.at)


# How many cases that are done for now stay live before the oldest is encoded.
_KEEP_LIVE = 64


def _done_for_now(state: CaseState) -> bool:
    """No pending timer and no active instance: only a new input can change the case."""
    if state.timers:
        return False
    for flow in state.flows.values():
        instances = flow.instances
        if instances and instances[-1].status == "active":
            return False
    return True


class _Transaction:
    """`with store.transaction():` without a generator (it runs once per engine call);
    one journal list, emptied after each transaction, serves them all."""

    __slots__ = ("clock", "depth", "journal", "seq", "store")

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.depth = 0
        self.clock: dt.datetime | None = None  # the clock and sequence to restore
        self.seq = 0
        self.journal: list[Any] = []

    def __enter__(self) -> StoreTransaction:
        store = self.store
        if not self.depth:
            store._journal = self.journal
            self.clock = store.clock
            self.seq = store.seq
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
        store = self.store
        if kind is not None:
            store._undo((self.clock, self.seq))
        elif len(store._resting) > _KEEP_LIVE:
            store._rest()
        store._journal = None
        if self.journal:
            self.journal.clear()
        if store._thawed:
            store._thawed.clear()
