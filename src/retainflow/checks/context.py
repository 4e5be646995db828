"""What every check needs, built once per workflow: `nodes.Workflow` in, `CheckContext` out.

The context holds the symbol tables (steps, outcomes, events with resolved field types,
actions, constants with their types and constant values, calendars, triggers, SLAs,
measures, limits), the case schema as resolved `Type`s, and every place an expression
or a duration appears (`sites`, `durations`) with the scope it is read in. Checks read
it and never change it.

    >>> ctx = build_context(workflow, source)
    >>> [site.role for site in ctx.sites][:2]
    ['const', 'trigger_when']
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, DivisionByZero, InvalidOperation
from fractions import Fraction
from typing import Final, Protocol, TypeAlias, TypeVar

import attrs

from retainflow import nodes as n
from retainflow.diagnostics import Diagnostic, Related, closest
from retainflow.source import SourceFile, Span
from retainflow.types import (
    ANY,
    BOOL,
    TEXT,
    TIME,
    Type,
    TypeProblem,
    resolve_type,
)
from retainflow.values import DURATION_UNITS, Duration, Money, Percent, format_timedelta

# ---- the language's fixed vocabulary ------------------------------------------------

FUNCTIONS: Final = (
    "min",
    "max",
    "abs",
    "round",
    "len",
    "lower",
    "upper",
    "contains",
    "starts_with",
    "days",
    "hours",
)
ENGINE_ACTIONS: Final = ("grant", "request_approval", "sla_warning", "sla_breached")
BUILTIN_EVENTS: Final = ("approval", "case_updated")
RESERVED_CASE_FIELDS: Final = ("id", "at", "events")
RESERVED_EVENT_FIELDS: Final = ("type", "at", "id", "workflow")
OFFER_STATUSES: Final = ("granted", "capped", "refused", "denied", "pending", "withdrawn")
OFFER_FIELDS: Final = ("status", "amount")
# Every event carries these besides its payload (tools.md, "Case files").
ENVELOPE_FIELDS: Final = {"type": TEXT, "at": TIME, "id": TEXT.as_optional()}
TYPE_NAMES: Final = (
    "bool",
    "number",
    "text",
    "money",
    "percent",
    "duration",
    "time",
    "enum",
    "list",
)
OFFER_STATUS_TYPE: Final = Type("enum", members=OFFER_STATUSES)

# Expressions deeper than this or larger than that are RF003 (language.md).
MAX_DEPTH: Final = 32
MAX_NODES: Final = 1000
# `closest()` proposes names down to a similarity of 0.6; below this one they mislead.
SUGGESTION_CUTOFF: Final = 0.75


# ---- where an expression is read ------------------------------------------------------


@attrs.frozen
class Scope:
    """What an expression may refer to where it stands.

    `event` names the event whose payload `event.*` reads (None: no event here, and
    `no_event` says why); `step` is the step the expression belongs to (offer.* needs
    one with an `offer`); `constant` is set inside a `const` definition.
    """

    where: str
    event: str | None = None
    no_event: str = "`event.*` is only available in `on EVENT when ...` guards and event triggers"
    step: n.Step | None = None
    constant: str | None = None


@attrs.frozen
class Site:
    """One top-level expression and its role: const, trigger_when, trigger_at, limit,
    grants, approve, offer, arg, guard."""

    expr: n.Expr
    scope: Scope
    role: str
    owner: object  # the node holding the expression (Const, Trigger, Arg, When, On, ...)
    do: n.Do | None = None


@attrs.frozen
class DurationSite:
    """A DUR of a declaration or statement: wait, due, every, cooldown, over, sla, warn."""

    ref: n.DurationRef
    calendar: n.Name | None
    role: str
    owner: object


@attrs.frozen
class EventInfo:
    """A declared or built-in event; `fields` None: payload of any shape (case_updated
    has the case's fields, each optional)."""

    name: str
    decl: n.EventDecl | None
    fields: dict[str, Type]


@attrs.frozen
class ActionInfo:
    decl: n.ActionDecl
    params: dict[str, Type]


@attrs.frozen
class DurationValue:
    """A constant duration: its exact length in seconds (a fraction: exact, and without
    the range limit of `timedelta`) and the units it was written in."""

    seconds: Fraction
    units: frozenset[str]

    @classmethod
    def of(cls, literal: Duration) -> DurationValue:
        seconds = Fraction(literal.amount * DURATION_UNITS[literal.unit])
        return cls(seconds, frozenset({literal.unit}))

    def __str__(self) -> str:
        """The largest exact unit: `36h`, `-1d`, `0s`."""
        try:
            return format_timedelta(dt.timedelta(microseconds=round(self.seconds * 1_000_000)))
        except OverflowError:
            return f"{round(self.seconds)}s"


@attrs.frozen
class _Unknown:
    pass


UNKNOWN: Final = _Unknown()
ConstValue: TypeAlias = (
    Decimal
    | str
    | bool
    | Money
    | Percent
    | DurationValue
    | tuple["ConstValue", ...]
    | _Unknown
    | None
)


@attrs.frozen
class CheckContext:
    """Symbol tables and expression sites of one workflow (first definitions win)."""

    workflow: n.Workflow
    source: SourceFile
    steps: dict[str, n.Step]
    outcomes: dict[str, n.Outcome]
    events: dict[str, EventInfo]
    actions: dict[str, ActionInfo]
    consts: dict[str, n.Const]
    const_types: dict[str, Type]
    const_values: dict[str, ConstValue]
    calendars: dict[str, n.Calendar]
    triggers: dict[str, n.Trigger]
    slas: dict[str, n.Sla]
    measures: dict[str, n.Measure]
    limits: tuple[n.Limit, ...]
    approvals: tuple[n.Approve, ...]
    case_fields: dict[str, Type]
    type_problems: tuple[TypeProblem, ...]
    sites: tuple[Site, ...]
    durations: tuple[DurationSite, ...]
    too_complex: frozenset[int]  # id() of top-level expressions that are RF003

    # ---- helpers the checks share -----------------------------------------------------

    def text(self, node: object, limit: int = 40) -> str:
        """The source text of a node, on one line, shortened."""
        span = getattr(node, "span", None)
        if not isinstance(span, Span):
            return "?"
        snippet = " ".join(self.source.snippet(span).split())
        return snippet if len(snippet) <= limit else snippet[: limit - 3] + "..."

    def event_fields(self, event: str) -> dict[str, Type] | None:
        """Payload fields of `event` with their types; None for an undeclared event."""
        info = self.events.get(event)
        return None if info is None else info.fields

    def offer_amount_type(self, step: n.Step) -> Type:
        """`offer.amount` in `step`: money in the currency of its offers, if they agree."""
        from retainflow.checks.typecheck import Typer

        currencies: set[str | None] = set()
        scope = Scope(f"step '{step.name.text}'", step=None)  # no offer.* inside: no loop
        for offer in step.statements(n.Offer):
            if id(offer.amount) in self.too_complex:
                currencies.add(None)
                continue
            type_ = Typer(self, scope, []).infer(offer.amount)
            currencies.add(type_.currency if type_.name == "money" else None)
        currency = currencies.pop() if len(currencies) == 1 else None
        return Type("money", currency=currency)

    def targets(self) -> dict[str, str]:
        """Name -> "step" / "outcome" for every transition target."""
        kinds = {name: "outcome" for name in self.outcomes}
        kinds.update({name: "step" for name in self.steps})
        return kinds


# ---- generic helpers ------------------------------------------------------------------


def children(expr: n.Expr) -> tuple[n.Expr, ...]:
    """The direct sub-expressions of an expression."""
    if isinstance(expr, n.ListExpr):
        return expr.items
    if isinstance(expr, n.Call):
        return expr.args
    if isinstance(expr, n.Negate | n.Not | n.IsNone):
        return (expr.operand,)
    if isinstance(expr, n.Arith | n.Compare | n.BoolOp):
        return (expr.left, expr.right)
    if isinstance(expr, n.Of):
        return (expr.percent, expr.base)
    if isinstance(expr, n.IfExpr):
        return (expr.condition, expr.then, expr.otherwise)
    return ()


def walk(expr: n.Expr) -> Iterator[n.Expr]:
    """Every node of an expression, parents before children, without recursion."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def measure(expr: n.Expr) -> tuple[int, int]:
    """(depth, node count) of an expression, without recursion.

    A chain of one operator as written (`a or b or c`, `x + y + z`) is one level however
    long: it reads as a list, and the grammar nesting it pairwise (to the left: these
    operators associate left) is an accident of parsing. The same operator nested to the
    right, `x + (y + (z + ...))`, can only be written with parentheses: each is a level.
    """
    depth = count = 0
    stack = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        count += 1
        depth = max(depth, level)
        for index, child in enumerate(children(node)):
            written_chain = (
                index == 0  # the left operand
                and isinstance(node, n.BoolOp | n.Arith)
                and type(child) is type(node)
                and child.op == node.op
            )
            stack.append((child, level if written_chain else level + 1))
    return depth, count


def is_too_complex(expr: n.Expr) -> bool:
    depth, count = measure(expr)
    return depth > MAX_DEPTH or count > MAX_NODES


def keyword_span(source: SourceFile, between: Span, pattern: str) -> Span:
    """The span of a keyword operator (`of`, `in`, `and`...) inside the gap lowering
    recorded between its operands."""
    text = source.text[between.start : between.end]
    found = re.search(pattern, text)
    if found is None:
        return between
    return Span(between.start + found.start(), between.start + found.end())


def leading(span: Span, length: int) -> Span:
    """The first `length` characters of a span (a statement's keyword)."""
    return Span(span.start, min(span.end, span.start + length)) if span.end > span.start else span


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A candidate close enough to `name` to propose: the same name in another case, or
    `closest()`'s pick when it is clearly similar (weak matches mislead more than help)."""
    names = [c for c in dict.fromkeys(candidates) if c != name]
    folded = [c for c in names if c.lower() == name.lower()]
    if folded:
        return folded[0]
    found = closest(name, names)
    if found is None:
        return None
    ratio = difflib.SequenceMatcher(None, name, found).ratio()
    return found if ratio >= SUGGESTION_CUTOFF or _one_edit(name, found) else None


def _one_edit(a: str, b: str) -> bool:
    """Whether one insertion, deletion or substitution turns `a` into `b` (SCX, SCT)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def similar(
    code: str,
    span: Span,
    message: str,
    name: str,
    candidates: dict[str, str] | list[str] | tuple[str, ...],
    otherwise: str | None = None,
    related: tuple[Related, ...] = (),
) -> Diagnostic:
    """A diagnostic with a "did you mean" label when a candidate is close to `name`.

    `candidates` maps a name to what it is ("step", "outcome"...), or lists names of one
    kind (then the kind is taken from the message's first word).
    """
    if isinstance(candidates, dict):
        kinds = candidates
    else:
        kind = message.split(" ", 1)[0]
        kinds = dict.fromkeys(candidates, kind)
    suggestion = suggest(name, kinds)
    if suggestion is not None:
        kind = kinds[suggestion]
        article = "an" if kind[:1] in "aeiou" else "a"
        label = f"there is {article} {kind} with a similar name: '{suggestion}'"
        return Diagnostic(code, span, message, label=label, suggestion=suggestion, related=related)
    return Diagnostic(code, span, message, label=otherwise, related=related)


# ---- constant values ------------------------------------------------------------------


def evaluate(expr: n.Expr, lookup: Callable[[str], ConstValue]) -> ConstValue:
    """The value of a constant expression, or UNKNOWN when it is not simply computable.

    Covers what the checks need: literals, lists, negation, `+ - * /` on numbers,
    durations and money of one currency, `P of X`, and other constants.
    """
    try:
        return _evaluate(expr, lookup)
    except (ArithmeticError, InvalidOperation, ValueError, DivisionByZero):
        return UNKNOWN


def _evaluate(expr: n.Expr, lookup: Callable[[str], ConstValue]) -> ConstValue:
    if isinstance(expr, n.Number):
        return expr.value
    if isinstance(expr, n.String):
        return expr.value
    if isinstance(expr, n.Bool):
        return expr.value
    if isinstance(expr, n.NoneLit):
        return None
    if isinstance(expr, n.MoneyLit):
        return UNKNOWN if expr.value.currency == "XXX" else expr.value
    if isinstance(expr, n.PercentLit):
        return expr.value
    if isinstance(expr, n.DurationLit):
        return DurationValue.of(expr.value)
    if isinstance(expr, n.ListExpr):
        items = tuple(_evaluate(item, lookup) for item in expr.items)
        return UNKNOWN if any(isinstance(i, _Unknown) for i in items) else items
    if isinstance(expr, n.ConstRef):
        return lookup(expr.name.text)
    if isinstance(expr, n.Negate):
        return _negate(_evaluate(expr.operand, lookup))
    if isinstance(expr, n.Arith):
        return _arith(expr.op, _evaluate(expr.left, lookup), _evaluate(expr.right, lookup))
    if isinstance(expr, n.Of):
        percent = _evaluate(expr.percent, lookup)
        base = _evaluate(expr.base, lookup)
        if isinstance(percent, Percent):
            if isinstance(base, Money):
                return Money(percent.value * base.amount / 100, base.currency)
            if isinstance(base, Decimal):
                return percent.value * base / 100
    return UNKNOWN


def _negate(value: ConstValue) -> ConstValue:
    if isinstance(value, Decimal):
        return -value
    if isinstance(value, DurationValue):
        return DurationValue(-value.seconds, value.units)
    if isinstance(value, Money):
        return Money(-value.amount, value.currency)
    if isinstance(value, Percent):
        return Percent(-value.value)
    return UNKNOWN


def _arith(op: str, left: ConstValue, right: ConstValue) -> ConstValue:
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return None if right == 0 else left / right  # division by zero gives none
    if isinstance(left, DurationValue) and isinstance(right, DurationValue):
        units = left.units | right.units
        if op == "+":
            return DurationValue(left.seconds + right.seconds, units)
        if op == "-":
            return DurationValue(left.seconds - right.seconds, units)
        return UNKNOWN
    if isinstance(left, DurationValue) and isinstance(right, Decimal):
        return _scale(left, right, op)
    if isinstance(left, Decimal) and isinstance(right, DurationValue) and op == "*":
        return _scale(right, left, op)
    if isinstance(left, Money) and isinstance(right, Money) and left.same_currency(right):
        if op == "+":
            return Money(left.amount + right.amount, left.currency)
        if op == "-":
            return Money(left.amount - right.amount, left.currency)
    return UNKNOWN


def _scale(duration: DurationValue, factor: Decimal, op: str) -> ConstValue:
    if not factor.is_finite():
        return UNKNOWN
    if op == "*":
        return DurationValue(duration.seconds * Fraction(factor), duration.units)
    if op == "/":
        if factor == 0:
            return None
        return DurationValue(duration.seconds / Fraction(factor), duration.units)
    return UNKNOWN


def duration_value(ref: n.DurationRef, ctx: CheckContext) -> DurationValue | None:
    """The exact value of a DUR (a literal, or a constant that evaluates to a duration)."""
    if isinstance(ref, n.DurationLit):
        return DurationValue.of(ref.value)
    value = ctx.const_values.get(ref.name.text, UNKNOWN)
    return value if isinstance(value, DurationValue) else None


# ---- building the context -------------------------------------------------------------


def build_context(workflow: n.Workflow, source: SourceFile) -> CheckContext:
    """Symbol tables, resolved schemas, constants and expression sites of `workflow`."""
    problems: list[TypeProblem] = []

    def resolved(fields: tuple[n.Field, ...]) -> dict[str, Type]:
        types: dict[str, Type] = {}
        for field in fields:
            type_, found = resolve_type(field.type)
            problems.extend(found)
            types.setdefault(field.name.text, type_)
        return types

    schema = workflow.case_schema
    case_fields = {"id": TEXT}
    for schema_decl in workflow.of(n.CaseSchema):
        for name, type_ in resolved(schema_decl.fields).items():
            if schema_decl is schema and name not in RESERVED_CASE_FIELDS:
                case_fields.setdefault(name, type_)

    events: dict[str, EventInfo] = {
        "approval": EventInfo("approval", None, {"approved": BOOL, "workflow": TEXT.as_optional()}),
        "case_updated": EventInfo(
            "case_updated",
            None,
            {name: t.as_optional() for name, t in case_fields.items() if name != "id"},
        ),
    }
    actions: dict[str, ActionInfo] = {}
    for event in workflow.of(n.EventDecl):
        fields = resolved(event.fields)
        if event.name.text not in events:
            events[event.name.text] = EventInfo(event.name.text, event, fields)
    for action in workflow.of(n.ActionDecl):
        params = resolved(action.params)
        actions.setdefault(action.name.text, ActionInfo(action, params))

    consts = _first(workflow.of(n.Const))
    sites, durations = _sites(workflow)
    too_complex = frozenset(id(site.expr) for site in sites if is_too_complex(site.expr))

    ctx = CheckContext(
        workflow=workflow,
        source=source,
        steps=_first(workflow.steps),
        outcomes=_first(workflow.outcomes),
        events=events,
        actions=actions,
        consts=consts,
        const_types={},
        const_values={},
        calendars=_first(workflow.of(n.Calendar)),
        triggers=_first(workflow.of(n.Trigger)),
        slas=_first(workflow.of(n.Sla)),
        measures=_first(workflow.of(n.Measure)),
        limits=tuple(workflow.of(n.Limit)),
        approvals=tuple(workflow.of(n.Approve)),
        case_fields=case_fields,
        type_problems=tuple(problems),
        sites=tuple(sites),
        durations=tuple(durations),
        too_complex=too_complex,
    )
    _fill_constants(ctx)
    return ctx


class _Named(Protocol):
    @property
    def name(self) -> n.Name: ...


_N = TypeVar("_N", bound=_Named)


def _first(items: list[_N]) -> dict[str, _N]:
    table: dict[str, _N] = {}
    for item in items:
        table.setdefault(item.name.text, item)
    return table


def _fill_constants(ctx: CheckContext) -> None:
    """Types and values of every constant, following references; cycles give `any`."""
    from retainflow.checks.typecheck import Typer  # the typer reads this context

    visiting: set[str] = set()

    def const_type(name: str) -> Type:
        if name in ctx.const_types:
            return ctx.const_types[name]
        const = ctx.consts.get(name)
        if const is None or name in visiting or len(visiting) > 64:
            return ANY
        visiting.add(name)
        if id(const.value) in ctx.too_complex:
            result = ANY
        else:
            scope = Scope(f"constant '{name}'", constant=name)
            result = Typer(ctx, scope, [], const_type).infer(const.value)
        visiting.discard(name)
        ctx.const_types[name] = result
        return result

    evaluating: set[str] = set()

    def const_value(name: str) -> ConstValue:
        if name in ctx.const_values:
            return ctx.const_values[name]
        const = ctx.consts.get(name)
        if const is None or name in evaluating or len(evaluating) > 64:
            return UNKNOWN
        evaluating.add(name)
        value = (
            UNKNOWN if id(const.value) in ctx.too_complex else evaluate(const.value, const_value)
        )
        evaluating.discard(name)
        ctx.const_values[name] = value
        return value

    for name in ctx.consts:
        const_type(name)
        const_value(name)


def _sites(workflow: n.Workflow) -> tuple[list[Site], list[DurationSite]]:
    sites: list[Site] = []
    durations: list[DurationSite] = []
    for decl in workflow.declarations:
        if isinstance(decl, n.Const):
            scope = Scope(f"constant '{decl.name.text}'", constant=decl.name.text)
            sites.append(Site(decl.value, scope, "const", decl))
        elif isinstance(decl, n.Trigger):
            _trigger_sites(decl, sites, durations)
        elif isinstance(decl, n.Limit):
            scope = Scope(
                "a limit", no_event="a limit is checked when an offer is made, not on an event"
            )
            role = "grants" if decl.counts_grants else "limit"
            sites.append(Site(decl.amount, scope, role, decl))
            if decl.over is not None:
                durations.append(DurationSite(decl.over, None, "over", decl))
        elif isinstance(decl, n.Approve):
            scope = Scope(
                "an approval rule",
                no_event="an approval rule is checked when an offer is made, not on an event",
            )
            sites.append(Site(decl.amount, scope, "approve", decl))
        elif isinstance(decl, n.Sla):
            durations.append(DurationSite(decl.duration, decl.calendar, "sla", decl))
            if decl.warn is not None:
                durations.append(DurationSite(decl.warn, decl.calendar, "warn", decl))
        elif isinstance(decl, n.On):
            if decl.guard is not None:
                sites.append(Site(decl.guard, _handler_scope(decl, None), "guard", decl))
        elif isinstance(decl, n.Step):
            _step_sites(decl, sites, durations)
    return sites, durations


def _trigger_sites(trigger: n.Trigger, sites: list[Site], durations: list[DurationSite]) -> None:
    where = f"trigger '{trigger.name.text}'"
    if trigger.mode == "on" and trigger.event is not None:
        scope = Scope(where, event=trigger.event.text)
    elif trigger.mode == "at":
        scope = Scope(
            where,
            no_event="an `at` trigger fires at a time, not on an event: "
            "use `trigger NAME on EVENT when ...` to read an event",
        )
    else:
        scope = Scope(
            where,
            no_event="a `when` trigger reacts to case data, not to an event: "
            "use `trigger NAME on EVENT when ...` to read an event",
        )
    if trigger.at is not None:
        sites.append(Site(trigger.at, scope, "trigger_at", trigger))
    if trigger.condition is not None:
        sites.append(Site(trigger.condition, scope, "trigger_when", trigger))
    if trigger.cooldown is not None:
        durations.append(DurationSite(trigger.cooldown, None, "cooldown", trigger))


def _handler_scope(handler: n.On, step: n.Step | None) -> Scope:
    where = f"step '{step.name.text}'" if step else "a workflow-level handler"
    if handler.is_timeout:
        return Scope(where, no_event="a timeout carries no event", step=step)
    return Scope(where, event=handler.event.text, step=step)


def _step_sites(step: n.Step, sites: list[Site], durations: list[DurationSite]) -> None:
    scope = Scope(f"step '{step.name.text}'", step=step)
    for stmt in step.body:
        if isinstance(stmt, n.Do):
            for arg in stmt.args:
                sites.append(Site(arg.value, scope, "arg", arg, do=stmt))
        elif isinstance(stmt, n.Offer):
            sites.append(Site(stmt.amount, scope, "offer", stmt))
        elif isinstance(stmt, n.When):
            sites.append(Site(stmt.guard, scope, "guard", stmt))
        elif isinstance(stmt, n.On):
            if stmt.guard is not None:
                sites.append(Site(stmt.guard, _handler_scope(stmt, step), "guard", stmt))
        elif isinstance(stmt, n.Wait | n.Due | n.Every):
            role = type(stmt).__name__.lower()
            durations.append(DurationSite(stmt.duration, stmt.calendar, role, stmt))


def calendar_refs(workflow: n.Workflow) -> list[n.Name]:
    """Every `in CAL` of the workflow, in source order."""
    refs: list[n.Name] = []
    for decl in workflow.declarations:
        if isinstance(decl, n.Sla) and decl.calendar is not None:
            refs.append(decl.calendar)
        elif isinstance(decl, n.Step):
            for stmt in decl.body:
                if isinstance(stmt, n.Wait | n.Due | n.Every) and stmt.calendar is not None:
                    refs.append(stmt.calendar)
    return refs


def duration_role(role: str) -> str:
    """How a DUR's role reads in a message."""
    return {
        "sla": "an SLA's duration",
        "warn": "an SLA's warning",
        "cooldown": "a cooldown",
        "over": "a limit's window",
    }.get(role, f"`{role}`")
