"""The engine API for services: inputs with their times in, actions and records out.

    engine = Engine([retainflow.load("workflows/reactive_retention.rflow")])
    result = engine.submit({"id": "C-1", "client": "acme", ...}, at=at)
    result = engine.handle("C-1", {"type": "call_logged", "id": "ev-1"}, at=later)
    engine.advance(even_later)

Each call is one store transaction: it checks the input (naive times, unknown cases,
times older than the case or the store's clock, data against the schemas, re-sent
event ids and submissions), fires every timer due at or before the input's time (all
cases, in time order, creation order for ties), applies the input through the pure core
(`retainflow.runtime.core`) and commits. The engine never reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from retainflow.api import EventRejected, UnknownCase, load_source
from retainflow.compile import Workflow
from retainflow.exprs import Env, ExprError
from retainflow.ledger import Budget, EvaluatedLimit, Grant, budget_row
from retainflow.results import case_records, client_of, instance_record
from retainflow.runtime import core
from retainflow.runtime.data import RESERVED_EVENT_KEYS, DataError, Validator, case_id_of
from retainflow.runtime.state import (
    ActionRecord,
    CaseState,
    FlowState,
    IgnoredRecord,
    Instance,
    OfferRecord,
    SlaState,
    history_entry,
)
from retainflow.source import SourceFile
from retainflow.stores.base import DueTimer, Store, StoreTransaction, WorkflowSource
from retainflow.stores.memory import MemoryStore
from retainflow.values import Money, format_time

__all__ = ["Action", "Engine", "Ignored", "InstanceView", "Result", "Started", "TraceEntry"]

_UTC = dt.UTC
_DATETIME = dt.datetime
_TIMEZONE = dt.timezone  # fixed offsets: utcoffset() is never None
_object_new = object.__new__
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__
_NONE: tuple[Any, ...] = ()


@attrs.frozen
class Action:
    """An action for the host: when, for which case and workflow, from which step."""

    at: dt.datetime
    case: str
    workflow: str
    step: str
    name: str
    args: Mapping[str, Any]


@attrs.frozen
class Started:
    case: str
    workflow: str
    instance: int
    trigger: str | None
    at: dt.datetime


@attrs.frozen
class Ignored:
    at: dt.datetime
    case: str
    workflow: str
    type: str
    id: str | None
    reason: str


@attrs.frozen
class TraceEntry:
    at: dt.datetime
    case: str
    workflow: str
    instance: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.case}" + (f"#{self.instance}" if self.instance else "")
        return f"{format_time(self.at)} {self.workflow} {where}: {self.message}"


class Result:
    """What one engine call did: `.actions` (time order), `.started`, `.ignored`, `.trace`,
    and `.errors` (cases stopped by an error while running).

    It holds the core's effect tuples as they were collected; the `Action`, `Started`,
    `Ignored` and `TraceEntry` objects are built only when a property is read."""

    __slots__ = ("_actions", "_ignored", "_started", "_trace", "errors")

    def __init__(self) -> None:
        self._actions: Sequence[tuple[str, str, ActionRecord]] = _NONE
        self._started: Sequence[tuple[str, str, int, str | None, dt.datetime]] = _NONE
        self._ignored: Sequence[tuple[str, str, IgnoredRecord]] = _NONE
        self._trace: Sequence[tuple[dt.datetime, str, str, int | None, str]] = _NONE
        self.errors: list[str] = []

    @property
    def actions(self) -> list[Action]:
        return [Action(a.at, case, wf, a.step, a.name, a.args) for case, wf, a in self._actions]

    @property
    def started(self) -> list[Started]:
        return [Started(*item) for item in self._started]

    @property
    def ignored(self) -> list[Ignored]:
        return [Ignored(r.at, case, wf, r.type, r.id, r.reason) for case, wf, r in self._ignored]

    @property
    def trace(self) -> list[TraceEntry]:
        return [TraceEntry(*item) for item in self._trace]

    def __repr__(self) -> str:
        return (
            f"<Result {len(self._actions)} actions, {len(self._started)} started, "
            f"{len(self._ignored)} ignored, {len(self.errors)} errors>"
        )


class InstanceView:
    """A read view of one instance (`Engine.get`)."""

    def __init__(self, workflow: Workflow, state: CaseState, instance: Instance) -> None:
        self.workflow = workflow
        self._state = state
        self._inst = instance

    case = property(lambda self: self._state.case_id)
    number = property(lambda self: self._inst.number)
    trigger = property(lambda self: self._inst.trigger)
    step = property(lambda self: self._inst.step)
    outcome = property(lambda self: self._inst.outcome)
    started_at = property(lambda self: self._inst.started_at)
    ended_at = property(lambda self: self._inst.ended_at)
    error = property(lambda self: self._inst.error)

    @property
    def status(self) -> str:
        status = self._inst.status
        return "waiting" if status == "active" else status

    @property
    def phase(self) -> str:
        return self._inst.phase

    @property
    def path(self) -> list[str]:
        return list(self._inst.path)

    @property
    def slas(self) -> dict[str, SlaState]:
        return dict(self._inst.slas)

    @property
    def offers(self) -> list[OfferRecord]:
        return list(self._inst.offers)

    @property
    def actions(self) -> list[ActionRecord]:
        return list(self._inst.actions)

    @property
    def measures(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self._inst.measures.items()}

    @property
    def ignored(self) -> list[IgnoredRecord]:
        return list(self._inst.ignored)

    @property
    def timers(self) -> list[dict[str, Any]]:
        """The instance's pending timers, in firing order: kind, at, and SLA name."""
        found = [
            self._state.timers[seq]
            for seq in self._inst.timers.values()
            if seq in self._state.timers
        ]
        found.sort(key=lambda t: (t.at, t.seq))
        return [
            {"kind": t.kind, "at": t.at, "name": t.name, "step": self._inst.step} for t in found
        ]

    def to_json(self) -> dict[str, Any]:
        return instance_record(
            self.workflow, self._state.case_id, client_of(self._state), self._inst
        )

    def __repr__(self) -> str:
        return (
            f"<Instance {self.case}#{self.number} {self.workflow.name} {self.status} "
            f"at {self.step}>"
        )


def _no_grants(client: str) -> Sequence[Grant]:
    return ()


def grants_in_window(
    grants: Iterable[Grant], since: dt.datetime | None, until: dt.datetime | None
) -> list[Grant]:
    """The grants with `since` <= at < `until` (either bound may be None: open)."""
    low = None if since is None else _aware(since, "since")
    high = None if until is None else _aware(until, "until")
    return [g for g in grants if (low is None or g.at >= low) and (high is None or g.at < high)]


def _aware(at: Any, what: str = "at") -> dt.datetime:
    if type(at) is _DATETIME:
        tz = at.tzinfo
        if tz is _UTC:
            return at
        if type(tz) is _TIMEZONE or (tz is not None and at.utcoffset() is not None):
            return at.astimezone(_UTC)
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    if not isinstance(at, dt.datetime):
        raise ValueError(f"{what} must be a timezone-aware datetime, got {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} {at.isoformat()} is naive: give it a time zone")
    return at.astimezone(_UTC)


class Engine:
    """Runs workflows over cases; all state lives in the store (see tools.md "Embedding")."""

    def __init__(self, workflows: Iterable[Workflow], store: Store | None = None) -> None:
        # Several versions of a workflow may be given: new instances take the newest, the
        # older ones finish the instances pinned on them (the store keeps every source).
        given = tuple(workflows)
        newest: dict[str, Workflow] = {}
        self._versions: dict[tuple[str, int], Workflow] = {}
        for wf in given:
            if self._versions.setdefault(wf.key, wf).content_hash != wf.content_hash:
                raise ValueError(
                    f"workflow {wf.name} version {wf.version} is given twice with "
                    "different texts: a changed workflow needs a new version number"
                )
            best = newest.get(wf.name)
            if best is None or wf.version > best.version:
                newest[wf.name] = wf
        self.workflows: tuple[Workflow, ...] = tuple(newest.values())
        self.store: Store = store if store is not None else MemoryStore()
        # The default store, when it is the one in use, takes fast paths (`_apply`, `_run`):
        # its exact type only, as a subclass may change what they skip.
        self._memory = self.store if type(self.store) is MemoryStore else None
        self._ctx = core.Context(self.workflows, self.workflow, core.LedgerView(_no_grants), 0)
        self._check = Validator(self.workflows)
        for wf in given:
            self.store.save_workflow(
                WorkflowSource(wf.name, wf.version, wf.content_hash, wf.source, wf.path)
            )

    # ---- plumbing ---------------------------------------------------------------------------

    def workflow(self, name: str, version: int | None = None) -> Workflow:
        """A workflow by name (the engine's version, or a stored older one)."""
        if version is None:
            for wf in self.workflows:
                if wf.name == name:
                    return wf
            raise KeyError(f"no workflow {name!r} in this engine")
        found = self._versions.get((name, version))
        if found is None:
            stored = self.store.workflow_source(name, version)
            if stored is None:
                raise KeyError(f"workflow {name} version {version} is not in the store")
            found = load_source(SourceFile(stored.path or f"<{name} v{version}>", stored.source))
            self._versions[(name, version)] = found
        return found

    def _begin(self, tx: StoreTransaction) -> core.Context:
        """The engine's one context, pointed at this call's store (an Engine is used by one
        thread at a time; reusing it spares allocations on the hot path). Its effect lists
        are empty: `_result` takes them at the end of every call, `_reset` after an error."""
        ctx = self._ctx
        ctx.ledger.read = tx.grants
        ctx.seq = tx.take_seq()
        return ctx

    def _result(self) -> Result:
        """The effects the calls since `_begin` collected, as the call's Result (built
        without its `__init__`: this runs once per call)."""
        ctx = self._ctx
        result: Result = _object_new(Result)
        if ctx.actions:
            result._actions, ctx.actions = ctx.actions, []
        else:
            result._actions = _NONE
        if ctx.started:
            result._started, ctx.started = ctx.started, []
        else:
            result._started = _NONE
        if ctx.ignored:
            result._ignored, ctx.ignored = ctx.ignored, []
        else:
            result._ignored = _NONE
        if ctx.trace:
            result._trace, ctx.trace = ctx.trace, []
        else:
            result._trace = _NONE
        if ctx.errors:
            result.errors, ctx.errors = ctx.errors, []
        else:
            result.errors = []
        return result

    def _reset(self) -> None:
        """Forget the effects of a call that raised (its transaction is rolled back)."""
        ctx = self._ctx
        ctx.actions, ctx.started, ctx.ignored, ctx.trace, ctx.errors = [], [], [], [], []
        ctx.set.clear()
        ctx.cancelled.clear()
        ctx.ledger.added.clear()

    def _apply(
        self, tx: StoreTransaction, ctx: core.Context, state: CaseState, inp: core.Input
    ) -> dt.datetime | None:
        """Apply one input and hand its effects to the store; the earliest new timer."""
        seq = ctx.seq
        core.apply(ctx, state, inp)
        memory = self._memory
        if memory is not None and tx is memory:  # the same store calls, fused into one
            return memory.take_effects(state, ctx.set, ctx.cancelled, ctx.ledger.added, ctx.seq)
        earliest = None
        timers = ctx.set
        if timers:
            case_id = state.case_id
            add = tx.add_timer
            for timer in timers:
                at = timer.at
                add(_new(DueTimer, (at, timer.seq, case_id)))
                if earliest is None or at < earliest:
                    earliest = at
            timers.clear()
        cancelled = ctx.cancelled
        if cancelled:
            cancel = tx.cancel_timer
            for number in cancelled:
                cancel(number)
            cancelled.clear()
        added = ctx.ledger.added
        if added:
            for grant in added:
                tx.add_grant(grant)
            added.clear()
        if ctx.seq != seq:
            tx.put_seq(ctx.seq)
        tx.save_case(state)
        return earliest

    def _fire_until(self, tx: StoreTransaction, ctx: core.Context, until: dt.datetime) -> None:
        pop, load = tx.pop_due, tx.load_case
        while (due := pop(until)) is not None:
            state = load(due.case_id)
            if state is not None:
                self._apply(tx, ctx, state, _new(core.Fire, (due.at, due.seq)))

    def _check_time(
        self,
        tx: StoreTransaction,
        state: CaseState | None,
        case_id: str,
        at: dt.datetime,
        what: str,
    ) -> None:
        clock = tx.get_clock()
        if clock is not None and at < clock:
            raise EventRejected(
                f"case {case_id}: {what} at {format_time(at)} is older than "
                f"the store's clock ({format_time(clock)})"
            )
        if state is not None and state.last_at is not None and at < state.last_at:
            raise EventRejected(
                f"case {case_id}: {what} at {format_time(at)} is older than "
                f"the case's last applied time ({format_time(state.last_at)})"
            )

    def _run(
        self,
        tx: StoreTransaction,
        ctx: core.Context,
        case_id: str,
        at: dt.datetime,
        inp: core.Input,
        state: CaseState | None,
    ) -> None:
        """Fire what is due, apply `inp` and fire what the input made due at once (only
        `advance` moves the store's clock). `state` is the case as loaded before the
        firing (None if the store has none yet)."""
        self._fire_until(tx, ctx, at)
        if tx is not self._memory:  # another store may load a new copy after the firing
            state = tx.load_case(case_id)
        if state is None:  # (the memory store keeps live states: a firing never replaces one)
            state = CaseState(case_id)
        earliest = self._apply(tx, ctx, state, inp)
        if earliest is not None and earliest <= at:  # e.g. an `at` trigger already due
            self._fire_until(tx, ctx, at)

    # ---- inputs -----------------------------------------------------------------------------

    def submit(self, case_data: Mapping[str, Any], at: dt.datetime | None = None) -> Result:
        """Submit (or re-submit) a case's data at `at`; data triggers are evaluated."""
        if type(at) is _DATETIME and at.tzinfo is _UTC:
            when = at
        else:
            when = _aware(at if at is not None else case_data.get("at"))
        try:
            case_id = case_id_of(case_data)
        except DataError as error:
            shown = case_data.get("id", "?")
            raise EventRejected(f"case {shown}: {error}") from None
        try:
            with self.store.transaction() as tx:
                state = tx.load_case(case_id)
                if state is not None and when in state.submissions:
                    return Result()  # re-sent: already applied (whatever its data now)
                try:
                    data = self._check.case(case_data)
                except DataError as error:
                    raise EventRejected(f"case {case_id}: {error}") from None
                clock = tx.get_clock()
                if (clock is not None and when < clock) or (
                    state is not None and state.last_at is not None and when < state.last_at
                ):
                    self._check_time(tx, state, case_id, when, "submission")
                ctx = self._begin(tx)
                self._run(tx, ctx, case_id, when, _new(core.Submit, (when, data)), state)
        except BaseException:
            self._reset()
            raise
        return self._result()

    def handle(
        self, case_id: str, event: Mapping[str, Any], at: dt.datetime | None = None
    ) -> Result:
        """Deliver an event (`{"type": ..., "id": ..., **payload}`) to a case at `at`."""
        if type(at) is _DATETIME and at.tzinfo is _UTC:
            when = at
        else:
            when = _aware(at if at is not None else event.get("at"))
        event_type = event.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("an event needs a 'type'")
        if type(event_type) is not str:
            # a str subclass (a YAML scalar) is tracked by the garbage collector: kept in
            # the history it would keep every entry naming it tracked too
            event_type = str(event_type)
        raw_id = event.get("id")
        event_id = None if raw_id is None else raw_id if type(raw_id) is str else str(raw_id)
        try:
            with self.store.transaction() as tx:
                state = tx.load_case(case_id)
                if state is None:
                    raise UnknownCase(case_id)
                if event_id is not None and event_id in state.seen_ids:
                    ctx = self._begin(tx)
                    self._apply(tx, ctx, state, _new(core.Event, (when, event_type, event_id, {})))
                    return self._result()
                clock = tx.get_clock()
                if (clock is not None and when < clock) or (
                    state.last_at is not None and when < state.last_at
                ):
                    self._check_time(tx, state, case_id, when, f"event {event_type}")
                if len(event) == ("type" in event) + ("at" in event) + ("id" in event):
                    payload: dict[str, Any] = {}  # nothing besides the reserved keys
                else:
                    payload = {k: v for k, v in event.items() if k not in RESERVED_EVENT_KEYS}
                try:
                    if event_type == "case_updated":
                        typed = self._check.update(payload)
                    else:
                        typed = self._check.payload(event_type, payload)
                except DataError as error:
                    raise EventRejected(f"case {case_id}: event {event_type}: {error}") from None
                ctx = self._begin(tx)
                inp = _new(core.Event, (when, event_type, event_id, typed))
                self._run(tx, ctx, case_id, when, inp, state)
        except BaseException:
            self._reset()
            raise
        return self._result()

    def advance(self, now: dt.datetime) -> Result:
        """Fire every timer due at or before `now`; nothing if `now` is not past the clock."""
        when = _aware(now, "now")
        try:
            with self.store.transaction() as tx:
                clock = tx.get_clock()
                if clock is not None and when <= clock:
                    return Result()
                self._fire_until(tx, self._begin(tx), when)
                tx.set_clock(when)
        except BaseException:
            self._reset()
            raise
        return self._result()

    def next_wakeup(self) -> dt.datetime | None:
        """The earliest pending timer, or None."""
        return self.store.next_wakeup()

    def move(
        self,
        case_id: str,
        step: str,
        reason: str | None = None,
        at: dt.datetime | None = None,
        workflow: str | None = None,
    ) -> Result:
        """Operator: make the case's active instance enter `step` as a transition would."""
        when = _aware(at)
        try:
            with self.store.transaction() as tx:
                state = self._known(tx, case_id)
                self._check_time(tx, state, case_id, when, "move")
                actives = self._actives(state, workflow)
                if not actives:
                    raise ValueError(f"case {case_id} has no active instance to move")
                for wf, _ in actives:
                    if step not in wf.targets:
                        raise ValueError(f"workflow {wf.name} has no step or outcome {step!r}")
                inp = core.Move(when, step, reason, workflow)
                self._run(tx, self._begin(tx), case_id, when, inp, state)
        except BaseException:
            self._reset()
            raise
        return self._result()

    def cancel(
        self,
        case_id: str,
        reason: str | None = None,
        at: dt.datetime | None = None,
        workflow: str | None = None,
    ) -> Result:
        """Operator: end the case's active instance(s) as `cancelled`."""
        when = _aware(at)
        try:
            with self.store.transaction() as tx:
                state = self._known(tx, case_id)
                self._check_time(tx, state, case_id, when, "cancel")
                inp = core.Cancel(when, reason, workflow)
                self._run(tx, self._begin(tx), case_id, when, inp, state)
        except BaseException:
            self._reset()
            raise
        return self._result()

    # ---- reading ----------------------------------------------------------------------------

    def _known(self, tx: StoreTransaction, case_id: str) -> CaseState:
        state = tx.load_case(case_id)
        if state is None:
            raise UnknownCase(case_id)
        return state

    def _actives(self, state: CaseState, workflow: str | None) -> list[tuple[Workflow, Instance]]:
        found = []
        for flow in state.flows.values():
            inst = flow.active
            if inst is not None and (workflow is None or flow.workflow == workflow):
                found.append((self.workflow(inst.workflow, inst.version), inst))
        return found

    def case_state(self, case_id: str) -> CaseState | None:
        """The raw state of a case (plain data; see `retainflow.runtime.state`)."""
        with self.store.transaction() as tx:
            return tx.load_case(case_id)

    def get(self, case_id: str, workflow: str | None = None) -> InstanceView | None:
        """The case's most recently started instance (of `workflow`, if given), or None."""
        state = self.case_state(case_id)
        if state is None:
            return None
        best: tuple[dt.datetime, int, Instance] | None = None
        order = {wf.name: i for i, wf in enumerate(self.workflows)}
        for flow in state.flows.values():
            if workflow is not None and flow.workflow != workflow:
                continue
            inst = flow.latest
            if inst is None:
                continue
            key = (inst.started_at, -order.get(flow.workflow, len(order)), inst)
            if best is None or key[:2] > best[:2]:
                best = key
        if best is None:
            return None
        inst = best[2]
        return InstanceView(self.workflow(inst.workflow, inst.version), state, inst)

    def records(self, case_id: str) -> list[dict[str, Any]]:
        """Run-result records of a case, for every workflow of the engine, in engine order."""
        state = self.case_state(case_id)
        if state is None:
            raise UnknownCase(case_id)
        records: list[dict[str, Any]] = []
        for wf in self.workflows:
            flow = state.flows.get(wf.name) or FlowState(wf.name)
            versions = {
                inst.version: self.workflow(wf.name, inst.version) for inst in flow.instances
            }
            records.extend(case_records(wf, state, versions))
        return records

    def history(self, case_id: str) -> list[dict[str, Any]]:
        """The case's submissions, events, timers, operator actions and trace, oldest first."""
        entries = self.store.case_history(case_id)
        if entries is None:
            raise UnknownCase(case_id)
        return [history_entry(entry) for entry in entries]

    def ledger(
        self,
        client: str,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Grant]:
        """The client's grants (every case and workflow), oldest first; with `since` and
        `until`, those granted in that window (`since` <= at < `until`)."""
        with self.store.transaction() as tx:
            return grants_in_window(tx.grants(client), since, until)

    def seed(self, grants: Iterable[Grant]) -> None:
        """Add earlier grants to the ledger (`retainflow run --ledger`)."""
        with self.store.transaction() as tx:
            for grant in grants:
                tx.add_grant(grant)

    def budget(
        self, client: str, at: dt.datetime | None = None, case: str | None = None
    ) -> list[Budget]:
        """What each per-client limit of each workflow still allows `client` at `at`.

        `case=` gives the data for limits whose AMOUNT uses `case.*` (ValueError without).
        """
        with self.store.transaction() as tx:
            when = _aware(at) if at is not None else tx.get_clock()
            if when is None:
                raise ValueError("budget needs at= (the store's clock is not set yet)")
            data: Mapping[str, Any] = {}
            if case is not None:
                data = self._known(tx, case).data
            grants: Sequence[Grant] = tx.grants(client)
            rows = []
            for wf in self.workflows:
                for lim in wf.limits:
                    if lim.scope != "client":
                        continue
                    amount: Money | int | None = lim.count
                    if not lim.counts_grants:
                        if lim.uses_case and case is None:
                            raise ValueError(
                                f"workflow {wf.name}: limit {lim.text} uses case data: pass case="
                            )
                        assert lim.amount is not None
                        try:
                            value = lim.amount(Env(data, now=when))
                        except ExprError as error:
                            raise ValueError(f"limit {lim.text}: {error}") from None
                        amount = value if isinstance(value, Money) else None
                    limit = EvaluatedLimit(
                        lim.kind, lim.scope, lim.counts_grants, amount, lim.over, lim.text
                    )
                    rows.append(budget_row(wf.name, limit, grants, when))
            return rows
