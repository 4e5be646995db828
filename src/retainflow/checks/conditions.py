"""Condition analysis: guards in, RF601 (can never hold) and RF602 (always holds) out.

A guard is reduced to a boolean formula over *atoms*: comparisons of one reference
(`case.F`, `event.F`, `offer.status`, `offer.amount`) with literals or constants, literal
`in` lists, enum and bool references, and `is none` tests. Everything else is an opaque
atom that may be true or false. Each reference ranges over a finite set of
representative values: for ordered values the constants it is compared with, a point
between each pair and one beyond each end (the truth of every atom is constant between
two constants, so these points cover every case); for enums their members; for bools
true and false; for text the strings it is compared with and one other; plus `none`
when the value may be missing. A guard that is false (true) for every combination can
never (always) hold. No solver is needed for this language; past `MAX_COMBINATIONS` the
analysis says nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from retainflow import nodes as n
from retainflow.diagnostics import Diagnostic
from retainflow.types import Type, resolve_type
from retainflow.values import Money

MAX_COMBINATIONS = 4096
OFFER_STATUSES = ("granted", "capped", "refused", "denied", "pending", "withdrawn")
_ORDERING = ("<", "<=", ">", ">=")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class _Missing:
    """The `none` value of a reference in the analysis."""

    def __repr__(self) -> str:
        return "none"


MISSING = _Missing()
_OTHER_TEXT = "\x00another text"


@attrs.frozen
class _Variable:
    key: str  # "case.tier", "event.score", "offer.status"
    type: Type | None  # None: unknown (an undeclared event's payload)


Formula = Callable[[Mapping[str, Any], tuple[bool, ...]], bool]


@attrs.define
class _Builder:
    """Turns an expression into a formula, collecting variables and compared constants."""

    case_types: Mapping[str, Type]
    event_types: Mapping[str, Type] | None  # None: the event is undeclared (untyped payload)
    constants: Mapping[str, Any]
    variables: dict[str, _Variable] = attrs.Factory(dict)
    points: dict[str, set[Any]] = attrs.Factory(dict)
    opaque: int = 0

    # ---- references and values -------------------------------------------------------

    def _variable(self, expr: n.Expr) -> _Variable | None:
        if isinstance(expr, n.CaseRef):
            field_type = self.case_types.get(expr.field.text)
            if field_type is None:
                return None
            return self._declare(f"case.{expr.field.text}", field_type)
        if isinstance(expr, n.EventRef):
            if self.event_types is None:
                return self._declare(f"event.{expr.field.text}", None)
            field_type = self.event_types.get(expr.field.text)
            return (
                None
                if field_type is None
                else self._declare(f"event.{expr.field.text}", field_type)
            )
        if isinstance(expr, n.OfferRef):
            if expr.field.text == "status":
                return self._declare("offer.status", Type("enum", members=OFFER_STATUSES))
            if expr.field.text == "amount":
                return self._declare("offer.amount", Type("money"))
        return None

    def _declare(self, key: str, type_: Type | None) -> _Variable:
        variable = self.variables.setdefault(key, _Variable(key, type_))
        self.points.setdefault(key, set())
        return variable

    def _constant(self, expr: n.Expr) -> tuple[bool, Any]:
        """(True, value) for a literal or a constant with a literal value."""
        if isinstance(expr, n.Number):
            return True, expr.value
        if isinstance(expr, n.String):
            return True, expr.value
        if isinstance(expr, n.Bool):
            return True, expr.value
        if isinstance(expr, n.MoneyLit):
            return True, expr.value
        if isinstance(expr, n.DurationLit):
            return True, expr.value.timedelta
        if isinstance(expr, n.PercentLit):
            return True, expr.value.value
        if isinstance(expr, n.NoneLit):
            return True, MISSING
        if isinstance(expr, n.Negate):
            known, value = self._constant(expr.operand)
            if known and isinstance(value, Decimal | dt.timedelta):
                return True, -value
            if known and isinstance(value, Money):
                return True, Money(-value.amount, value.currency)
            return False, None
        if isinstance(expr, n.ConstRef) and expr.name.text in self.constants:
            return True, self.constants[expr.name.text]
        return False, None

    # ---- formulas ------------------------------------------------------------------------

    def build(self, expr: n.Expr) -> Formula:
        if isinstance(expr, n.BoolOp):
            left, right = self.build(expr.left), self.build(expr.right)
            if expr.op == "and":
                return lambda env, free: left(env, free) and right(env, free)
            return lambda env, free: left(env, free) or right(env, free)
        if isinstance(expr, n.Not):
            inner = self.build(expr.operand)
            return lambda env, free: not inner(env, free)
        if isinstance(expr, n.Bool):
            value = expr.value
            return lambda env, free: value
        if isinstance(expr, n.NoneLit):
            return lambda env, free: False
        atom = self._atom(expr)
        if atom is not None:
            return atom
        return self._opaque()

    def _opaque(self) -> Formula:
        index = self.opaque
        self.opaque += 1
        return lambda env, free: free[index]

    def _atom(self, expr: n.Expr) -> Formula | None:
        variable = self._variable(expr)
        if variable is not None and (variable.type is None or variable.type.name == "bool"):
            key = variable.key
            self.points[key].update((True, False))
            return lambda env, free: env[key] is True
        if isinstance(expr, n.IsNone):
            variable = self._variable(expr.operand)
            if variable is None:
                return None
            key, negated = variable.key, expr.negated
            return lambda env, free: (env[key] is MISSING) != negated
        if isinstance(expr, n.Compare):
            if expr.op in ("in", "not in"):
                return self._membership(expr)
            return self._comparison(expr)
        return None

    def _comparison(self, expr: n.Compare) -> Formula | None:
        op, ref, other = expr.op, expr.left, expr.right
        variable = self._variable(ref)
        if variable is None:
            op, ref, other = _FLIP[op], expr.right, expr.left
            variable = self._variable(ref)
        if variable is None:
            return None
        known, value = self._constant(other)
        if not known or not _fits(variable.type, value, op):
            return None
        key, value = variable.key, _plain(value)
        if value is not MISSING:
            self.points[key].add(value)
        return lambda env, free: _compare(op, env[key], value)

    def _membership(self, expr: n.Compare) -> Formula | None:
        variable = self._variable(expr.left)
        if variable is None or not isinstance(expr.right, n.ListExpr):
            return None
        values = []
        for item in expr.right.items:
            known, value = self._constant(item)
            if not known or not _fits(variable.type, value, "=="):
                return None
            values.append(_plain(value))
        key, negated = variable.key, expr.op == "not in"
        self.points[key].update(v for v in values if v is not MISSING)

        def member(env: Mapping[str, Any], free: tuple[bool, ...]) -> bool:
            value = env[key]
            if value is MISSING:
                return negated
            return any(_compare("==", value, item) for item in values) != negated

        return member

    # ---- domains ---------------------------------------------------------------------------

    def domain(self, variable: _Variable) -> list[Any]:
        type_ = variable.type
        values: list[Any]
        if type_ is not None and type_.name == "enum":
            values = list(type_.members)
        elif type_ is not None and type_.name == "bool":
            values = [True, False]
        else:
            values = _representatives(self.points[variable.key])
        if type_ is None or type_.optional:
            values.append(MISSING)
        if type_ is None:
            values.extend(v for v in (True, False) if v not in values)
        return values


def _fits(type_: Type | None, value: Any, op: str) -> bool:
    """Whether a constant is comparable with a reference of this type (else: opaque)."""
    if value is MISSING:
        return op in ("==", "!=")
    if type_ is None:
        return not isinstance(value, bool) or op in ("==", "!=")
    name = type_.name
    if name == "enum":
        return isinstance(value, str) and value in type_.members and op in ("==", "!=")
    if name == "text":
        return isinstance(value, str) and op in ("==", "!=")
    if name == "bool":
        return isinstance(value, bool) and op in ("==", "!=")
    if name in ("number", "percent"):
        return isinstance(value, Decimal) and not isinstance(value, bool)
    if name == "money":
        return isinstance(value, Money) and (type_.currency in (None, value.currency))
    if name == "duration":
        return isinstance(value, dt.timedelta)
    return False


def _compare(op: str, left: Any, right: Any) -> bool:
    """The language's comparison rules, with `none` as MISSING."""
    if left is MISSING or right is MISSING:
        if op == "==":
            return left is right
        if op == "!=":
            return left is not right
        return False
    try:
        if type(left) is not type(right) and not (
            isinstance(left, Decimal) and isinstance(right, Decimal)
        ):
            return op == "!="
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return op == "!="


def _representatives(points: set[Any]) -> list[Any]:
    """Each constant, a point between neighbours, and a point beyond each end."""
    texts = sorted(p for p in points if isinstance(p, str))
    bools = [p for p in points if isinstance(p, bool)]
    if texts or bools:
        return [*texts, _OTHER_TEXT, *bools]
    ordered = sorted(p for p in points if not isinstance(p, bool | str))
    if not ordered:
        return [Decimal(0)]
    result: list[Any] = [_step(ordered[0], -1)]
    for low, high in itertools.pairwise(ordered):
        result += [low, _midpoint(low, high)]
    result += [ordered[-1], _step(ordered[-1], 1)]
    return result


def _plain(value: Any) -> Any:
    """Money of a fitting currency is reasoned about by its amount."""
    return value.amount if isinstance(value, Money) else value


def _step(value: Any, direction: int) -> Any:
    if isinstance(value, dt.timedelta):
        return value + direction * dt.timedelta(seconds=1)
    return value + direction


def _midpoint(low: Any, high: Any) -> Any:
    if isinstance(low, dt.timedelta):
        return low + (high - low) / 2
    return (low + high) / 2


# ---- the check ------------------------------------------------------------------------------


@attrs.frozen
class Guard:
    expr: n.Expr
    event: str | None  # the event whose payload `event.*` reads (None: no event)


def guards_of(workflow: n.Workflow) -> Iterator[Guard]:
    """Every guard: step and global `on ... when`, step `when`, trigger conditions."""
    for decl in workflow.declarations:
        if isinstance(decl, n.Trigger) and decl.condition is not None:
            yield Guard(decl.condition, decl.event.text if decl.event else None)
        elif isinstance(decl, n.On) and decl.guard is not None:
            yield Guard(decl.guard, decl.event.text)
        elif isinstance(decl, n.Step):
            for stmt in decl.body:
                if isinstance(stmt, n.When):
                    yield Guard(stmt.guard, None)
                elif isinstance(stmt, n.On) and stmt.guard is not None:
                    yield Guard(stmt.guard, stmt.event.text)


def literal_constants(workflow: n.Workflow) -> dict[str, Any]:
    """Constants whose value is a literal (or another such constant)."""
    builder = _Builder({}, None, {})
    values: dict[str, Any] = {}
    for const in workflow.of(n.Const):
        builder.constants = values
        known, value = builder._constant(const.value)
        if known and const.name.text not in values:
            values[const.name.text] = value
    return values


def _schema(fields: tuple[n.Field, ...]) -> dict[str, Type]:
    types: dict[str, Type] = {}
    for field in fields:
        if field.name.text not in types:
            types[field.name.text] = resolve_type(field.type)[0]
    return types


def classify(builder: _Builder, formula: Formula) -> bool | None:
    """True if the formula always holds, False if never, None if it depends (or too big)."""
    variables = list(builder.variables.values())
    domains = [builder.domain(variable) for variable in variables]
    size = 2**builder.opaque
    for domain in domains:
        size *= len(domain)
    if size > MAX_COMBINATIONS:
        return None
    seen: set[bool] = set()
    keys = [variable.key for variable in variables]
    for values in itertools.product(*domains):
        env = dict(zip(keys, values, strict=True))
        for free in itertools.product((False, True), repeat=builder.opaque):
            seen.add(formula(env, free))
            if len(seen) == 2:
                return None
    return seen.pop() if seen else None


class GuardAnalyzer:
    """Decides guards of one workflow: always (True), never (False) or it depends (None)."""

    def __init__(self, workflow: n.Workflow) -> None:
        schema = workflow.case_schema
        self.case_types = _schema(schema.fields) if schema else {}
        self.events = {decl.name.text: _schema(decl.fields) for decl in workflow.of(n.EventDecl)}
        self.constants = literal_constants(workflow)

    def verdict(self, expr: n.Expr, event: str | None = None) -> bool | None:
        event_types = self.events.get(event) if event else {}
        builder = _Builder(self.case_types, event_types, self.constants)
        return classify(builder, builder.build(expr))


def check_conditions(workflow: n.Workflow) -> list[Diagnostic]:
    analyzer = GuardAnalyzer(workflow)
    found: list[Diagnostic] = []
    for guard in guards_of(workflow):
        verdict = analyzer.verdict(guard.expr, guard.event)
        if verdict is None:
            continue
        span = guard.expr.span
        if verdict:
            found.append(
                Diagnostic(
                    "RF602",
                    span,
                    "this condition always holds",
                    label="it is true for every value; drop the condition (or fix it)",
                )
            )
        else:
            found.append(
                Diagnostic(
                    "RF601",
                    span,
                    "this condition can never hold",
                    label="no value makes it true, so this transition is never taken",
                )
            )
    return found
