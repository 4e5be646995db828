"""`retainflow run`'s timeline: validated case entries in, one engine fed in time order.

Input: case entries (`caseio.CaseEntry`, file order), earlier grants, `until`. Output:
the run-result records in the file order of cases (tools.md, "Case files"): every
input on one timeline, equal instants in file order (cases as listed, a case's
submission before its events, events as listed), every timer due at or before an input
fired first, events after `until` not delivered, timers up to `until` fired at the end.
With `release=True` the run streams: a case that can no longer change is taken out of the
memory store as soon as it is done (its records kept as JSON Lines text).
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from retainflow.api import EventRejected, UnknownCase
from retainflow.caseio import CaseEntry
from retainflow.compile import Workflow
from retainflow.engine import Engine
from retainflow.ledger import Grant
from retainflow.results import dumps_line, not_triggered_record, rejected_record
from retainflow.stores.base import Store
from retainflow.stores.memory import MemoryStore

__all__ = ["RunOutput", "default_until", "run_entries"]

DEFAULT_HORIZON = dt.timedelta(days=365)
# From this many cases on, a run that keeps every case (not `release`) keeps the finished
# ones encoded (`MemoryStore(compact=True)`): 2 KB rather than 8.5 KB each, same run time.
COMPACT_FROM = 10_000


@attrs.frozen
class RunOutput:
    """The records of a run in file order, each a dict or, for a case a streaming run
    released, its JSON Lines text (a str, which the garbage collector does not traverse,
    instead of some sixteen dicts and lists a record is); the engine; and whether any
    record is an error."""

    items: list[dict[str, Any] | str]
    engine: Engine
    failed: bool

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(item) if isinstance(item, str) else item for item in self.items]

    def lines(self) -> list[str]:
        """Every record as its JSON Lines line (`results.dumps_line`), without newline."""
        return [item if isinstance(item, str) else dumps_line(item) for item in self.items]


def default_until(entries: Sequence[CaseEntry]) -> dt.datetime | None:
    """365 days after the latest time in the file (None when it has no valid time)."""
    times = [e.at for e in entries if e.at is not None]
    times.extend(ev.at for e in entries for ev in e.events)
    return max(times) + DEFAULT_HORIZON if times else None


def run_entries(
    workflow: Workflow,
    entries: Sequence[CaseEntry],
    *,
    ledger: Sequence[Grant] = (),
    until: dt.datetime | None = None,
    store: Store | None = None,
    progress: Callable[[int], None] | None = None,
    release: bool = False,
) -> RunOutput:
    """Run `entries` on one timeline (see the module's docstring).

    `release=True` (what `retainflow run` does without `--store`) streams: once a case has
    had its last input of the file and is done for now (no pending timer, no active
    instance: nothing can change it any more), its records are taken and its state is
    dropped from the run's memory store, so memory and the garbage collector's passes grow
    with the cases in progress, not with the file. `RunOutput.engine` then no longer knows
    those cases. Ignored with a `store` given (a persistent store keeps every case)."""
    memory: MemoryStore | None = None
    if store is None:
        # a big run keeps its finished cases encoded: a quarter of the memory
        store = memory = MemoryStore(compact=not release and len(entries) > COMPACT_FROM)
    engine = Engine([workflow], store=store)
    if ledger:
        engine.seed(ledger)
    horizon = until if until is not None else default_until(entries)
    inputs: list[tuple[dt.datetime, int, int, CaseEntry]] = []
    for entry in entries:
        if entry.ok and entry.at is not None:
            inputs.append((entry.at.astimezone(dt.UTC), entry.index, 0, entry))
            for event in entry.events:
                inputs.append((event.at.astimezone(dt.UTC), entry.index, event.index, entry))
    inputs.sort(key=lambda item: item[:3])
    if horizon is not None:
        inputs = [item for item in inputs if item[0] <= horizon]
    releaser = _Releaser(engine, memory, inputs) if release and memory is not None else None
    late: dict[int, str] = {}  # entry index -> a rejection while running
    for position, (at, _, sub, entry) in enumerate(inputs):
        case_id = entry.case_id
        assert case_id is not None
        try:
            if sub == 0:
                engine.submit(entry.data, at=at)
            else:
                engine.handle(case_id, entry.events[sub - 1].raw, at=at)
        except EventRejected as error:
            late.setdefault(entry.index, str(error))
        if sub == 0 and progress is not None:
            progress(1)
        if releaser is not None:
            releaser.after(position, case_id, at)
    if horizon is not None:
        engine.advance(horizon)
    items: list[dict[str, Any] | str] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry.ok or entry.case_id is None:
            items.append(rejected_record(workflow, entry.case_id, entry.error or "rejected"))
            continue
        if entry.index in late:
            items.append(rejected_record(workflow, entry.case_id, late[entry.index]))
        if entry.case_id in seen:
            continue
        seen.add(entry.case_id)
        released = None if releaser is None else releaser.taken.pop(entry.case_id, None)
        if released is not None:
            items.extend(released)
            continue
        try:
            items.extend(engine.records(entry.case_id))
        except UnknownCase:  # submitted after --until: never seen by the engine
            client = entry.data.get("client")
            items.append(
                not_triggered_record(
                    workflow, entry.case_id, None if client is None else str(client), None, None
                )
            )
    failed = (releaser is not None and releaser.failed) or any(
        not isinstance(item, str) and item["status"] == "error" for item in items
    )
    return RunOutput(items, engine, failed)


class _Releaser:
    """What a streaming run does after each input: a case that has had its last input of
    the run and is done for now gives its records (as JSON Lines text) and leaves the
    memory store. A case that still has timers then is looked at again once the run has
    passed its latest timer (the timers due by an input's time fire before it); a case
    with an active instance and no timer waits for an event the file does not have, so it
    stays to the end."""

    def __init__(
        self,
        engine: Engine,
        memory: MemoryStore,
        inputs: Sequence[tuple[dt.datetime, int, int, CaseEntry]],
    ) -> None:
        self.engine = engine
        self.memory = memory
        self.last_input: dict[str | None, int] = {}  # case id -> position of its last input
        for position, (_, _, _, entry) in enumerate(inputs):
            self.last_input[entry.case_id] = position
        self.waiting: list[tuple[dt.datetime, str]] = []  # heap: (latest timer, case id)
        self.taken: dict[str, list[str]] = {}  # released cases' records, as JSON Lines
        self.failed = False  # a released case had an error record

    def after(self, position: int, case_id: str, at: dt.datetime) -> None:
        if self.last_input[case_id] == position:
            self.settle(case_id)
        waiting = self.waiting
        while waiting and waiting[0][0] <= at:
            self.settle(heapq.heappop(waiting)[1])

    def settle(self, case_id: str) -> None:
        state = self.memory.cases.get(case_id)
        if state is None or isinstance(state, bytes):  # never stored (or kept encoded)
            return
        if state.timers:
            latest = max(timer.at for timer in state.timers.values())
            heapq.heappush(self.waiting, (latest, case_id))
        elif self.memory.is_done(case_id):
            records = self.engine.records(case_id)
            self.failed = self.failed or any(r["status"] == "error" for r in records)
            self.taken[case_id] = [dumps_line(record) for record in records]
            self.memory.release(case_id)
