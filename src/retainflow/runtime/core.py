"""The engine core: one input applied to one case's state, deterministically.

    effects = apply(ctx, state, input)   # (case state, input, ledger view) -> effects

Input: a `Context` (the time, the workflows, a read view of the ledger, the next timer
sequence number), the case's `CaseState` and one input (`Submit`, `Event`, `Fire`,
`Move`, `Cancel`). Output: the new case state (the object given, which the core owns for
the call: a store that needs the old one passes a copy) and the effects collected in the
context: actions, instances started, events ignored, trace, timers set and cancelled,
grants. No clock, no I/O: the same state and input give the same result, byte for byte.

The rules are language.md's "Running"; docs/engine.md records the choices where it is
silent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from retainflow.compile import (
    DoItem,
    LimitSpec,
    OfferItem,
    OutcomeSpec,
    SlaSpec,
    StepSpec,
    TriggerSpec,
    Workflow,
)
from retainflow.exprs import Env, ExprError
from retainflow.ledger import EvaluatedLimit, Grant, decide_limits
from retainflow.runtime.state import (
    ActionRecord,
    CaseState,
    FlowState,
    IgnoredRecord,
    Instance,
    OfferRecord,
    SlaState,
    Timer,
)
from retainflow.values import MEASURE_SCALES, Money

__all__ = [
    "MAX_TRANSITIONS",
    "Cancel",
    "Context",
    "Event",
    "Fire",
    "LedgerView",
    "Move",
    "Submit",
    "apply",
]

MAX_TRANSITIONS = 1000
_GRANTED = ("granted", "capped")


# ---- inputs -------------------------------------------------------------------------------


class Submit(NamedTuple):
    at: dt.datetime
    data: Mapping[str, Any]  # validated case data, with `id`


class Event(NamedTuple):
    at: dt.datetime
    type: str
    id: str | None
    payload: Mapping[str, Any]  # validated; for case_updated: the typed fields


class Fire(NamedTuple):
    at: dt.datetime
    seq: int


class Move(NamedTuple):
    at: dt.datetime
    step: str
    reason: str | None
    workflow: str | None


class Cancel(NamedTuple):
    at: dt.datetime
    reason: str | None
    workflow: str | None


Input = Submit | Event | Fire | Move | Cancel


class LedgerView:
    """Read access to the shared ledger plus the grants made during this input."""

    __slots__ = ("added", "read")

    def __init__(self, read: Callable[[str], Sequence[Grant]]) -> None:
        self.read = read  # the store's grants of a client (an engine re-points it per call)
        self.added: list[Grant] = []

    def grants(self, client: str) -> list[Grant]:
        found = list(self.read(client))
        if self.added:  # (most inputs grant nothing: no generator for them)
            found.extend(g for g in self.added if g.client == client)
        return found


class Context:
    """One input's surroundings and the effects it produces."""

    __slots__ = (
        "actions",
        "cancelled",
        "case_id",
        "core",
        "errors",
        "ignored",
        "ledger",
        "resolve",
        "seq",
        "set",
        "started",
        "trace",
        "transitions",
        "workflows",
    )

    def __init__(
        self,
        workflows: Sequence[Workflow],
        resolve: Callable[[str, int], Workflow],
        ledger: LedgerView,
        seq: int,
    ) -> None:
        self.workflows = workflows  # the engine's current versions (new instances, triggers)
        self.resolve = resolve  # (name, version) -> the version an instance runs on
        self.ledger = ledger
        self.seq = seq
        self.case_id = ""
        self.actions: list[tuple[str, str, ActionRecord]] = []  # (case, workflow, action)
        self.started: list[tuple[str, str, int, str | None, dt.datetime]] = []
        self.ignored: list[tuple[str, str, IgnoredRecord]] = []
        self.trace: list[tuple[dt.datetime, str, str, int | None, str]] = []
        self.errors: list[str] = []
        self.set: list[Timer] = []
        self.cancelled: list[int] = []
        self.transitions: dict[str, int] = {}
        self.core: _Core | None = None  # the one `_Core` that `apply` re-points per input


class _Runaway(Exception):
    pass


def apply(ctx: Context, state: CaseState, inp: Input) -> None:
    """Apply one input to `state` (changed in place); effects go to `ctx`."""
    case_id = ctx.case_id = state.case_id
    if ctx.transitions:
        ctx.transitions = {}
    # One `_Core` per context, re-pointed at this input's case: building one per input cost
    # more than the three assignments (it keeps the last state until the next input).
    core = ctx.core
    if core is None:
        core = ctx.core = _Core(ctx, state)
    else:
        core.state = state
        core.case_id = case_id
        core.data = state.data
    kind = type(inp)
    if kind is Event:
        core.event(inp)  # type: ignore[arg-type]
    elif kind is Fire:
        core.fire(inp)  # type: ignore[arg-type]
    elif kind is Submit:
        core.submit(inp)  # type: ignore[arg-type]
    else:
        core.run(inp)


# ---- the core ------------------------------------------------------------------------------
#
# The hot path of every engine: written for CPython's speed (see docs/engine.md,
# "Performance"). Expression environments are built only when an expression is evaluated,
# constant action arguments and limits come precomputed from `compile`, and the failure
# boundary is a plain try/except (no closure per input).

_STEP_ROLES = ("wait", "due", "every")
_ENDED_SLA = ("pending", "not_started")
_FAILURES = (ExprError, ArithmeticError, _Runaway)


class _Core:
    __slots__ = ("case_id", "ctx", "data", "state")

    def __init__(self, ctx: Context, state: CaseState) -> None:
        self.ctx = ctx
        self.state = state
        self.case_id = state.case_id
        self.data = state.data

    # -- bookkeeping --

    def trace(self, t: dt.datetime, wf: str, inst: Instance | None, message: str) -> None:
        number = inst.number if inst is not None else None
        self.ctx.trace.append((t, self.case_id, wf, number, message))
        self.state.history.append((t, "trace", wf, number, message))

    def set_timer(
        self, inst: Instance, role: str, kind: str, at: dt.datetime, name: str | None = None
    ) -> None:
        ctx = self.ctx
        seq = ctx.seq
        ctx.seq = seq + 1
        timer = Timer(seq, at, inst.workflow, kind, inst.number, name, inst.entry)
        self.state.timers[seq] = timer
        inst.timers[role] = seq
        ctx.set.append(timer)

    def cancel_timer(self, inst: Instance, role: str) -> None:
        seq = inst.timers.pop(role, None)
        if seq is not None:
            self.state.timers.pop(seq, None)
            self.ctx.cancelled.append(seq)

    def cancel_all(self, inst: Instance) -> None:
        timers = inst.timers
        if timers:
            pending = self.state.timers
            cancelled = self.ctx.cancelled
            for seq in timers.values():
                pending.pop(seq, None)
                cancelled.append(seq)
            timers.clear()

    def emit(self, inst: Instance, t: dt.datetime, name: str, args: dict[str, Any]) -> None:
        record = ActionRecord(t, inst.step or "", name, args)
        inst.actions.append(record)
        self.ctx.actions.append((self.case_id, inst.workflow, record))

    def env(self, inst: Instance, t: dt.datetime, event: Mapping[str, Any] | None = None) -> Env:
        last = inst.last_offer
        if last is None:
            return Env(self.data, event, None, None, inst.trigger, inst.started_at, t)
        offer = inst.offers[last]
        return Env(self.data, event, offer.status, offer.amount, inst.trigger, inst.started_at, t)

    def flow(self, name: str) -> FlowState:
        flow = self.state.flows.get(name)
        if flow is None:
            flow = self.state.flows[name] = FlowState(name)
        return flow

    def workflow_of(self, inst: Instance) -> Workflow:
        return self.ctx.resolve(inst.workflow, inst.version)

    def record_ignored(self, flow: FlowState, record: IgnoredRecord) -> None:
        instances = flow.instances
        if instances:
            instances[-1].ignored.append(record)
        else:
            flow.early_ignored.append(record)
        self.ctx.ignored.append((self.case_id, flow.workflow, record))

    # -- dispatch --

    def run(self, inp: Input) -> None:
        if isinstance(inp, Fire):
            self.fire(inp)
        elif isinstance(inp, Event):
            self.event(inp)
        elif isinstance(inp, Submit):
            self.submit(inp)
        elif isinstance(inp, Move):
            self.move(inp)
        else:
            self.cancel(inp)

    # -- failure boundary --

    def failed(self, wf: Workflow, inst: Instance, t: dt.datetime, error: Exception) -> None:
        """End the instance with the error an action, guard or limit raised."""
        if isinstance(error, ExprError):
            self.fail(wf, inst, t, error.message)
        elif isinstance(error, _Runaway):
            self.fail(wf, inst, t, f"runaway (more than {MAX_TRANSITIONS:,} transitions)")
        else:
            self.fail(wf, inst, t, f"number out of range ({type(error).__name__})")

    def fail(self, wf: Workflow, inst: Instance, t: dt.datetime, problem: str) -> None:
        message = f"case {self.case_id}: step {inst.step}: {problem}"
        inst.error = message
        self.finish(inst, t, "error")
        self.ctx.errors.append(message)
        self.trace(t, wf.name, inst, f"error: {problem}")

    def finish(
        self, inst: Instance, t: dt.datetime, status: str, outcome: str | None = None
    ) -> None:
        inst.status = status
        inst.phase = ""
        inst.clock = t
        if status != "error":
            inst.ended_at = t
        inst.outcome = outcome
        self.cancel_all(inst)
        for sla in inst.slas.values():
            if sla.status in _ENDED_SLA:
                sla.status = "cancelled"
                sla.paused = False
                sla.paused_since = None
        self.flow(inst.workflow).last_ended = t

    # -- steps --

    def go(self, wf: Workflow, inst: Instance, target: str | None, t: dt.datetime) -> None:
        """Take transitions until the instance rests (sleeps, is pending, waits or ends)."""
        while target is not None and inst.status == "active":
            self.leave(inst, t)
            target = self.enter(wf, inst, target, t)

    def leave(self, inst: Instance, t: dt.datetime) -> None:
        """Cancel the step's timers and withdraw a pending offer."""
        timers = inst.timers
        if timers:
            for role in _STEP_ROLES:
                seq = timers.pop(role, None)
                if seq is not None:
                    self.state.timers.pop(seq, None)
                    self.ctx.cancelled.append(seq)
        if inst.pending_offer is not None:
            offer = inst.offers[inst.pending_offer]
            offer.status = "withdrawn"
            offer.amount = _zero(offer.requested)
            offer.decided_at = t
            inst.pending_offer = None
        inst.phase = ""

    def enter(self, wf: Workflow, inst: Instance, name: str, t: dt.datetime) -> str | None:
        counts = self.ctx.transitions
        done = counts.get(wf.name, 0) + 1
        if done > MAX_TRANSITIONS:
            raise _Runaway
        counts[wf.name] = done
        inst.path.append(name)
        inst.step = name
        inst.entry += 1
        inst.last_offer = None
        inst.every_count = 0
        inst.work_index = 0
        spec = wf.targets[name]
        if spec.sla_entry:
            self.slas_on_entry(wf, inst, spec, t)
        if spec.is_outcome:
            self.finish(inst, t, "ended", name)
            self.trace(t, wf.name, inst, f"ended in {name}")
            return None
        assert isinstance(spec, StepSpec)
        if spec.wait is not None:
            self.set_timer(inst, "wait", "wait", spec.wait.after(t))
            inst.phase = "sleeping"
            return None
        due = spec.due
        if due is not None:  # as set_timer(inst, "due", "due", due.after(t))
            ctx = self.ctx
            seq = ctx.seq
            ctx.seq = seq + 1
            timer = Timer(seq, due.after(t), inst.workflow, "due", inst.number, None, inst.entry)
            self.state.timers[seq] = timer
            inst.timers["due"] = seq
            ctx.set.append(timer)
        return self.run_work(wf, inst, spec, t)

    def start_work(
        self, wf: Workflow, inst: Instance, spec: StepSpec, s: dt.datetime
    ) -> str | None:
        if spec.due is not None:
            self.set_timer(inst, "due", "due", spec.due.after(s))
        inst.work_index = 0
        return self.run_work(wf, inst, spec, s)

    def run_work(self, wf: Workflow, inst: Instance, spec: StepSpec, t: dt.datetime) -> str | None:
        work = spec.work
        index = inst.work_index
        env: Env | None = None
        count = len(work)
        actions = inst.actions
        effects = self.ctx.actions
        step = inst.step or ""
        while index < count:
            item = work[index]
            index += 1
            if type(item) is DoItem:
                fixed = item.const_args
                if fixed is not None:
                    args = dict(fixed)
                else:
                    if env is None:
                        env = self.env(inst, t)
                    args = {name: arg.function(env) for name, arg in item.args}
                record = ActionRecord(t, step, item.name, args)  # as `emit`
                actions.append(record)
                effects.append((self.case_id, inst.workflow, record))
            else:
                assert isinstance(item, OfferItem)
                if self.offer(wf, inst, item, t):
                    inst.work_index = index
                    inst.phase = "pending"
                    return None
                env = None  # the offer's status and amount changed
        inst.work_index = index
        for imm in spec.immediates:
            guard = imm.guard
            if guard is None:
                return imm.target
            if env is None:
                env = self.env(inst, t)
            if guard.function(env):
                return imm.target
        inst.phase = "waiting"
        if spec.every is not None and spec.every_count > 0:
            self.set_timer(inst, "every", "every", spec.every.after(t))
        return None

    def match(
        self,
        wf: Workflow,
        spec: StepSpec,
        event_type: str,
        inst: Instance,
        t: dt.datetime,
        event: Mapping[str, Any] | None,
        env: Env | None = None,
    ) -> str | None:
        # the step's handlers first, then the global ones
        for handlers in (spec.handlers.get(event_type), wf.global_handlers.get(event_type)):
            if handlers:
                for handler in handlers:
                    guard = handler.guard
                    if guard is None:
                        return handler.target
                    if env is None:
                        env = self.env(inst, t, event)
                    if guard.function(env):
                        return handler.target
        return None

    # -- SLAs --

    def slas_on_entry(
        self, wf: Workflow, inst: Instance, spec: StepSpec | OutcomeSpec, t: dt.datetime
    ) -> None:
        name = spec.name
        is_outcome = spec.is_outcome
        states = inst.slas
        for sla in spec.sla_entry:
            st = states[sla.name]
            if st.status == "not_started":
                if sla.start_step != name:
                    continue
                self.sla_start(inst, sla, st, t)
            elif sla.until == name or (sla.until_any_outcome and is_outcome):
                if st.status == "pending":
                    st.status = "met"
                    st.completed_at = t
                    st.paused = False
                    st.paused_since = None
                    self.cancel_timer(inst, sla.warn_role)
                    self.cancel_timer(inst, sla.due_role)
                    self.trace(t, wf.name, inst, f"sla {sla.name} met")
                elif st.status == "breached" and st.completed_at is None:
                    st.completed_at = t
                continue
            if st.status != "pending" or is_outcome:
                continue
            if name in sla.pause:
                if not st.paused:
                    st.paused = True
                    st.paused_since = t
                    self.cancel_timer(inst, sla.warn_role)
                    self.cancel_timer(inst, sla.due_role)
                    self.trace(t, wf.name, inst, f"sla {sla.name} paused")
            elif st.paused:
                assert st.paused_since is not None and st.due is not None
                paused = sla.deadline.elapsed(st.paused_since, t)
                st.due = sla.deadline.shift(st.due, paused)
                st.paused = False
                st.paused_since = None
                self.sla_timers(inst, sla, st, t)
                self.trace(
                    t, wf.name, inst, f"sla {sla.name} resumed, due moved by {paused} of open time"
                )

    def sla_start(self, inst: Instance, sla: SlaSpec, st: SlaState, t: dt.datetime) -> None:
        st.status = "pending"
        st.started_at = t
        st.due = sla.deadline.after(t)
        self.sla_timers(inst, sla, st, t)

    def sla_timers(self, inst: Instance, sla: SlaSpec, st: SlaState, t: dt.datetime) -> None:
        due = st.due
        assert due is not None
        if sla.warn is not None and not st.warned:
            warn_at = sla.warn.before(due)
            if warn_at >= t:
                self.set_timer(inst, sla.warn_role, "sla_warn", warn_at, sla.name)
        self.set_timer(inst, sla.due_role, "sla_due", due, sla.name)

    # -- offers --

    def evaluated_limits(
        self, limits: Sequence[LimitSpec], env: Env
    ) -> tuple[list[EvaluatedLimit], bool]:
        """The limits evaluated for this case; and whether one is per client."""
        out: list[EvaluatedLimit] = []
        per_client = False
        for lim in limits:
            evaluated = lim.fixed
            if evaluated is None:
                assert lim.amount is not None
                value = lim.amount.function(env)
                amount = value if isinstance(value, Money) else None
                evaluated = EvaluatedLimit(
                    lim.kind, lim.scope, lim.counts_grants, amount, lim.over, lim.text
                )
            out.append(evaluated)
            if lim.scope == "client":
                per_client = True
        return out, per_client

    def check(
        self,
        wf: Workflow,
        inst: Instance,
        kind: str,
        amount: Money | None,
        env: Env,
        t: dt.datetime,
    ) -> tuple[Money | None, str | None]:
        specs = wf.kind_limits.get(kind)
        if specs is None:
            specs = wf.limits_for(kind)
        limits, per_client = self.evaluated_limits(specs, env)
        client = self.data.get("client")
        client = client if isinstance(client, str) else None
        own = [
            Grant(o.decided_at or o.at, client, o.kind, o.amount)
            for o in inst.offers
            if o.status in _GRANTED and o.amount is not None
        ]
        theirs: Sequence[Grant] = ()
        if client is not None and per_client:
            theirs = self.ctx.ledger.grants(client)
        return decide_limits(kind, amount, client, own, theirs, limits, t)

    def offer(self, wf: Workflow, inst: Instance, item: OfferItem, t: dt.datetime) -> bool:
        """Run one `offer`; True when it waits for approval."""
        env = self.env(inst, t)
        value = item.amount.function(env)
        requested = value if isinstance(value, Money) else None
        record = OfferRecord(t, inst.step or "", item.kind, requested, item.label)
        inst.offers.append(record)
        inst.last_offer = len(inst.offers) - 1
        amount, reason = self.check(wf, inst, item.kind, requested, env, t)
        if reason is not None or amount is None:
            self.refuse(wf, inst, record, reason or "limit", t)
            if record.amount is None and item.currency is not None:  # AMOUNT was none
                record.amount = _zero_in(item.currency)
            return False
        role = None
        highest: Decimal | None = None
        for approval in wf.approvals:
            if approval.kind != "compensation" and approval.kind != item.kind:
                continue
            threshold = approval.amount.function(env)
            if (
                isinstance(threshold, Money)
                and threshold.currency == amount.currency
                and amount.amount > threshold.amount
                and (highest is None or threshold.amount > highest)
            ):
                highest, role = threshold.amount, approval.role
        if role is not None:
            record.status = "pending"
            record.sent = amount
            record.amount = _zero(amount)
            inst.pending_offer = inst.last_offer
            self.emit(
                inst, t, "request_approval", {"kind": item.kind, "amount": amount, "role": role}
            )
            self.trace(t, wf.name, inst, f"offer {item.kind} {amount} waits for {role}")
            return True
        self.grant(wf, inst, record, amount, t)
        return False

    def refuse(
        self, wf: Workflow, inst: Instance, record: OfferRecord, reason: str, t: dt.datetime
    ) -> None:
        record.status = "refused"
        record.reason = reason
        record.amount = _zero(record.requested)
        record.decided_at = t
        self.trace(t, wf.name, inst, f"offer {record.kind} refused ({reason})")

    def grant(
        self, wf: Workflow, inst: Instance, record: OfferRecord, amount: Money, t: dt.datetime
    ) -> None:
        record.amount = amount
        record.decided_at = t
        below = record.requested is not None and amount.amount < record.requested.amount
        record.status = "capped" if below else "granted"
        client = self.data.get("client")
        self.ctx.ledger.added.append(
            Grant(
                t,
                client if isinstance(client, str) else None,
                record.kind,
                amount,
                self.case_id,
                wf.name,
                record.label,
                inst.number,
            )
        )
        self.emit(inst, t, "grant", {"kind": record.kind, "amount": amount, "label": record.label})
        self.trace(t, wf.name, inst, f"offer {record.kind} {record.status}: {amount}")

    def decide(
        self, wf: Workflow, inst: Instance, spec: StepSpec, approved: bool, t: dt.datetime
    ) -> None:
        assert inst.pending_offer is not None
        record = inst.offers[inst.pending_offer]
        inst.pending_offer = None
        if not approved:
            record.status = "denied"
            record.amount = _zero(record.requested)
            record.decided_at = t
            self.trace(t, wf.name, inst, f"offer {record.kind} denied")
        else:
            amount, reason = self.check(wf, inst, record.kind, record.sent, self.env(inst, t), t)
            if reason is not None or amount is None:
                self.refuse(wf, inst, record, reason or "limit", t)
            else:
                self.grant(wf, inst, record, amount, t)
        self.go(wf, inst, self.run_work(wf, inst, spec, t), t)

    # -- instances and triggers --

    def start_instance(
        self, wf: Workflow, flow: FlowState, trigger: TriggerSpec, t: dt.datetime
    ) -> Instance:
        inst = Instance(wf.name, wf.version, len(flow.instances) + 1, trigger.name, t, t)
        inst.slas = {sla.name: SlaState() for sla in wf.slas}
        inst.measures = {m.name: [] for m in wf.measures}
        if not flow.instances and flow.early_ignored:
            inst.ignored.extend(flow.early_ignored)
            flow.early_ignored = []
        flow.instances.append(inst)
        self.ctx.started.append((self.case_id, wf.name, inst.number, trigger.name, t))
        self.trace(t, wf.name, inst, f"instance {inst.number} started by {trigger.name}")
        try:
            for sla in wf.slas:
                if sla.start_step is None:
                    self.sla_start(inst, sla, inst.slas[sla.name], t)
            # entering the start step is not a transition: the runaway guard counts from 0
            counts = self.ctx.transitions
            counts[wf.name] = counts.get(wf.name, 0) - 1
            self.go(wf, inst, wf.start, t)
        except _FAILURES as error:
            self.failed(wf, inst, t, error)
        return inst

    def cooled(self, flow: FlowState, trigger: TriggerSpec, t: dt.datetime) -> bool:
        if trigger.cooldown is None or flow.last_ended is None:
            return True
        return t >= flow.last_ended + trigger.cooldown

    def triggers(
        self,
        wf: Workflow,
        flow: FlowState,
        t: dt.datetime,
        event_type: str | None,
        payload: Mapping[str, Any] | None,
        data_changed: bool,
        active: bool,
    ) -> Instance | None:
        """Evaluate the workflow's triggers for one input; start an instance if one fires."""
        if not data_changed:
            # only `on` triggers can fire (`when` and `at` triggers look at data changes)
            ons = wf.on_triggers.get(event_type) if event_type is not None else None
            if not ons:
                return None
            candidates: list[TriggerSpec] = []
            env: Env | None = None
            trig: TriggerSpec
            try:
                for trig in ons:
                    condition = trig.condition
                    if condition is not None:
                        if env is None:
                            env = Env(self.data, payload, None, None, None, None, t)
                        if not condition.function(env):
                            continue
                    candidates.append(trig)
            except ExprError as error:
                self.trigger_error(wf, flow, trig, error, t)
                return None
            if active:
                return None
            return self.start_first(wf, flow, candidates, t)
        candidates = []
        env = Env(self.data, payload, None, None, None, None, t)
        memory = flow.memory
        try:
            for trig in wf.triggers:
                mode = trig.mode
                if mode == "when":
                    assert trig.condition is not None
                    holds = trig.condition.function(env)
                    before = memory.get(trig.name, False)
                    memory[trig.name] = holds
                    if holds and not before:
                        candidates.append(trig)
                elif mode == "on":
                    if event_type == trig.event and (
                        trig.condition is None or trig.condition.function(env)
                    ):
                        candidates.append(trig)
                elif self.schedule_at(wf, flow, trig, env, t):
                    candidates.append(trig)
        except ExprError as error:
            self.trigger_error(wf, flow, trig, error, t)
            return None
        if active:
            return None
        return self.start_first(wf, flow, candidates, t)

    def trigger_error(
        self, wf: Workflow, flow: FlowState, trig: TriggerSpec, error: ExprError, t: dt.datetime
    ) -> None:
        flow.error = f"case {self.case_id}: trigger {trig.name}: {error.message}"
        self.ctx.errors.append(flow.error)
        self.trace(t, wf.name, None, f"error: {flow.error}")

    def start_first(
        self, wf: Workflow, flow: FlowState, candidates: list[TriggerSpec], t: dt.datetime
    ) -> Instance | None:
        for trig in candidates:
            if self.cooled(flow, trig, t):
                return self.start_instance(wf, flow, trig, t)
            self.trace(t, wf.name, None, f"trigger {trig.name} is cooling down")
        return None

    def schedule_at(
        self, wf: Workflow, flow: FlowState, trig: TriggerSpec, env: Env, t: dt.datetime
    ) -> bool:
        """(Re)schedule an `at` trigger after a data change; True if it fires now."""
        assert trig.at is not None
        when = trig.at.function(env)
        if when is not None and not isinstance(when, dt.datetime):
            raise ExprError(f"trigger time is not a time: {trig.at.source}", trig.at.span)
        when = when.astimezone(dt.UTC) if when is not None else None
        name = trig.name
        if name in flow.at_times and flow.at_times[name] == when:
            return False  # same time as before: keep its timer, or its use
        seq = flow.at_timers.pop(name, None)
        if seq is not None:
            self.state.timers.pop(seq, None)
            self.ctx.cancelled.append(seq)
        flow.at_times[name] = when
        flow.at_done[name] = False
        if when is None:
            return False
        if when <= t:
            flow.at_done[name] = True
            return trig.condition is None or bool(trig.condition.function(env))
        ctx = self.ctx
        seq = ctx.seq
        ctx.seq = seq + 1
        timer = Timer(seq, when, wf.name, "at_trigger", None, name)
        self.state.timers[seq] = timer
        flow.at_timers[name] = seq
        ctx.set.append(timer)
        return False

    # -- inputs --

    def submit(self, inp: Submit) -> None:
        state, t = self.state, inp.at
        submitted = inp.data
        state.data = dict(submitted)
        self.data = state.data
        state.submissions.append(t)
        state.last_at = t
        state.last_input = t
        state.history.append((t, "submission", submitted))
        again = len(state.submissions) > 1  # a re-submission counts as an update
        fields: dict[str, Any] | None = None
        if again:
            fields = {k: v for k, v in submitted.items() if k != "id"}
        flows = state.flows
        for wf in self.ctx.workflows:
            flow = flows.get(wf.name)
            if flow is None:
                flow = flows[wf.name] = FlowState(wf.name)
            instances = flow.instances
            inst = instances[-1] if instances else None
            if inst is not None and inst.status == "active":
                if fields is None:
                    fields = {k: v for k, v in submitted.items() if k != "id"}
                iwf = wf if inst.version == wf.version else self.workflow_of(inst)
                self.update(iwf, inst, t, fields)
            else:
                inst = None
            self.triggers(
                wf,
                flow,
                t,
                "case_updated" if again else None,
                fields if again else None,
                True,
                inst is not None,
            )

    def update(
        self, wf: Workflow, inst: Instance, t: dt.datetime, fields: Mapping[str, Any]
    ) -> None:
        """New data for an active instance: immediates if it waits, then the handlers."""
        inst.clock = t
        try:
            spec = wf.steps[inst.step or ""]
            env = None
            target = None
            if inst.phase == "waiting":
                for imm in spec.immediates:
                    guard = imm.guard
                    if guard is None:
                        target = imm.target
                        break
                    if env is None:
                        env = self.env(inst, t, fields)
                    if guard.function(env):
                        target = imm.target
                        break
            if target is None:
                target = self.match(wf, spec, "case_updated", inst, t, fields, env)
            self.go(wf, inst, target, t)
        except _FAILURES as error:
            self.failed(wf, inst, t, error)

    def event(self, inp: Event) -> None:
        state, t = self.state, inp.at
        event_id = inp.id
        if event_id is not None:
            if event_id in state.seen_ids:
                record = IgnoredRecord(t, inp.type, event_id, "duplicate")
                for wf in self.ctx.workflows:
                    self.record_ignored(self.flow(wf.name), record)
                state.history.append((t, "duplicate", inp.type, event_id))
                return
            state.seen_ids.add(event_id)
        state.last_at = t
        state.last_input = t
        event_type = inp.type
        payload = inp.payload
        is_update = event_type == "case_updated"
        if is_update:
            state.data.update(payload)
        state.history.append((t, "event", event_type, event_id, payload))
        flows = state.flows
        for wf in self.ctx.workflows:
            flow = flows.get(wf.name)
            if flow is None:
                flow = flows[wf.name] = FlowState(wf.name)
            instances = flow.instances
            inst = instances[-1] if instances else None
            if inst is not None and inst.status == "active":
                if is_update:  # only the data triggers' memory can change
                    self.triggers(wf, flow, t, event_type, payload, True, True)
                iwf = wf if inst.version == wf.version else self.workflow_of(inst)
                if is_update:
                    self.update(iwf, inst, t, payload)
                else:
                    self.deliver(iwf, inst, inp)
                continue
            started = self.triggers(wf, flow, t, event_type, payload, is_update, False)
            if started is None and not is_update:
                self.record_ignored(flow, IgnoredRecord(t, event_type, event_id, "no instance"))

    def deliver(self, wf: Workflow, inst: Instance, inp: Event) -> None:
        t = inp.at
        inst.clock = t
        try:
            spec = wf.steps[inst.step or ""]
            payload = inp.payload
            event_type = inp.type
            if (
                event_type == "approval"
                and inst.pending_offer is not None
                and payload.get("workflow") in (None, wf.name)
            ):
                self.decide(wf, inst, spec, payload.get("approved") is True, t)
                return
            measures = wf.measures_by_event.get(event_type)
            if measures:
                self.measure(wf, inst, measures, payload, t)
            target = self.match(wf, spec, event_type, inst, t, payload)
            if target is None:
                record = IgnoredRecord(t, event_type, inp.id, "no handler")
                inst.ignored.append(record)
                self.ctx.ignored.append((self.case_id, wf.name, record))
                return
            self.go(wf, inst, target, t)
        except _FAILURES as error:
            self.failed(wf, inst, t, error)

    def measure(
        self,
        wf: Workflow,
        inst: Instance,
        measures: Sequence[Any],
        payload: Mapping[str, Any],
        t: dt.datetime,
    ) -> None:
        for m in measures:
            value = payload.get(m.field)
            if not isinstance(value, Decimal):
                continue
            low, high = MEASURE_SCALES.get(m.kind, (None, None))
            if low is not None and high is not None and not low <= value <= high:
                self.trace(
                    t,
                    wf.name,
                    inst,
                    f"measure {m.name}: {value} is outside the "
                    f"{m.kind} scale {low}-{high}, left out",
                )
                continue
            inst.measures.setdefault(m.name, []).append(value)

    def fire(self, inp: Fire) -> None:
        state, t = self.state, inp.at
        timer = state.timers.pop(inp.seq, None)
        if timer is None:
            return
        state.last_at = t
        flow = self.flow(timer.workflow)
        if timer.kind == "at_trigger":
            self.fire_at_trigger(flow, timer, t)
            return
        inst = flow.instances[(timer.instance or 1) - 1]
        if inst.status != "active":
            return
        kind = timer.kind
        role = kind if timer.name is None else f"{kind}:{timer.name}"
        timers = inst.timers
        if timers.get(role) == timer.seq:
            del timers[role]
        inst.clock = t
        wf = self.current(inst)
        state.history.append((t, "timer", kind, timer.name, wf.name, inst.number))
        try:
            if kind == "sla_due" or kind == "sla_warn":
                self.fire_sla(wf, inst, timer, t)
            else:
                self.fire_timer(wf, inst, timer, t)
        except _FAILURES as error:
            self.failed(wf, inst, t, error)

    def current(self, inst: Instance) -> Workflow:
        """The workflow version `inst` runs on (the engine's own one, most of the time)."""
        name = inst.workflow
        for wf in self.ctx.workflows:
            if wf.name == name:
                if wf.version == inst.version:
                    return wf
                break
        return self.workflow_of(inst)

    def fire_timer(self, wf: Workflow, inst: Instance, timer: Timer, t: dt.datetime) -> None:
        kind = timer.kind
        spec = wf.steps[inst.step or ""]
        if kind == "wait":
            inst.phase = ""
            self.go(wf, inst, self.start_work(wf, inst, spec, t), t)
        elif kind == "due":
            if spec.timeout is not None:
                self.trace(t, wf.name, inst, f"due in {spec.name} expired")
                self.go(wf, inst, spec.timeout, t)
            else:
                self.trace(t, wf.name, inst, f"due in {spec.name} expired (no on timeout)")
        elif kind == "every":
            inst.every_count += 1
            env = None
            for item in spec.actions:
                fixed = item.const_args
                if fixed is not None:
                    args = dict(fixed)
                else:
                    if env is None:
                        env = self.env(inst, t)
                    args = {name: arg.function(env) for name, arg in item.args}
                self.emit(inst, t, item.name, args)
            if inst.every_count < spec.every_count and spec.every is not None:
                self.set_timer(inst, "every", "every", spec.every.after(t))

    def fire_sla(self, wf: Workflow, inst: Instance, timer: Timer, t: dt.datetime) -> None:
        sla = wf.sla_by_name[timer.name or ""]
        st = inst.slas[sla.name]
        if st.status != "pending" or st.paused:
            return
        if timer.kind == "sla_warn":
            st.warned = True
            self.emit(inst, t, "sla_warning", {"sla": sla.name, "due": st.due})
            return
        st.status = "breached"
        self.cancel_timer(inst, sla.warn_role)
        self.emit(inst, t, "sla_breached", {"sla": sla.name, "due": st.due})
        self.trace(t, wf.name, inst, f"sla {sla.name} breached")
        if sla.breach is not None and inst.step != sla.breach:
            self.go(wf, inst, sla.breach, t)

    def fire_at_trigger(self, flow: FlowState, timer: Timer, t: dt.datetime) -> None:
        name = timer.name or ""
        if flow.at_timers.get(name) == timer.seq:
            del flow.at_timers[name]
        flow.at_done[name] = True
        wf = next((w for w in self.ctx.workflows if w.name == flow.workflow), None)
        if wf is None:
            return
        trig = wf.trigger_by_name[name]
        self.state.history.append((t, "timer", "at_trigger", name, wf.name, None))
        if flow.active is not None:
            return
        try:
            env = Env(self.data, None, None, None, None, None, t)
            holds = trig.condition is None or bool(trig.condition.function(env))
        except ExprError as error:
            flow.error = f"case {self.case_id}: trigger {name}: {error.message}"
            self.ctx.errors.append(flow.error)
            return
        if holds and self.cooled(flow, trig, t):
            self.start_instance(wf, flow, trig, t)

    def actives(self, workflow: str | None) -> list[tuple[Workflow, Instance]]:
        found = []
        for flow in self.state.flows.values():
            inst = flow.active
            if inst is not None and (workflow is None or flow.workflow == workflow):
                found.append((self.workflow_of(inst), inst))
        return found

    def move(self, inp: Move) -> None:
        t = inp.at
        self.state.last_at = t
        self.state.history.append((t, "move", inp.step, inp.reason, inp.workflow))
        for wf, inst in self.actives(inp.workflow):
            if inp.step not in wf.targets:
                continue
            inst.clock = t
            self.trace(
                t,
                wf.name,
                inst,
                f"moved to {inp.step} by an operator" + (f": {inp.reason}" if inp.reason else ""),
            )
            try:
                self.go(wf, inst, inp.step, t)
            except _FAILURES as error:
                self.failed(wf, inst, t, error)

    def cancel(self, inp: Cancel) -> None:
        t = inp.at
        self.state.last_at = t
        self.state.history.append((t, "cancel", inp.reason, inp.workflow))
        for wf, inst in self.actives(inp.workflow):
            self.leave(inst, t)
            self.finish(inst, t, "cancelled")
            self.trace(
                t,
                wf.name,
                inst,
                "cancelled by an operator" + (f": {inp.reason}" if inp.reason else ""),
            )


_ZEROS: dict[str, Money] = {}


def _zero(money: Money | None) -> Money | None:
    return None if money is None else _zero_in(money.currency)


def _zero_in(currency: str) -> Money:
    zero = _ZEROS.get(currency)
    if zero is None:
        zero = _ZEROS[currency] = Money(Decimal(0), currency)
    return zero
