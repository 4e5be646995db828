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
import functools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from retainflow.compile import (
    DoItem,
    Handler,
    OfferItem,
    OutcomeSpec,
    SlaSpec,
    StepSpec,
    TriggerSpec,
    Workflow,
)
from retainflow.exprs import Env, ExprError
from retainflow.ledger import EvaluatedLimit, Grant, check_limits
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
from retainflow.values import Money

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

    __slots__ = ("_read", "added")

    def __init__(self, read: Callable[[str], Sequence[Grant]]) -> None:
        self._read = read
        self.added: list[Grant] = []

    def grants(self, client: str) -> list[Grant]:
        found = list(self._read(client))
        found.extend(g for g in self.added if g.client == client)
        return found


class Context:
    """One input's surroundings and the effects it produces."""

    __slots__ = (
        "actions",
        "cancelled",
        "case_id",
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


class _Runaway(Exception):
    pass


def apply(ctx: Context, state: CaseState, inp: Input) -> None:
    """Apply one input to `state` (changed in place); effects go to `ctx`."""
    ctx.case_id = state.case_id
    ctx.transitions = {}
    _Core(ctx, state).run(inp)


# ---- the core ------------------------------------------------------------------------------


class _Core:
    __slots__ = ("case_id", "ctx", "data", "state")

    def __init__(self, ctx: Context, state: CaseState) -> None:
        self.ctx = ctx
        self.state = state
        self.case_id = state.case_id
        self.data = state.data

    # -- bookkeeping --

    def trace(self, t: dt.datetime, wf: str, inst: Instance | None, message: str) -> None:
        entry = (t, self.case_id, wf, inst.number if inst else None, message)
        self.ctx.trace.append(entry)
        self.state.history.append((t, "trace", wf, entry[3], message))

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
        for role in list(inst.timers):
            self.cancel_timer(inst, role)

    def emit(self, inst: Instance, t: dt.datetime, name: str, args: dict[str, Any]) -> None:
        record = ActionRecord(t, inst.step or "", name, args)
        inst.actions.append(record)
        self.ctx.actions.append((self.case_id, inst.workflow, record))

    def env(self, inst: Instance, t: dt.datetime, event: Mapping[str, Any] | None = None) -> Env:
        status = amount = None
        if inst.last_offer is not None:
            offer = inst.offers[inst.last_offer]
            status, amount = offer.status, offer.amount
        return Env(self.data, event, status, amount, inst.trigger, inst.started_at, t)

    def flow(self, name: str) -> FlowState:
        flow = self.state.flows.get(name)
        if flow is None:
            flow = self.state.flows[name] = FlowState(name)
        return flow

    def workflow_of(self, inst: Instance) -> Workflow:
        return self.ctx.resolve(inst.workflow, inst.version)

    def record_ignored(self, flow: FlowState, record: IgnoredRecord) -> None:
        latest = flow.latest
        if latest is not None:
            latest.ignored.append(record)
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

    def guarded(
        self, wf: Workflow, inst: Instance, t: dt.datetime, action: Callable[[], None]
    ) -> None:
        try:
            action()
        except ExprError as error:
            self.fail(wf, inst, t, error.message)
        except ArithmeticError as error:
            self.fail(wf, inst, t, f"number out of range ({type(error).__name__})")
        except _Runaway:
            self.fail(wf, inst, t, f"runaway (more than {MAX_TRANSITIONS:,} transitions)")

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
            if sla.status in ("pending", "not_started"):
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
        timers = inst.timers
        for role in ("wait", "due", "every"):
            if role in timers:
                self.cancel_timer(inst, role)
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
        if wf.slas:
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
        return self.start_work(wf, inst, spec, t)

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
        env = self.env(inst, t) if work or spec.immediates else None
        while index < len(work):
            item = work[index]
            index += 1
            if type(item) is DoItem:
                assert env is not None
                self.emit(inst, t, item.name, {name: arg.function(env) for name, arg in item.args})
            else:
                assert isinstance(item, OfferItem)
                pending = self.offer(wf, inst, item, t)
                if pending:
                    inst.work_index = index
                    inst.phase = "pending"
                    return None
                env = self.env(inst, t)
        inst.work_index = index
        if spec.immediates:
            assert env is not None
            for imm in spec.immediates:
                if imm.guard is None or imm.guard.function(env):
                    return imm.target
        inst.phase = "waiting"
        if spec.every is not None and spec.every_count > 0:
            self.set_timer(inst, "every", "every", spec.every.after(t))
        return None

    def match(self, wf: Workflow, spec: StepSpec, event_type: str, env: Env) -> str | None:
        handler: Handler
        for handler in spec.handlers.get(event_type, ()):
            if handler.guard is None or handler.guard.function(env):
                return handler.target
        for handler in wf.global_handlers.get(event_type, ()):
            if handler.guard is None or handler.guard.function(env):
                return handler.target
        return None

    # -- SLAs --

    def slas_on_entry(
        self, wf: Workflow, inst: Instance, spec: StepSpec | OutcomeSpec, t: dt.datetime
    ) -> None:
        name = spec.name
        is_outcome = spec.is_outcome
        for sla in wf.slas:
            st = inst.slas[sla.name]
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
                    self.cancel_timer(inst, "sla_warn:" + sla.name)
                    self.cancel_timer(inst, "sla_due:" + sla.name)
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
                    self.cancel_timer(inst, "sla_warn:" + sla.name)
                    self.cancel_timer(inst, "sla_due:" + sla.name)
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
        assert st.due is not None
        if sla.warn is not None and not st.warned:
            warn_at = sla.warn.before(st.due)
            if warn_at >= t:
                self.set_timer(inst, "sla_warn:" + sla.name, "sla_warn", warn_at, sla.name)
        self.set_timer(inst, "sla_due:" + sla.name, "sla_due", st.due, sla.name)

    # -- offers --

    def evaluated_limits(self, wf: Workflow, kind: str, env: Env) -> list[EvaluatedLimit]:
        limits: list[EvaluatedLimit] = []
        for lim in wf.limits_for(kind):
            amount: Money | int | None
            if lim.counts_grants:
                amount = lim.count
            else:
                assert lim.amount is not None
                value = lim.amount.function(env)
                amount = value if isinstance(value, Money) else None
            limits.append(
                EvaluatedLimit(lim.kind, lim.scope, lim.counts_grants, amount, lim.over, lim.text)
            )
        return limits

    def check(
        self,
        wf: Workflow,
        inst: Instance,
        kind: str,
        amount: Money | None,
        env: Env,
        t: dt.datetime,
    ) -> tuple[Money | None, str | None]:
        limits = self.evaluated_limits(wf, kind, env)
        client = self.data.get("client")
        client = client if isinstance(client, str) else None
        own = [
            Grant(o.decided_at or o.at, client, o.kind, o.amount)
            for o in inst.offers
            if o.status in _GRANTED and o.amount is not None
        ]
        theirs: list[Grant] = []
        if client is not None and any(lim.scope == "client" for lim in limits):
            theirs = self.ctx.ledger.grants(client)
        decision = check_limits(kind, amount, client, own, theirs, limits, t)
        return decision.amount, decision.reason

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
            return False
        role = None
        highest: Decimal | None = None
        for approval in wf.approvals:
            if approval.kind not in ("compensation", item.kind):
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

        def begin() -> None:
            for sla in wf.slas:
                if sla.start_step is None:
                    self.sla_start(inst, sla, inst.slas[sla.name], t)
            self.go(wf, inst, wf.start, t)

        self.guarded(wf, inst, t, begin)
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
        candidates: list[TriggerSpec] = []
        env = Env(self.data, payload, None, None, None, None, t)
        try:
            for trig in wf.triggers:
                mode = trig.mode
                if mode == "when":
                    if not data_changed:
                        continue
                    assert trig.condition is not None
                    holds = trig.condition.function(env)
                    before = flow.memory.get(trig.name, False)
                    flow.memory[trig.name] = holds
                    if holds and not before:
                        candidates.append(trig)
                elif mode == "on":
                    if event_type == trig.event and (
                        trig.condition is None or trig.condition.function(env)
                    ):
                        candidates.append(trig)
                elif data_changed and self.schedule_at(wf, flow, trig, env, t):
                    candidates.append(trig)
        except ExprError as error:
            flow.error = f"case {self.case_id}: trigger {trig.name}: {error.message}"
            self.ctx.errors.append(flow.error)
            self.trace(t, wf.name, None, f"error: {flow.error}")
            return None
        if active:
            return None
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
        state.data = dict(inp.data)
        self.data = state.data
        state.submissions.append(t)
        state.last_at = t
        state.last_input = t
        state.history.append((t, "submission", inp.data))
        again = len(state.submissions) > 1  # a re-submission counts as an update
        fields = {k: v for k, v in inp.data.items() if k != "id"}
        for wf in self.ctx.workflows:
            flow = self.flow(wf.name)
            inst = flow.active
            if inst is not None:
                self.update(self.workflow_of(inst), inst, t, fields)
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

        def react() -> None:
            spec = wf.steps[inst.step or ""]
            env = self.env(inst, t, fields)
            target = None
            if inst.phase == "waiting":
                for imm in spec.immediates:
                    if imm.guard is None or imm.guard.function(env):
                        target = imm.target
                        break
            if target is None:
                target = self.match(wf, spec, "case_updated", env)
            self.go(wf, inst, target, t)

        self.guarded(wf, inst, t, react)

    def event(self, inp: Event) -> None:
        state, t = self.state, inp.at
        if inp.id is not None and inp.id in state.seen_ids:
            record = IgnoredRecord(t, inp.type, inp.id, "duplicate")
            for wf in self.ctx.workflows:
                self.record_ignored(self.flow(wf.name), record)
            state.history.append((t, "duplicate", inp.type, inp.id))
            return
        if inp.id is not None:
            state.seen_ids.add(inp.id)
        state.last_at = t
        state.last_input = t
        is_update = inp.type == "case_updated"
        if is_update:
            state.data.update(inp.payload)
        state.history.append((t, "event", inp.type, inp.id, inp.payload))
        for wf in self.ctx.workflows:
            flow = self.flow(wf.name)
            inst = flow.active
            if inst is not None:
                if is_update:  # only the data triggers' memory can change
                    self.triggers(wf, flow, t, inp.type, inp.payload, True, True)
                iwf = self.workflow_of(inst)
                if is_update:
                    self.update(iwf, inst, t, inp.payload)
                else:
                    self.deliver(iwf, inst, inp)
                continue
            started = self.triggers(wf, flow, t, inp.type, inp.payload, is_update, False)
            if started is None and not is_update:
                self.record_ignored(flow, IgnoredRecord(t, inp.type, inp.id, "no instance"))

    def deliver(self, wf: Workflow, inst: Instance, inp: Event) -> None:
        t = inp.at
        inst.clock = t

        def handle() -> None:
            spec = wf.steps[inst.step or ""]
            payload = inp.payload
            if (
                inp.type == "approval"
                and inst.pending_offer is not None
                and payload.get("workflow") in (None, wf.name)
            ):
                self.decide(wf, inst, spec, payload.get("approved") is True, t)
                return
            measures = wf.measures_by_event.get(inp.type)
            if measures:
                self.measure(wf, inst, measures, payload, t)
            target = self.match(wf, spec, inp.type, self.env(inst, t, payload))
            if target is None:
                record = IgnoredRecord(t, inp.type, inp.id, "no handler")
                inst.ignored.append(record)
                self.ctx.ignored.append((self.case_id, wf.name, record))
                return
            self.go(wf, inst, target, t)

        self.guarded(wf, inst, t, handle)

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
            low, high = _SCALES.get(m.kind, (None, None))
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
        role = timer.kind if timer.name is None else f"{timer.kind}:{timer.name}"
        if inst.timers.get(role) == timer.seq:
            del inst.timers[role]
        inst.clock = t
        wf = self.workflow_of(inst)
        state.history.append((t, "timer", timer.kind, timer.name, wf.name, inst.number))
        self.guarded(wf, inst, t, lambda: self.fire_timer(wf, inst, timer, t))

    def fire_timer(self, wf: Workflow, inst: Instance, timer: Timer, t: dt.datetime) -> None:
        kind = timer.kind
        if kind == "sla_due" or kind == "sla_warn":
            self.fire_sla(wf, inst, timer, t)
            return
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
            env = self.env(inst, t)
            for item in spec.actions:
                self.emit(inst, t, item.name, {name: arg.function(env) for name, arg in item.args})
            if inst.every_count < spec.every_count and spec.every is not None:
                self.set_timer(inst, "every", "every", spec.every.after(t))

    def fire_sla(self, wf: Workflow, inst: Instance, timer: Timer, t: dt.datetime) -> None:
        sla = next(s for s in wf.slas if s.name == timer.name)
        st = inst.slas[sla.name]
        if st.status != "pending" or st.paused:
            return
        if timer.kind == "sla_warn":
            st.warned = True
            self.emit(inst, t, "sla_warning", {"sla": sla.name, "due": st.due})
            return
        st.status = "breached"
        self.cancel_timer(inst, "sla_warn:" + sla.name)
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
        trig = next(tr for tr in wf.triggers if tr.name == name)
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
            self.guarded(wf, inst, t, functools.partial(self.go, wf, inst, inp.step, t))

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


_SCALES: dict[str, tuple[Decimal, Decimal]] = {
    "csat": (Decimal(1), Decimal(5)),
    "nps": (Decimal(0), Decimal(10)),
}


_ZEROS: dict[str, Money] = {}


def _zero(money: Money | None) -> Money | None:
    if money is None:
        return None
    zero = _ZEROS.get(money.currency)
    if zero is None:
        zero = _ZEROS[money.currency] = Money(Decimal(0), money.currency)
    return zero
