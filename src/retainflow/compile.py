"""Compile a checked workflow: `nodes.Workflow` (with its source) in, a frozen `Workflow` out.

Everything the engine needs is prepared here once, so running a case never walks the AST:
business calendars, resolved case and event types, constant values, triggers with
compiled conditions, limits and approvals with compiled amounts, SLAs, measures, steps
with compiled guards, arguments and amounts, and every `DUR [in CAL]` turned into a
`Deadline` (t -> t + DUR, in open time when a calendar is given).

    >>> wf = compile_text("workflow w version 1\\nstart a\\nstep a { -> done }\\noutcome done")
    >>> wf.steps["a"].immediates[0].target
    'done'

The input must have passed the checks (`retainflow.load` guarantees it); this module
trusts names and types and only resolves them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import networkx as nx

from retainflow import nodes as n
from retainflow.calendar import DAY_NAMES, BusinessCalendar, WeeklyInterval
from retainflow.exprs import Compiled, ExprError, compile_condition, compile_expr, evaluate_const
from retainflow.graph import build_graph
from retainflow.ledger import EvaluatedLimit
from retainflow.source import SourceFile
from retainflow.types import BOOL, TEXT, Type, resolve_type
from retainflow.values import DURATION_UNITS, Duration, Money

__all__ = [
    "Approval",
    "Deadline",
    "DoItem",
    "Handler",
    "Immediate",
    "LimitSpec",
    "MeasureSpec",
    "OfferItem",
    "OutcomeSpec",
    "SlaSpec",
    "StepSpec",
    "TriggerSpec",
    "Workflow",
    "compile_text",
    "compile_workflow",
]

_UTC = dt.UTC
_NO_INSTANT = dt.datetime.min.replace(tzinfo=_UTC)  # a `Deadline` memo that holds nothing yet

# Built-in events (language.md, "Built-in events and actions").
APPROVAL_FIELDS: dict[str, Type] = {"approved": BOOL, "workflow": TEXT.as_optional()}
OFFER_KINDS = ("discount", "credit", "service", "extension")
ENGINE_ACTIONS = frozenset({"grant", "request_approval", "sla_warning", "sla_breached"})


class Deadline:
    """A resolved `DUR [in CAL]`: `after(t)` is t + DUR, `before(t)` is DUR before t.

    Without a calendar both are exact elapsed time; with one they count open time (or
    open days for `d`). Results are UTC datetimes. Each instance remembers its last
    instant and result, per direction: the core computes deadlines in time order, so cases
    that share an instant (a batch submitted at once) ask for the same one in a row. (A
    memo of every instant hit no more often on the benchmark timelines, and hashing a fresh
    aware datetime for it cost more than the comparison.)
    """

    __slots__ = (
        "_after_at",
        "_after_hit",
        "_before_at",
        "_before_hit",
        "calendar",
        "delta",
        "duration",
    )

    def __init__(self, duration: Duration, calendar: BusinessCalendar | None) -> None:
        self.duration = duration
        self.calendar = calendar
        self.delta = duration.timedelta
        self._after_at: dt.datetime | None = None
        self._after_hit = _NO_INSTANT
        self._before_at: dt.datetime | None = None
        self._before_hit = _NO_INSTANT

    def __repr__(self) -> str:
        return f"Deadline({self.text!r})"

    @property
    def text(self) -> str:
        cal = f" in {self.calendar.name}" if self.calendar is not None else ""
        return f"{self.duration}{cal}"

    def after(self, t: dt.datetime) -> dt.datetime:
        calendar = self.calendar
        if calendar is None:
            return t + self.delta
        if t == self._after_at:
            return self._after_hit
        hit = calendar.add_utc(t, self.duration.amount, self.duration.unit)
        self._after_at, self._after_hit = t, hit
        return hit

    def before(self, t: dt.datetime) -> dt.datetime:
        calendar = self.calendar
        if calendar is None:
            return t - self.delta
        if t == self._before_at:
            return self._before_hit
        hit = calendar.subtract_utc(t, self.duration.amount, self.duration.unit)
        self._before_at, self._before_hit = t, hit
        return hit

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Time between two instants as this deadline counts it (open time with a calendar)."""
        if self.calendar is None:
            return max(end - start, dt.timedelta(0))
        return self.calendar.open_time(start, end)

    def shift(self, t: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """t moved later by `amount` counted the way this deadline counts (open time)."""
        if not amount:
            return t
        if self.calendar is None:
            return t + amount
        seconds = amount // dt.timedelta(seconds=1)
        micros = amount - dt.timedelta(seconds=seconds)
        moved = self.calendar.add(t, seconds, "s").astimezone(_UTC)
        if micros:
            moved = self.calendar.add(moved, 0, "s").astimezone(_UTC) + micros
        return moved


# ---- compiled pieces ------------------------------------------------------------------


@attrs.frozen
class DoItem:
    """`do NAME(ARG: EXPR, ...)`; `const_args` holds the arguments when every one is a
    constant (the engine copies it instead of evaluating)."""

    name: str
    args: tuple[tuple[str, Compiled], ...]
    const_args: Mapping[str, Any] | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class OfferItem:
    """`offer KIND AMOUNT [label "..."]`; `currency` is AMOUNT's static currency, when its
    type names one (what `offer.amount` is zero in when AMOUNT evaluates to none)."""

    kind: str
    amount: Compiled
    label: str | None
    currency: str | None = None


@attrs.frozen
class Immediate:
    """`when GUARD -> TARGET` (guard None for `-> TARGET`)."""

    guard: Compiled | None
    target: str


@attrs.frozen
class Handler:
    """`on EVENT [when GUARD] -> TARGET`, of a step or global."""

    event: str
    guard: Compiled | None
    target: str


@attrs.frozen(eq=False)
class StepSpec:
    name: str
    title: str | None
    wait: Deadline | None
    due: Deadline | None
    every: Deadline | None
    every_count: int
    work: tuple[DoItem | OfferItem, ...]
    actions: tuple[DoItem, ...]  # the `do` items only: what an `every` repetition re-runs
    immediates: tuple[Immediate, ...]
    handlers: Mapping[str, tuple[Handler, ...]]  # by event, source order; no `timeout`
    timeout: str | None  # `on timeout -> TARGET`
    has_offer: bool
    is_outcome: bool = False
    # the SLAs that entering this step may start, meet, pause or resume (workflow order)
    sla_entry: tuple[SlaSpec, ...] = ()


@attrs.frozen(eq=False)
class OutcomeSpec:
    name: str
    kind: str  # retained, churned, other
    is_outcome: bool = True
    sla_entry: tuple[SlaSpec, ...] = ()  # the SLAs that entering this outcome may meet


@attrs.frozen(eq=False)
class TriggerSpec:
    name: str
    index: int
    mode: str  # "on", "when", "at"
    event: str | None
    at: Compiled | None
    condition: Compiled | None
    cooldown: dt.timedelta | None


@attrs.frozen(eq=False)
class LimitSpec:
    kind: str  # compensation, an offer kind, or grants
    scope: str  # case or client
    counts_grants: bool
    amount: Compiled | None  # money limits
    count: int | None  # grants limits
    over: dt.timedelta | None
    text: str
    uses_case: bool
    # the limit as evaluated for any case, when its AMOUNT is a constant (or it counts grants)
    fixed: EvaluatedLimit | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(eq=False)
class Approval:
    kind: str
    amount: Compiled
    role: str
    index: int


@attrs.frozen(eq=False)
class SlaSpec:
    name: str
    index: int
    deadline: Deadline
    warn: Deadline | None  # counted back from the due, in the SLA's calendar
    start_step: str | None  # None: starts with the instance
    until: str
    until_any_outcome: bool
    pause: frozenset[str]
    breach: str | None
    warn_role: str = ""  # the timer roles of the instance: "sla_warn:NAME", "sla_due:NAME"
    due_role: str = ""


@attrs.frozen(eq=False)
class MeasureSpec:
    name: str
    event: str
    field: str
    kind: str  # csat, nps, number


@attrs.frozen(eq=False)
class Workflow:
    """A compiled workflow: what the engine runs, plus what produced it.

    `content_hash` is the sha256 of the source text; `graph` the state graph of
    `retainflow.graph.build_graph`; `targets` maps every step and outcome name to its
    spec. Mappings are read-only by convention (the object is shared by every case).
    """

    name: str
    version: int
    title: str | None
    source: str
    path: str | None
    content_hash: str
    ast: n.Workflow
    graph: nx.MultiDiGraph
    calendars: Mapping[str, BusinessCalendar]
    holidays_version: str
    case_fields: Mapping[str, Type]  # declared case fields (besides `id`)
    event_fields: Mapping[str, Mapping[str, Type]]  # declared events (+ approval)
    consts: Mapping[str, Any]
    triggers: tuple[TriggerSpec, ...]
    limits: tuple[LimitSpec, ...]
    approvals: tuple[Approval, ...]
    slas: tuple[SlaSpec, ...]
    measures: tuple[MeasureSpec, ...]
    measures_by_event: Mapping[str, tuple[MeasureSpec, ...]]
    global_handlers: Mapping[str, tuple[Handler, ...]]
    start: str
    steps: Mapping[str, StepSpec]
    outcomes: Mapping[str, OutcomeSpec]
    targets: Mapping[str, StepSpec | OutcomeSpec]
    kind_limits: Mapping[str, tuple[LimitSpec, ...]]  # offer kind -> applicable limits
    # lookup tables for the engine core (derived from the fields above)
    on_triggers: Mapping[str, tuple[TriggerSpec, ...]] = attrs.field(
        factory=dict, eq=False, repr=False
    )  # event name -> its `on` triggers, source order
    sla_by_name: Mapping[str, SlaSpec] = attrs.field(factory=dict, eq=False, repr=False)
    trigger_by_name: Mapping[str, TriggerSpec] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def has_client(self) -> bool:
        return "client" in self.case_fields

    def limits_for(self, kind: str) -> tuple[LimitSpec, ...]:
        """The limits that apply to an offer of `kind`, in source order."""
        found = self.kind_limits.get(kind)
        if found is None:
            found = _limits_for(self.limits, kind)
        return found

    def __repr__(self) -> str:
        return f"<Workflow {self.name} version {self.version}>"


# ---- compiling --------------------------------------------------------------------------


class _Compiler:
    def __init__(self, ast: n.Workflow, source: SourceFile) -> None:
        self.ast = ast
        self.source = source
        self.consts: dict[str, Any] = {}
        self.calendars: dict[str, BusinessCalendar] = {}

    @functools.cached_property
    def offer_currencies(self) -> dict[int, str]:
        """id() of each `offer` statement -> the currency its AMOUNT's type names (the type
        checker's inference; the workflow is checked, so every AMOUNT is money)."""
        from retainflow.checks.context import build_context
        from retainflow.checks.typecheck import Typer

        ctx = build_context(self.ast, self.source)
        found: dict[int, str] = {}
        for site in ctx.sites:
            if site.role == "offer":
                currency = Typer(ctx, site.scope, []).infer(site.expr).currency
                if currency is not None:
                    found[id(site.owner)] = currency
        return found

    # -- constants and durations --

    def compile_consts(self) -> None:
        self.consts.update(
            _resolve_consts(
                {c.name.text: c for c in self.ast.of(n.Const)},
                lambda expr, known: (True, evaluate_const(expr, known)),
            )
        )

    def duration(self, ref: n.DurationRef) -> Duration:
        if isinstance(ref, n.DurationLit):
            return ref.value
        decls = {c.name.text: c for c in self.ast.of(n.Const)}
        decl = decls.get(ref.name.text)
        if decl is not None and isinstance(decl.value, n.DurationLit):
            return decl.value.value
        value = self.consts.get(ref.name.text)
        if isinstance(value, Duration):
            return value
        if isinstance(value, dt.timedelta):
            return _as_duration(value)
        raise ExprError(f"'{ref.name.text}' is not a duration constant", ref.span)

    def deadline(self, ref: n.DurationRef, calendar: n.Name | None) -> Deadline:
        cal = self.calendars[calendar.text] if calendar is not None else None
        return Deadline(self.duration(ref), cal)

    def timedelta(self, ref: n.DurationRef | None) -> dt.timedelta | None:
        return None if ref is None else self.duration(ref).timedelta

    # -- calendars --

    def compile_calendars(self) -> None:
        for decl in self.ast.of(n.Calendar):
            if decl.name.text not in self.calendars:
                self.calendars[decl.name.text] = build_calendar(decl)

    # -- the rest --

    def expr(self, expr: n.Expr) -> Compiled:
        return compile_expr(expr, self.consts)

    def cond(self, expr: n.Expr | None) -> Compiled | None:
        return None if expr is None else compile_condition(expr, self.consts)

    def step(self, step: n.Step) -> StepSpec:
        work: list[DoItem | OfferItem] = []
        for stmt in step.work:
            if isinstance(stmt, n.Do):
                args = tuple((arg.name.text, self.expr(arg.value)) for arg in stmt.args)
                fixed = (
                    {name: arg.value for name, arg in args}
                    if all(arg.constant for _, arg in args)
                    else None
                )
                work.append(DoItem(stmt.action.text, args, fixed))
            else:
                work.append(
                    OfferItem(
                        stmt.kind.text,
                        self.expr(stmt.amount),
                        stmt.label.value if stmt.label else None,
                        self.offer_currencies.get(id(stmt)),
                    )
                )
        immediates = tuple(
            Immediate(self.cond(s.guard) if isinstance(s, n.When) else None, s.target.text)
            for s in step.immediates
        )
        handlers: dict[str, list[Handler]] = {}
        timeout: str | None = None
        for on in step.handlers:
            if on.is_timeout:
                if timeout is None:
                    timeout = on.target.text
                continue
            handlers.setdefault(on.event.text, []).append(
                Handler(on.event.text, self.cond(on.guard), on.target.text)
            )
        wait, due, every = step.wait, step.due, step.every
        return StepSpec(
            name=step.name.text,
            title=step.title.value if step.title else None,
            wait=self.deadline(wait.duration, wait.calendar) if wait else None,
            due=self.deadline(due.duration, due.calendar) if due else None,
            every=self.deadline(every.duration, every.calendar) if every else None,
            every_count=every.count if every else 0,
            work=tuple(work),
            actions=tuple(item for item in work if isinstance(item, DoItem)),
            immediates=immediates,
            handlers={event: tuple(items) for event, items in handlers.items()},
            timeout=timeout,
            has_offer=step.has_offer,
        )

    def build(self, path: str | None) -> Workflow:
        ast = self.ast
        self.compile_consts()
        self.compile_calendars()
        schema = ast.case_schema
        case_fields = {
            f.name.text: resolve_type(f.type)[0] for f in (schema.fields if schema else ())
        }
        event_fields: dict[str, dict[str, Type]] = {"approval": dict(APPROVAL_FIELDS)}
        for decl in ast.of(n.EventDecl):
            event_fields.setdefault(
                decl.name.text, {f.name.text: resolve_type(f.type)[0] for f in decl.fields}
            )
        triggers = tuple(
            TriggerSpec(
                name=t.name.text,
                index=i,
                mode=t.mode,
                event=t.event.text if t.event else None,
                at=self.expr(t.at) if t.at is not None else None,
                condition=self.cond(t.condition),
                cooldown=self.timedelta(t.cooldown),
            )
            for i, t in enumerate(ast.of(n.Trigger))
        )
        limits = tuple(self.limit(lim) for lim in ast.of(n.Limit))
        approvals = tuple(
            Approval(a.kind.text, self.expr(a.amount), a.role.value, i)
            for i, a in enumerate(ast.of(n.Approve))
        )
        slas: list[SlaSpec] = []
        for i, sla in enumerate(_first_by_name(ast.of(n.Sla))):
            deadline = self.deadline(sla.duration, sla.calendar)
            warn = (
                Deadline(self.duration(sla.warn), deadline.calendar)
                if sla.warn is not None
                else None
            )
            slas.append(
                SlaSpec(
                    name=sla.name.text,
                    index=i,
                    deadline=deadline,
                    warn=warn,
                    start_step=sla.start_step.text if sla.start_step else None,
                    until=sla.until.text,
                    until_any_outcome=sla.until_any_outcome,
                    pause=frozenset(p.text for p in sla.pause),
                    breach=sla.breach.text if sla.breach else None,
                    warn_role="sla_warn:" + sla.name.text,
                    due_role="sla_due:" + sla.name.text,
                )
            )
        measures = tuple(
            MeasureSpec(
                m.name.text, m.event.text, m.field.text, m.kind.text if m.kind else "number"
            )
            for m in ast.of(n.Measure)
        )
        by_event: dict[str, list[MeasureSpec]] = {}
        for measure in measures:
            by_event.setdefault(measure.event, []).append(measure)
        global_handlers: dict[str, list[Handler]] = {}
        for on in ast.global_handlers:
            global_handlers.setdefault(on.event.text, []).append(
                Handler(on.event.text, self.cond(on.guard), on.target.text)
            )
        steps: dict[str, StepSpec] = {}
        outcomes: dict[str, OutcomeSpec] = {}
        targets: dict[str, StepSpec | OutcomeSpec] = {}
        for item in ast.declarations:
            if isinstance(item, n.Step) and item.name.text not in targets:
                steps[item.name.text] = targets[item.name.text] = self.step(item)
            elif isinstance(item, n.Outcome) and item.name.text not in targets:
                outcomes[item.name.text] = targets[item.name.text] = OutcomeSpec(
                    item.name.text, item.kind_text
                )
        for name, spec in targets.items():
            entry = _sla_entry(slas, name, spec.is_outcome)
            if entry:
                spec = targets[name] = attrs.evolve(spec, sla_entry=entry)
                if isinstance(spec, StepSpec):
                    steps[name] = spec
                else:
                    outcomes[name] = spec
        on_triggers: dict[str, list[TriggerSpec]] = {}
        for trig in triggers:
            if trig.mode == "on" and trig.event is not None:
                on_triggers.setdefault(trig.event, []).append(trig)
        start = ast.start
        if start is None:
            raise ValueError(f"workflow {ast.name} has no start step")
        titles = ast.of(n.Title)
        text = self.source.text
        return Workflow(
            name=ast.name,
            version=ast.version,
            title=titles[0].text.value if titles else None,
            source=text,
            path=path,
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            ast=ast,
            graph=build_graph(ast, self.source),
            calendars=self.calendars,
            holidays_version=BusinessCalendar.holidays_version,
            case_fields=case_fields,
            event_fields=event_fields,
            consts=self.consts,
            triggers=triggers,
            limits=limits,
            approvals=approvals,
            slas=tuple(slas),
            measures=measures,
            measures_by_event={k: tuple(v) for k, v in by_event.items()},
            global_handlers={k: tuple(v) for k, v in global_handlers.items()},
            start=start.step.text,
            steps=steps,
            outcomes=outcomes,
            targets=targets,
            kind_limits={
                kind: _limits_for(limits, kind)
                for kind in {
                    *OFFER_KINDS,
                    *(i.kind for st in steps.values() for i in st.work if isinstance(i, OfferItem)),
                }
            },
            on_triggers={k: tuple(v) for k, v in on_triggers.items()},
            sla_by_name={sla.name: sla for sla in slas},
            trigger_by_name={t.name: t for t in reversed(triggers)},
        )

    def limit(self, lim: n.Limit) -> LimitSpec:
        text = _source_text(self.source, lim)
        over = self.timedelta(lim.over)
        if lim.counts_grants:
            value = evaluate_const(lim.amount, self.consts)
            count = int(value)
            counted = EvaluatedLimit("grants", lim.scope.text, True, count, over, text)
            return LimitSpec(
                "grants", lim.scope.text, True, None, count, over, text, False, counted
            )
        amount = self.expr(lim.amount)
        fixed: EvaluatedLimit | None = None
        if amount.constant:
            value = amount.value if isinstance(amount.value, Money) else None
            fixed = EvaluatedLimit(lim.kind.text, lim.scope.text, False, value, over, text)
        return LimitSpec(
            lim.kind.text,
            lim.scope.text,
            False,
            amount,
            None,
            over,
            text,
            _uses_case(lim.amount),
            fixed,
        )


def compile_workflow(ast: n.Workflow, source: SourceFile) -> Workflow:
    """Compile a checked workflow (its AST and the source it was parsed from)."""
    path = None if source.path.startswith("<") else source.path
    return _Compiler(ast, source).build(path)


def constant_value(expr: n.Expr, consts: Mapping[str, Any]) -> tuple[bool, Any]:
    """`(True, value)` when `expr` is a constant expression (it reads no case, event or
    offer data, `trigger`, `elapsed` or `now`: `20 USD + 30 USD`, `10% of cap`), compiled
    as the engine compiles it; `(False, None)` otherwise, also when it cannot be compiled
    (an unknown constant, money of two currencies). For the checks, which see workflows
    that may not check."""
    try:
        compiled = compile_expr(expr, consts)
    except (ExprError, ArithmeticError, ValueError, SyntaxError, RecursionError):
        return False, None
    return (True, compiled.value) if compiled.constant else (False, None)


def constant_values(ast: n.Workflow) -> dict[str, Any]:
    """The value of each constant declared by a constant expression (`constant_value`),
    by name, following references in any order; the first declaration of a name wins,
    and a constant in a cycle or not constant is left out."""
    decls: dict[str, n.Const] = {}
    for const in ast.of(n.Const):
        decls.setdefault(const.name.text, const)
    return _resolve_consts(decls, constant_value)


def _resolve_consts(
    decls: Mapping[str, n.Const],
    evaluate: Callable[[n.Expr, dict[str, Any]], tuple[bool, Any]],
) -> dict[str, Any]:
    """Each constant's value, by `evaluate(expr, values so far)`, the constants it refers
    to first (declarations may come in any order); one in a cycle is evaluated without the
    constants of the cycle, one `evaluate` cannot value is left out."""
    values: dict[str, Any] = {}
    visiting: set[str] = set()

    def resolve(name: str) -> None:
        if name in values or name in visiting or name not in decls:
            return
        visiting.add(name)
        for ref in _const_refs(decls[name].value):
            resolve(ref)
        known, value = evaluate(decls[name].value, values)
        if known:
            values[name] = value

    for name in decls:
        resolve(name)
    return values


def compile_text(text: str, path: str = "<text>") -> Workflow:
    """Analyze and compile in one go; raises `retainflow.CompileError` on errors."""
    from retainflow.api import load_source  # the API owns the error type

    return load_source(SourceFile(path, text))


# ---- helpers ------------------------------------------------------------------------------


def build_calendar(decl: n.Calendar) -> BusinessCalendar:
    """A checked `calendar NAME { ... }` declaration as a `BusinessCalendar` (the one
    builder: the compiler, reports and tests all use it)."""
    zone = "UTC"
    intervals: list[WeeklyInterval] = []
    countries: list[str] = []
    closed: list[dt.date] = []
    opened: list[dt.date] = []
    for item in decl.items:
        if isinstance(item, n.CalTimezone):
            zone = item.zone.value
        elif isinstance(item, n.CalHours):
            for day in _weekdays(item.days):
                intervals.extend(
                    WeeklyInterval(day, iv.open.minutes, iv.close.minutes) for iv in item.intervals
                )
        elif isinstance(item, n.CalHolidaysCountry):
            countries.append(item.country.value)
        elif isinstance(item, n.CalHolidaysDates):
            closed.extend(d.value for d in item.dates)
        elif isinstance(item, n.CalOpen):
            opened.extend(d.value for d in item.dates)
    return BusinessCalendar(decl.name.text, zone, intervals, countries, closed, opened)


def _sla_entry(slas: list[SlaSpec], name: str, is_outcome: bool) -> tuple[SlaSpec, ...]:
    """The SLAs whose state entering `name` may change: the core skips the others."""
    return tuple(
        sla
        for sla in slas
        if sla.start_step == name
        or sla.until == name
        or (sla.until_any_outcome and is_outcome)
        or (sla.pause and not is_outcome)
    )


def _limits_for(limits: tuple[LimitSpec, ...], kind: str) -> tuple[LimitSpec, ...]:
    return tuple(lim for lim in limits if lim.counts_grants or lim.kind in ("compensation", kind))


def _weekdays(days: tuple[n.DaySpec, ...]) -> list[int]:
    result: list[int] = []
    for spec in days:
        first = DAY_NAMES.index(spec.first.text.lower())
        last = DAY_NAMES.index(spec.last.text.lower()) if spec.last else first
        day = first
        while True:
            if day not in result:
                result.append(day)
            if day == last:
                break
            day = (day + 1) % 7
    return result


def _as_duration(value: dt.timedelta) -> Duration:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = DURATION_UNITS[unit]
        if seconds and seconds % size == 0:
            return Duration(seconds // size, unit)
    return Duration(seconds, "s")


def _first_by_name(slas: list[n.Sla]) -> list[n.Sla]:
    seen: dict[str, n.Sla] = {}
    for sla in slas:
        seen.setdefault(sla.name.text, sla)
    return list(seen.values())


def _children(expr: n.Expr) -> list[n.Expr]:
    out: list[n.Expr] = []
    for field in attrs.fields(type(expr)):
        value = getattr(expr, field.name)
        if isinstance(value, tuple):
            out.extend(v for v in value if not isinstance(v, n.Name | str))
        elif (
            attrs.has(type(value))
            and not isinstance(value, n.Name)
            and field.name != "span"
            and not field.name.endswith("span")
        ):
            out.append(value)
    return out


def _walk(expr: n.Expr) -> list[n.Expr]:
    stack, seen = [expr], []
    while stack:
        node = stack.pop()
        seen.append(node)
        stack.extend(_children(node))
    return seen


def _const_refs(expr: n.Expr) -> list[str]:
    return [node.name.text for node in _walk(expr) if isinstance(node, n.ConstRef)]


def _uses_case(expr: n.Expr) -> bool:
    return any(isinstance(node, n.CaseRef) for node in _walk(expr))


def _source_text(source: SourceFile, node: Any) -> str:
    text = " ".join(source.snippet(node.span).split())
    return text.removeprefix("limit ").strip()
