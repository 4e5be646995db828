"""The store of one case inside its Temporal workflow, and the compiled-workflow cache.

Input: the embedded `Engine`'s reads and writes (the `Store` Protocol of
`retainflow.stores.base`) for the single case a Temporal workflow owns. Output: the
case's state, timers and clock kept in workflow memory (Temporal makes them durable by
replaying the workflow's inputs, and `carry()` moves them across continue-as-new), and a
record of which clients' ledgers the engine read and which grants it made during one
call, for the ledger activity to check and commit.

The case workflow runs the same `Engine` as an embedded service, so validation,
deduplication, time checks, timers-before-inputs and the pure core are the same code.

This module is imported passed through the workflow sandbox: compiling a workflow
(lark, attrs, zoneinfo, holidays) happens here, deterministically, and compiled
workflows are cached per process by content hash.
"""

from __future__ import annotations

import copy
import copyreg
import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from retainflow.api import load_source
from retainflow.compile import Workflow
from retainflow.engine import Engine
from retainflow.ledger import Grant
from retainflow.runtime.data import Plain
from retainflow.runtime.state import CaseState, dumps, loads
from retainflow.source import SourceFile
from retainflow.stores.base import DueTimer, StoreTransaction, WorkflowSource
from retainflow.temporal.ledger import grant_from_wire, grant_to_wire
from retainflow.temporal.messages import SourceInfo

__all__ = ["CaseEngine", "CaseStore", "compiled", "source_info"]

_CACHE: dict[str, Workflow] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def _plain_copy(value: Plain) -> tuple[type[Plain], tuple[str, Any]]:
    return Plain, (str(value), value.value)


copyreg.pickle(Plain, _plain_copy)  # snapshots deep-copy case data that may hold YAML scalars


class PinnedSourceError(ValueError):
    """A pinned source whose text does not match its content hash."""


def compiled(info: SourceInfo | WorkflowSource) -> Workflow:
    """The compiled workflow of a pinned source (cached by content hash; checked)."""
    with _CACHE_LOCK:
        found = _CACHE.get(info.content_hash)
    if found is not None:
        return found
    wf = load_source(SourceFile(info.path or f"<{info.name} v{info.version}>", info.source))
    if wf.content_hash != info.content_hash or (wf.name, wf.version) != (
        info.name,
        info.version,
    ):
        raise PinnedSourceError(
            f"pinned source of {info.name} version {info.version} does not match "
            f"its content hash {info.content_hash[:12]}"
        )
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[info.content_hash] = wf
    return wf


def source_info(wf: Workflow) -> SourceInfo:
    return SourceInfo(wf.name, wf.version, wf.content_hash, wf.source, wf.path)


class CaseEngine(Engine):
    """The embedded engine, resolving older versions through the compile cache."""

    def workflow(self, name: str, version: int | None = None) -> Workflow:
        if version is not None:
            stored = self.store.workflow_source(name, version)
            if stored is not None:
                return compiled(stored)
        return super().workflow(name, version)


class CaseStore:
    """A `Store` (and its transaction) for one case, in workflow memory."""

    def __init__(self) -> None:
        self.case: CaseState | None = None
        self.clock: dt.datetime | None = None
        self.seq = 0
        self.timers: dict[int, DueTimer] = {}
        self.sources: dict[tuple[str, int], WorkflowSource] = {}
        # The ledger as last seen from here: client -> (version, grants).
        self.ledgers: dict[str, tuple[int, list[Grant]]] = {}
        self.reads: set[str] = set()  # clients whose grants the engine read in this call
        self.added: list[Grant] = []  # grants made in this call

    # ---- Store ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        yield self

    def save_workflow(self, workflow: WorkflowSource) -> None:
        self.sources.setdefault((workflow.name, workflow.version), workflow)

    def workflow_source(self, name: str, version: int) -> WorkflowSource | None:
        return self.sources.get((name, version))

    def case_ids(self) -> Iterator[str]:
        return iter([self.case.case_id] if self.case is not None else [])

    def case_history(self, case_id: str) -> list[tuple[Any, ...]] | None:
        if self.case is None or self.case.case_id != case_id:
            return None
        return list(self.case.history)

    def next_wakeup(self) -> dt.datetime | None:
        if not self.timers:
            return None
        return min(self.timers.values()).at

    # ---- StoreTransaction -----------------------------------------------------------

    def get_clock(self) -> dt.datetime | None:
        return self.clock

    def set_clock(self, at: dt.datetime) -> None:
        self.clock = at

    def load_case(self, case_id: str) -> CaseState | None:
        if self.case is not None and self.case.case_id == case_id:
            return self.case
        return None

    def save_case(self, state: CaseState) -> None:
        self.case = state

    def take_seq(self) -> int:
        return self.seq

    def put_seq(self, next_seq: int) -> None:
        self.seq = max(self.seq, next_seq)

    def add_timer(self, timer: DueTimer) -> None:
        self.timers[timer.seq] = timer

    def cancel_timer(self, seq: int) -> None:
        self.timers.pop(seq, None)

    def pop_due(self, until: dt.datetime) -> DueTimer | None:
        if not self.timers:
            return None
        first = min(self.timers.values())
        if first.at > until:
            return None
        del self.timers[first.seq]
        return first

    def grants(self, client: str) -> Sequence[Grant]:
        self.reads.add(client)
        seen = self.ledgers.get(client)
        found = list(seen[1]) if seen is not None else []
        found.extend(g for g in self.added if (g.client or "") == client)
        return found

    def add_grant(self, grant: Grant) -> None:
        self.added.append(grant)

    # ---- one engine call ---------------------------------------------------------------

    def begin(self) -> Any:
        """Start an engine call: forget the last call's reads, return a snapshot."""
        self.reads = set()
        self.added = []
        return (copy.deepcopy(self.case), dict(self.timers), self.seq, self.clock)

    def restore(self, snapshot: Any) -> None:
        """Undo an engine call (the ledger refused it, or the engine failed)."""
        case, timers, seq, clock = snapshot
        self.case = copy.deepcopy(case)
        self.timers = dict(timers)
        self.seq = seq
        self.clock = clock
        self.reads = set()
        self.added = []

    @property
    def needs_ledger(self) -> bool:
        return bool(self.reads or self.added)

    def expected(self) -> dict[str, int]:
        return {client: self.ledgers.get(client, (-1, []))[0] for client in sorted(self.reads)}

    def learn(self, ledgers: dict[str, Any]) -> None:
        """Take the ledger versions and grants a ledger reply carries."""
        for client, body in ledgers.items():
            grants = [grant_from_wire(item) for item in body["grants"]]
            self.ledgers[client] = (int(body["version"]), grants)

    # ---- continue-as-new ---------------------------------------------------------------

    def carry(self) -> dict[str, Any]:
        return {
            "state": None if self.case is None else dumps(self.case),
            "clock": None if self.clock is None else self.clock.isoformat(),
            "seq": self.seq,
            "timers": [[t.at.isoformat(), t.seq] for t in sorted(self.timers.values())],
            "ledgers": {
                client: {"version": version, "grants": [grant_to_wire(g) for g in grants]}
                for client, (version, grants) in self.ledgers.items()
            },
        }

    def take(self, carried: dict[str, Any]) -> None:
        state = carried.get("state")
        self.case = None if state is None else loads(state)
        clock = carried.get("clock")
        self.clock = None if clock is None else dt.datetime.fromisoformat(clock)
        self.seq = int(carried.get("seq", 0))
        case_id = self.case.case_id if self.case is not None else ""
        self.timers = {
            int(seq): DueTimer(dt.datetime.fromisoformat(at), int(seq), case_id)
            for at, seq in carried.get("timers", [])
        }
        self.learn(carried.get("ledgers", {}))
