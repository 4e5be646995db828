"""Compile rflow expressions: checked AST expression nodes in, compiled callables out.

    >>> guard = compile_condition(expr, {"vip_arr": Money(100000, "USD")})
    >>> guard(Env(case={"arr": Money(120000, "USD"), "tier": "gold"}))
    True

Each expression becomes one Python function, generated as source text from the AST and
passed to `compile()` once. The source is built only from this module's templates:
literals and constants are bound as names in the function's globals (only `None`,
`True` and `False` are written out), field names appear only as `repr` string literals,
and functions are looked up in a fixed table, so user text is never evaluated. Constants are inlined
at compile time and literal sub-expressions are folded. Common cases get an inline fast
path (a number, text or same-currency money compared with a constant, list membership
against a constant list of text); everything else calls the module's helpers, which
define the semantics (`compile` only chooses between them). Evaluating never walks the
tree; `render` is used only to build error messages when something goes wrong.

Runtime values: `Decimal` numbers (28 digits, half-even), `str` (text and enum
members), `bool`, `None`, `Money`, `Percent`, `timedelta` durations, aware `datetime`
times, tuples for lists (lists are accepted too), mappings for nested untyped payloads.

Choices where language.md is silent:

- `==`/`!=` compare values of one kind; values of different kinds are never equal
  (`event.score == "5"` is false for the number 5). Money in two currencies is an
  `ExprError`, for equality as for ordering and arithmetic (the run-time side of RF302).
- Ordering (`< <= > >=`) works on numbers, money of one currency, percents, durations,
  times (as instants) and text (lexicographic by code point, so "B" < "a"); on bools,
  lists or mixed kinds it is an `ExprError`.
- `in`/`not in` need a list on the right: membership uses `==` above. Text on the right
  is an `ExprError` (use `contains(text, part)`).
- Arithmetic: besides the listed money, number, time and duration rules, percents add
  and subtract (10% + 5% = 15%), scale by numbers (`10% * 2`, `10% / 2`) and divide
  into numbers (`10% / 5%` = 2); `duration / duration` is a number; `duration * number`
  rounds half-even to whole microseconds. Division by a zero number, money, duration
  or percent gives `none`.
- Time arithmetic and comparisons use exact instants (`time + 1d` is 24 hours later,
  whatever the DST); the result keeps the time zone of the time operand.
- `P of M` needs a percent on the left and a number or money on the right.
- `round(x[, digits])`: digits default to 0 and must be a whole number (negative rounds
  to tens, hundreds...); it rounds numbers, percents (`round(12.5%)` = 12%) and money
  amounts (`round(1234.56 USD)` = 1235.00 USD; digits finer than the currency's minor
  unit change nothing). `abs` takes numbers, money, percents and durations; `min`/`max`
  take values that order with each other (see above) and return the first least/greatest.
  `len` counts code points of text or items of a list.
- Money results are computed exactly (100 digits) and rounded once to the minor unit,
  half-even; a negative zero is shown as zero.
- A missing event (no `event` in the Env) makes every `event.F` `none`; `elapsed` is
  `none` unless both `now` and `started_at` are set.
- `compile_expr` raises `ExprError` at compile time for problems the checks report
  (unknown constant or function, wrong arity, `offer.` field other than status/amount).
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from retainflow import nodes as n
from retainflow.source import NO_SPAN, Span
from retainflow.values import (
    DECIMAL_CONTEXT,
    Duration,
    Money,
    Percent,
    format_number,
    format_time,
    format_timedelta,
)

__all__ = [
    "Compiled",
    "Env",
    "ExprError",
    "compile_condition",
    "compile_expr",
    "evaluate_const",
    "quote",
    "render",
    "render_precedence",
]

_CTX = DECIMAL_CONTEXT
# Money is computed exactly and rounded once to its minor unit.
_WIDE = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_EVEN)
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_MICRO = dt.timedelta(microseconds=1)
_MICROS_PER_DAY = Decimal(86_400_000_000)
_MICROS_PER_HOUR = Decimal(3_600_000_000)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@attrs.define(slots=True)
class Env:
    """What an expression can see at one evaluation."""

    case: Mapping[str, Any]  # field -> runtime value (missing optional field: absent or None)
    event: Mapping[str, Any] | None = None  # payload of the event being handled
    offer_status: str | None = None
    offer_amount: Money | None = None
    trigger: str | None = None
    started_at: dt.datetime | None = None  # instance start; elapsed = now - started_at
    now: dt.datetime | None = None


class ExprError(Exception):
    """An expression that cannot be evaluated: `.message` says why, `.span` where."""

    def __init__(self, message: str, span: Span = NO_SPAN) -> None:
        super().__init__(message)
        self.message = message
        self.span = span

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[ExprError], tuple[str, Span]]:
        return (ExprError, (self.message, self.span))


@attrs.frozen
class Compiled:
    """A compiled expression: `compiled(env)` evaluates it.

    `function` is the generated Python function; `source` the canonical text of the
    expression; `span` where it is; `python` the generated source, for debugging.
    """

    function: Callable[[Env], Any]
    source: str
    span: Span
    python: str = attrs.field(default="", eq=False, repr=False)
    # True when the expression reads nothing from the env: `function` always returns
    # `value` (the engine uses it instead of calling, e.g. for constant action arguments).
    constant: bool = attrs.field(default=False, eq=False, repr=False)
    value: Any = attrs.field(default=None, eq=False, repr=False)

    if TYPE_CHECKING:

        def __call__(self, env: Env) -> Any: ...

    else:
        # `compiled(env)` calls `function` directly: the C-level getter avoids a Python
        # frame, which would cost as much as evaluating a typical guard.
        __call__ = property(operator.attrgetter("function"))


# ---- rendering ------------------------------------------------------------------------

_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _OF, _UNARY, _ATOM = range(1, 10)

# A literal's text as its source wrote it, or None for the canonical text (the formatter
# keeps `1.50 USD` and `10%` as written; everything else renders the same).
Written = Callable[[n.Expr], "str | None"]
_LITERALS = (n.Number, n.String, n.MoneyLit, n.PercentLit, n.DurationLit)


def render(expr: n.Expr, written: Written | None = None) -> str:
    """The canonical text of an expression, with the parentheses its structure needs.

    `P of Q of M` stays as is (it is `P of (Q of M)`); an `if` inside an operand is
    parenthesized, and so (for readability) is an `if` as the condition or `then` part
    of another `if`; `else if` chains are not.
    """
    return render_precedence(expr, written)[0]


def render_precedence(expr: n.Expr, written: Written | None = None) -> tuple[str, int]:
    """`render`'s text and the precedence level it binds at (`_OR` loosest .. `_ATOM`)."""
    return _Renderer(written).render(expr)


def quote(value: str) -> str:
    """A string literal's canonical text."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _signed(text: str) -> tuple[str, int]:
    """A literal's text and precedence: a negative one binds as a unary minus."""
    return text, _UNARY if text.startswith("-") else _ATOM


class _Renderer:
    __slots__ = ("written",)

    def __init__(self, written: Written | None) -> None:
        self.written = written

    def wrap(self, expr: n.Expr, level: int) -> str:
        text, prec = self.render(expr)
        return f"({text})" if prec < level else text

    def render(self, expr: n.Expr) -> tuple[str, int]:
        wrap = self.wrap
        if self.written is not None and isinstance(expr, _LITERALS):
            text = self.written(expr)
            if text is not None:
                return text, _ATOM
        if isinstance(expr, n.Number):
            return _signed(format_number(expr.value))
        if isinstance(expr, n.String):
            return quote(expr.value), _ATOM
        if isinstance(expr, n.Bool):
            return ("true" if expr.value else "false"), _ATOM
        if isinstance(expr, n.NoneLit):
            return "none", _ATOM
        if isinstance(expr, n.MoneyLit):
            return _signed(_money_text(expr.value))
        if isinstance(expr, n.PercentLit):
            return _signed(str(expr.value))
        if isinstance(expr, n.DurationLit):
            return str(expr.value), _ATOM
        if isinstance(expr, n.ListExpr):
            return "[" + ", ".join(wrap(item, 0) for item in expr.items) + "]", _ATOM
        if isinstance(expr, n.CaseRef):
            return f"case.{expr.field.text}", _ATOM
        if isinstance(expr, n.EventRef):
            return f"event.{expr.field.text}", _ATOM
        if isinstance(expr, n.OfferRef):
            return f"offer.{expr.field.text}", _ATOM
        if isinstance(expr, n.TriggerRef):
            return "trigger", _ATOM
        if isinstance(expr, n.ElapsedRef):
            return "elapsed", _ATOM
        if isinstance(expr, n.NowRef):
            return "now", _ATOM
        if isinstance(expr, n.ConstRef):
            return expr.name.text, _ATOM
        if isinstance(expr, n.Call):
            args = ", ".join(wrap(arg, 0) for arg in expr.args)
            return f"{expr.function.text}({args})", _ATOM
        if isinstance(expr, n.Negate):
            operand = wrap(expr.operand, _UNARY)
            return ("- " if operand.startswith("-") else "-") + operand, _UNARY
        if isinstance(expr, n.Not):
            return f"not {wrap(expr.operand, _NOT)}", _NOT
        if isinstance(expr, n.Arith):
            level = _SUM if expr.op in ("+", "-") else _PRODUCT
            return f"{wrap(expr.left, level)} {expr.op} {wrap(expr.right, level + 1)}", level
        if isinstance(expr, n.Of):
            return f"{wrap(expr.percent, _UNARY)} of {wrap(expr.base, _OF)}", _OF
        if isinstance(expr, n.Compare):
            return f"{wrap(expr.left, _SUM)} {expr.op} {wrap(expr.right, _SUM)}", _CMP
        if isinstance(expr, n.IsNone):
            suffix = "is not none" if expr.negated else "is none"
            return f"{wrap(expr.operand, _SUM)} {suffix}", _CMP
        if isinstance(expr, n.BoolOp):
            level = _OR if expr.op == "or" else _AND
            return f"{wrap(expr.left, level)} {expr.op} {wrap(expr.right, level + 1)}", level
        if isinstance(expr, n.IfExpr):
            condition = wrap(expr.condition, _OR)
            then = wrap(expr.then, _OR)
            return f"if {condition} then {then} else {wrap(expr.otherwise, 0)}", 0
        raise TypeError(f"not an expression node: {expr!r}")


def _money_text(value: Money) -> str:
    amount = value.amount
    if amount == amount.to_integral_value():
        return f"{amount.to_integral_value():f} {value.currency}"
    return f"{amount:f} {value.currency}"


# ---- value helpers: the semantics -------------------------------------------------------

_TAGS: dict[type, str] = {
    bool: "bool",
    Decimal: "number",
    str: "text",
    Money: "money",
    Percent: "percent",
    dt.timedelta: "duration",
    dt.datetime: "time",
    tuple: "list",
    list: "list",
    dict: "object",
}


def _tag(value: Any) -> str:
    tag = _TAGS.get(type(value))
    if tag is not None:
        return tag
    for kind, name in _TAGS.items():  # subclasses (bool before the rest: dict order)
        if isinstance(value, kind):
            return name
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    tag = _tag(value)
    return f"money({value.currency})" if tag == "money" else tag


def _show(value: Any) -> str:
    if value is None:
        return "none"
    tag = _tag(value)
    if tag == "text":
        return repr(value)
    if tag == "bool":
        return "true" if value else "false"
    if tag == "number":
        return format_number(value)
    if tag in ("money", "percent"):
        return str(value)
    if tag == "duration":
        return format_timedelta(value)
    if tag == "time":
        return format_time(value) if value.tzinfo is not None else value.isoformat()
    if tag == "list":
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return repr(value)


def _fail(node: n.Expr, message: str) -> NoReturn:
    raise ExprError(f"{message}: {render(node)}", node.span)


def _nonbool(value: Any, node: n.Expr) -> NoReturn:
    raise ExprError(f"condition is not true or false: {render(node)} is {_show(value)}", node.span)


def _currency(a: Money, b: Money, node: n.Expr) -> None:
    if a.currency != b.currency:
        _fail(node, f"money in different currencies ({a.currency} and {b.currency})")


def _money(amount: Decimal, currency: str) -> Money:
    """`Money(amount, currency)`, rounded half-even to the minor unit, without zero's sign.

    Same value as the constructor, built without its second rounding and validation
    (they cost ~5x the arithmetic): the currency comes from a Money already.
    """
    return Money.rounded(amount, currency)


def _utc(value: dt.datetime, node: n.Expr) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        _fail(node, f"time {value.isoformat()} has no UTC offset")
    return value.astimezone(dt.UTC)


def _shift(time: dt.datetime, delta: dt.timedelta, node: n.Expr) -> dt.datetime:
    return (_utc(time, node) + delta).astimezone(time.tzinfo)


def _micros(value: dt.timedelta) -> Decimal:
    return Decimal(value // _MICRO)


def _scale(value: dt.timedelta, factor: Decimal) -> dt.timedelta:
    micros = _CTX.multiply(_micros(value), factor)
    return dt.timedelta(microseconds=int(micros.to_integral_value(decimal.ROUND_HALF_EVEN)))


def _clean(value: Decimal) -> Decimal:
    return value if value else value.copy_abs()


def _no_kinds(verb: str, a: Any, b: Any, node: n.Expr) -> NoReturn:
    _fail(node, f"cannot {verb} {_kind(a)} and {_kind(b)}")


def _out_of_range(node: n.Expr) -> NoReturn:
    _fail(node, "number out of range")


def _overflow(error: ArithmeticError, node: n.Expr) -> NoReturn:
    _fail(node, f"number out of range ({type(error).__name__})")


def _add(a: Any, b: Any, node: n.Expr) -> Any:
    if a is None or b is None:
        return None
    ta, tb = _tag(a), _tag(b)
    try:
        if ta == tb == "number":
            return _CTX.add(a, b)
        if ta == tb == "money":
            _currency(a, b, node)
            return _money(_WIDE.add(a.amount, b.amount), a.currency)
        if ta == tb == "duration":
            return a + b
        if ta == "time" and tb == "duration":
            return _shift(a, b, node)
        if ta == "duration" and tb == "time":
            return _shift(b, a, node)
        if ta == tb == "percent":
            return Percent(_CTX.add(a.value, b.value))
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _no_kinds("add", a, b, node)


def _sub(a: Any, b: Any, node: n.Expr) -> Any:
    if a is None or b is None:
        return None
    ta, tb = _tag(a), _tag(b)
    try:
        if ta == tb == "number":
            return _CTX.subtract(a, b)
        if ta == tb == "money":
            _currency(a, b, node)
            return _money(_WIDE.subtract(a.amount, b.amount), a.currency)
        if ta == tb == "duration":
            return a - b
        if ta == tb == "time":
            return _utc(a, node) - _utc(b, node)
        if ta == "time" and tb == "duration":
            return _shift(a, -b, node)
        if ta == tb == "percent":
            return Percent(_CTX.subtract(a.value, b.value))
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _no_kinds("subtract", a, b, node)


def _mul(a: Any, b: Any, node: n.Expr) -> Any:
    if a is None or b is None:
        return None
    ta, tb = _tag(a), _tag(b)
    try:
        if ta == tb == "number":
            return _clean(_CTX.multiply(a, b))
        if tb == "number":
            if ta == "money":
                return _money(_WIDE.multiply(a.amount, b), a.currency)
            if ta == "duration":
                return _scale(a, b)
            if ta == "percent":
                return Percent(_clean(_CTX.multiply(a.value, b)))
        if ta == "number":
            if tb == "money":
                return _money(_WIDE.multiply(a, b.amount), b.currency)
            if tb == "duration":
                return _scale(b, a)
            if tb == "percent":
                return Percent(_clean(_CTX.multiply(a, b.value)))
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _no_kinds("multiply", a, b, node)


def _div(a: Any, b: Any, node: n.Expr) -> Any:
    if a is None or b is None:
        return None
    ta, tb = _tag(a), _tag(b)
    try:
        if tb == "number":
            if not b:
                return None
            if ta == "number":
                return _clean(_CTX.divide(a, b))
            if ta == "money":
                return _money(_WIDE.divide(a.amount, b), a.currency)
            if ta == "duration":
                micros = _CTX.divide(_micros(a), b)
                return dt.timedelta(
                    microseconds=int(micros.to_integral_value(decimal.ROUND_HALF_EVEN))
                )
            if ta == "percent":
                return Percent(_clean(_CTX.divide(a.value, b)))
        if ta == tb == "money":
            _currency(a, b, node)
            return _clean(_CTX.divide(a.amount, b.amount)) if b.amount else None
        if ta == tb == "duration":
            return _clean(_CTX.divide(_micros(a), _micros(b))) if b else None
        if ta == tb == "percent":
            return _clean(_CTX.divide(a.value, b.value)) if b.value else None
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _no_kinds("divide", a, b, node)


def _of(percent: Any, base: Any, node: n.Of) -> Any:
    if percent is None or base is None:
        return None
    if _tag(percent) != "percent":
        _fail(node, f"'of' needs a percent on its left, not {_kind(percent)}")
    tb = _tag(base)
    try:
        if tb == "money":
            return _money(
                _WIDE.divide(_WIDE.multiply(percent.value, base.amount), _HUNDRED), base.currency
            )
        if tb == "number":
            return _clean(_CTX.divide(_WIDE.multiply(percent.value, base), _HUNDRED))
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _fail(node, f"'of' takes a percent of money or of a number, not of {_kind(base)}")


def _neg(value: Any, node: n.Expr) -> Any:
    if value is None:
        return None
    tag = _tag(value)
    if tag == "number":
        return _CTX.minus(value)
    if tag == "money":
        return _money(value.amount.copy_negate(), value.currency)
    if tag == "percent":
        return Percent(_CTX.minus(value.value))
    if tag == "duration":
        try:
            return -value
        except OverflowError:
            _out_of_range(node)
    _fail(node, f"cannot negate {_kind(value)}")


def _equal(a: Any, b: Any, node: n.Expr) -> bool:
    if a is None or b is None:
        return a is b
    ta, tb = _tag(a), _tag(b)
    if ta != tb:
        return False
    if ta == "money":
        _currency(a, b, node)
        return bool(a.amount == b.amount)
    if ta == "time":
        return _utc(a, node) == _utc(b, node)
    if ta == "list":
        return len(a) == len(b) and all(_equal(x, y, node) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _ordered(a: Any, b: Any, op: str, node: n.Expr) -> tuple[Any, Any] | None:
    """The keys to compare a and b by, or None when one is none."""
    if a is None or b is None:
        return None
    ta, tb = _tag(a), _tag(b)
    if ta == tb:
        if ta in ("number", "text", "duration"):
            return a, b
        if ta == "money":
            _currency(a, b, node)
            return a.amount, b.amount
        if ta == "percent":
            return a.value, b.value
        if ta == "time":
            return _utc(a, node), _utc(b, node)
    if ta == tb:
        _fail(node, f"{_kind(a)} values cannot be compared with {op}")
    _fail(node, f"cannot compare {_kind(a)} with {_kind(b)} using {op}")


def _eq(a: Any, b: Any, node: n.Expr) -> bool:
    return _equal(a, b, node)


def _lt(a: Any, b: Any, node: n.Expr) -> bool:
    keys = _ordered(a, b, "<", node)
    return keys is not None and bool(keys[0] < keys[1])


def _le(a: Any, b: Any, node: n.Expr) -> bool:
    keys = _ordered(a, b, "<=", node)
    return keys is not None and bool(keys[0] <= keys[1])


def _gt(a: Any, b: Any, node: n.Expr) -> bool:
    keys = _ordered(a, b, ">", node)
    return keys is not None and bool(keys[0] > keys[1])


def _ge(a: Any, b: Any, node: n.Expr) -> bool:
    keys = _ordered(a, b, ">=", node)
    return keys is not None and bool(keys[0] >= keys[1])


def _member(item: Any, items: Any, node: n.Expr) -> bool:
    return any(_equal(item, candidate, node) for candidate in items)


def _in(item: Any, items: Any, node: n.Expr) -> bool:
    if item is None or items is None:
        return False
    if _tag(items) != "list":
        if _tag(items) == "text":
            _fail(node, "'in' needs a list on its right; for text use contains(text, part)")
        _fail(node, f"'in' needs a list on its right, not {_kind(items)}")
    return _member(item, items, node)


def _elapsed(now: dt.datetime | None, started: dt.datetime | None, node: n.Expr) -> Any:
    if now is None or started is None:
        return None
    return _utc(now, node) - _utc(started, node)


# ---- functions ----------------------------------------------------------------------------


def _fn_min(node: n.Call, *args: Any) -> Any:
    if any(arg is None for arg in args):
        return None
    best = args[0]
    _ordered(best, best, "min", node)
    for arg in args[1:]:
        keys = _ordered(arg, best, "min", node)
        if keys is not None and keys[0] < keys[1]:
            best = arg
    return best


def _fn_max(node: n.Call, *args: Any) -> Any:
    if any(arg is None for arg in args):
        return None
    best = args[0]
    _ordered(best, best, "max", node)
    for arg in args[1:]:
        keys = _ordered(arg, best, "max", node)
        if keys is not None and keys[0] > keys[1]:
            best = arg
    return best


def _fn_abs(node: n.Call, value: Any) -> Any:
    if value is None:
        return None
    tag = _tag(value)
    if tag == "number":
        return _CTX.abs(value)
    if tag == "money":
        return _money(value.amount.copy_abs(), value.currency)
    if tag == "percent":
        return Percent(_CTX.abs(value.value))
    if tag == "duration":
        return abs(value)
    _fail(node, f"abs() takes a number, money, percent or duration, not {_kind(value)}")


def _fn_round(node: n.Call, value: Any, digits: Any = _ZERO) -> Any:
    if value is None or digits is None:
        return None
    if _tag(digits) != "number" or digits != digits.to_integral_value():
        _fail(node, f"round() takes a whole number of digits, not {_show(digits)}")
    tag = _tag(value)
    try:
        exponent = Decimal(1).scaleb(-int(digits), _CTX)
        if tag == "number":
            return _clean(value.quantize(exponent, decimal.ROUND_HALF_EVEN, _CTX))
        if tag == "money":
            return _money(
                value.amount.quantize(exponent, decimal.ROUND_HALF_EVEN, _WIDE), value.currency
            )
        if tag == "percent":
            return Percent(_clean(value.value.quantize(exponent, decimal.ROUND_HALF_EVEN, _CTX)))
    except (ArithmeticError, ValueError):
        _out_of_range(node)
    _fail(node, f"round() takes a number, money or percent, not {_kind(value)}")


def _fn_len(node: n.Call, value: Any) -> Any:
    if value is None:
        return None
    if _tag(value) in ("text", "list"):
        return Decimal(len(value))
    _fail(node, f"len() takes text or a list, not {_kind(value)}")


def _text_arg(name: str, value: Any, node: n.Call) -> str:
    if _tag(value) != "text":
        _fail(node, f"{name}() takes text, not {_kind(value)}")
    return str(value)


def _fn_lower(node: n.Call, value: Any) -> Any:
    return None if value is None else _text_arg("lower", value, node).lower()


def _fn_upper(node: n.Call, value: Any) -> Any:
    return None if value is None else _text_arg("upper", value, node).upper()


def _fn_contains(node: n.Call, container: Any, item: Any) -> Any:
    if container is None or item is None:
        return None
    tag = _tag(container)
    if tag == "text":
        return _text_arg("contains", item, node) in container
    if tag == "list":
        return _member(item, container, node)
    _fail(node, f"contains() looks in text or a list, not in {_kind(container)}")


def _fn_starts_with(node: n.Call, text: Any, prefix: Any) -> Any:
    if text is None or prefix is None:
        return None
    return _text_arg("starts_with", text, node).startswith(_text_arg("starts_with", prefix, node))


def _duration_arg(name: str, value: Any, node: n.Call) -> dt.timedelta:
    if _tag(value) != "duration":
        _fail(node, f"{name}() takes a duration, not {_kind(value)}")
    result: dt.timedelta = value
    return result


def _fn_days(node: n.Call, value: Any) -> Any:
    if value is None:
        return None
    return _CTX.divide(_micros(_duration_arg("days", value, node)), _MICROS_PER_DAY)


def _fn_hours(node: n.Call, value: Any) -> Any:
    if value is None:
        return None
    return _CTX.divide(_micros(_duration_arg("hours", value, node)), _MICROS_PER_HOUR)


# name -> (helper, fewest arguments, most arguments or None, yields bool or none)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None, bool]] = {
    "min": (_fn_min, 1, None, False),
    "max": (_fn_max, 1, None, False),
    "abs": (_fn_abs, 1, 1, False),
    "round": (_fn_round, 1, 2, False),
    "len": (_fn_len, 1, 1, False),
    "lower": (_fn_lower, 1, 1, False),
    "upper": (_fn_upper, 1, 1, False),
    "contains": (_fn_contains, 2, 2, True),
    "starts_with": (_fn_starts_with, 2, 2, True),
    "days": (_fn_days, 1, 1, False),
    "hours": (_fn_hours, 1, 1, False),
}

_COMPARE_HELPERS: dict[str, Callable[[Any, Any, n.Expr], bool]] = {
    "==": _eq,
    "<": _lt,
    "<=": _le,
    ">": _gt,
    ">=": _ge,
}
_COMPARE_NAMES = {"==": "_eq", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_ARITH_HELPERS: dict[str, Callable[[Any, Any, n.Expr], Any]] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _div,
}
_ARITH_NAMES = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div"}
_FAST_ARITH = {"+": "_ctx_add", "-": "_ctx_sub"}

# The globals every generated function sees; builtins are limited to what templates use.
_NAMESPACE: dict[str, Any] = {
    "__builtins__": {"type": type, "str": str},
    "_D": Decimal,
    "_Money": Money,
    "_td": dt.timedelta,
    "_EMPTY": _EMPTY,
    "_ctx_add": _CTX.add,
    "_ctx_sub": _CTX.subtract,
    "_ctx_minus": _CTX.minus,
    "_add": _add,
    "_sub": _sub,
    "_mul": _mul,
    "_div": _div,
    "_of": _of,
    "_neg": _neg,
    "_eq": _eq,
    "_lt": _lt,
    "_le": _le,
    "_gt": _gt,
    "_ge": _ge,
    "_in": _in,
    "_nonbool": _nonbool,
    "_overflow": _overflow,
    "_ArithmeticError": ArithmeticError,
    "_elapsed": _elapsed,
    **{f"_fn_{name}": spec[0] for name, spec in _FUNCTIONS.items()},
}

# Types with an inline fast path when a constant of that type meets an unknown value.
_FAST_TYPES: dict[type, str] = {Decimal: "_D", str: "str", dt.timedelta: "_td"}


# ---- code generation ----------------------------------------------------------------------

# Parenthesis depth at which a sub-expression moves into a function of its own, far
# below what CPython's parser accepts (200 nested parentheses).
_MAX_DEPTH = 60


@attrs.frozen
class _Code:
    """A generated Python expression, or a constant folded at compile time."""

    text: str
    depth: int = 1
    kind: str = "any"  # "bool": always a bool; "bool?": bool or None; "any"
    const: bool = False
    value: Any = None
    needs: frozenset[str] = frozenset()  # prologue names used: "_cg", "_eg"


_PROLOGUE = {"_cg": "_cg = env.case.get", "_eg": "_eg = (env.event or _EMPTY).get"}


class _Gen:
    def __init__(self, consts: Mapping[str, Any]) -> None:
        self.consts = consts
        self.namespace: dict[str, Any] = dict(_NAMESPACE)
        self.functions: list[str] = []
        self.count = 0

    # ---- names and constants --------------------------------------------------------

    def _fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def bind(self, prefix: str, value: Any) -> str:
        name = self._fresh(prefix)
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        return self._fresh("_t")

    def constant(self, value: Any) -> _Code:
        # Only None/True/False are written as literals: every other constant is a bound
        # name, so no user text ever reaches generated source (or a format template).
        if value is None or value is True or value is False:
            text = repr(value)
        else:
            text = self.bind("_k", value)
        kind = "bool" if isinstance(value, bool) else "bool?" if value is None else "any"
        return _Code(text, 0, kind, True, value)

    def compose(self, template: str, *children: _Code, kind: str = "any", extra: int = 2) -> _Code:
        """Fill `template` ({0}, {1}... each used once) with children's code."""
        parts = []
        for child in children:
            parts.append(self.hoist(child) if child.depth + extra > _MAX_DEPTH else child)
        depth = max((part.depth for part in parts), default=0) + extra
        needs = frozenset().union(*(part.needs for part in parts))
        return _Code(template.format(*(part.text for part in parts)), depth, kind, needs=needs)

    def hoist(self, code: _Code) -> _Code:
        name = self._fresh("_s")
        lines = [f"def {name}(env):"]
        lines += [f"    {_PROLOGUE[need]}" for need in sorted(code.needs)]
        lines.append(f"    return {code.text}")
        self.functions.append("\n".join(lines))
        return _Code(f"{name}(env)", 1, code.kind)

    def module(self, code: _Code, node: n.Expr) -> str:
        lines = [f"        {_PROLOGUE[need]}" for need in sorted(code.needs)]
        info = self.bind("_n", node)
        main = "\n".join(
            [
                "def _rf(env):",
                "    try:",
                *lines,
                f"        return {code.text}",
                "    except _ArithmeticError as error:",  # the helpers catch theirs: a backstop
                f"        _overflow(error, {info})",
            ]
        )
        return "\n\n".join([*self.functions, main]) + "\n"

    def fold(self, node: n.Expr, compute: Callable[[], Any]) -> _Code | None:
        """A constant for a node whose operands are constants, unless it fails (then
        it fails at run time, only if it is evaluated)."""
        try:
            return self.constant(compute())
        except (ExprError, ArithmeticError, ValueError):
            return None

    # ---- conditions -------------------------------------------------------------------

    def cond(self, code: _Code, node: n.Expr) -> _Code:
        """`code` as a condition: True or False; none is False, anything else raises."""
        if code.const:
            value = code.value
            if value is True or value is False or value is None:
                return self.constant(value is True)
            info = self.bind("_n", node)
            return _Code(f"_nonbool({code.text}, {info})", 1, "bool")
        if code.kind == "bool":
            return code
        if code.kind == "bool?":
            return self.compose("({0} is True)", code, kind="bool", extra=1)
        temp, info = self.temp(), self.bind("_n", node)
        return self.compose(
            f"(({temp} := {{0}}) is True or ({temp} is not None and {temp} is not False"
            f" and _nonbool({temp}, {info})))",
            code,
            kind="bool",
            extra=3,
        )

    # ---- nodes ------------------------------------------------------------------------

    def gen(self, node: n.Expr) -> _Code:
        method = getattr(self, "gen_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"not an expression node: {node!r}")
        code: _Code = method(node)
        return code

    def gen_Number(self, node: n.Number) -> _Code:
        return self.constant(DECIMAL_CONTEXT.create_decimal(node.value))

    def gen_String(self, node: n.String) -> _Code:
        return self.constant(node.value)

    def gen_Bool(self, node: n.Bool) -> _Code:
        return self.constant(node.value)

    def gen_NoneLit(self, node: n.NoneLit) -> _Code:
        return self.constant(None)

    def gen_MoneyLit(self, node: n.MoneyLit) -> _Code:
        return self.constant(node.value)

    def gen_PercentLit(self, node: n.PercentLit) -> _Code:
        return self.constant(node.value)

    def gen_DurationLit(self, node: n.DurationLit) -> _Code:
        return self.constant(node.value.timedelta)

    def gen_ListExpr(self, node: n.ListExpr) -> _Code:
        items = [self.gen(item) for item in node.items]
        if all(item.const for item in items):
            return self.constant(tuple(item.value for item in items))
        template = "(" + "".join(f"{{{i}}}, " for i in range(len(items))) + ")"
        return self.compose(template, *items, extra=1)

    def gen_CaseRef(self, node: n.CaseRef) -> _Code:
        return _Code(f"_cg({node.field.text!r})", 1, needs=frozenset({"_cg"}))

    def gen_EventRef(self, node: n.EventRef) -> _Code:
        return _Code(f"_eg({node.field.text!r})", 1, needs=frozenset({"_eg"}))

    def gen_OfferRef(self, node: n.OfferRef) -> _Code:
        if node.field.text == "status":
            return _Code("env.offer_status", 0)
        if node.field.text == "amount":
            return _Code("env.offer_amount", 0)
        raise ExprError(
            f"offer has no field '{node.field.text}': use offer.status or offer.amount", node.span
        )

    def gen_TriggerRef(self, node: n.TriggerRef) -> _Code:
        return _Code("env.trigger", 0)

    def gen_NowRef(self, node: n.NowRef) -> _Code:
        return _Code("env.now", 0)

    def gen_ElapsedRef(self, node: n.ElapsedRef) -> _Code:
        return _Code(f"_elapsed(env.now, env.started_at, {self.bind('_n', node)})", 1)

    def gen_ConstRef(self, node: n.ConstRef) -> _Code:
        name = node.name.text
        if name not in self.consts:
            raise ExprError(f"unknown constant '{name}'", node.span)
        return self.constant(_runtime(self.consts[name]))

    def gen_Negate(self, node: n.Negate) -> _Code:
        operand = self.gen(node.operand)
        if operand.const and (folded := self.fold(node, lambda: _neg(operand.value, node))):
            return folded
        temp, info = self.temp(), self.bind("_n", node)
        return self.compose(
            f"(_ctx_minus({temp}) if type({temp} := {{0}}) is _D else _neg({temp}, {info}))",
            operand,
        )

    def gen_Not(self, node: n.Not) -> _Code:
        operand = self.cond(self.gen(node.operand), node.operand)
        if operand.const:
            return self.constant(not operand.value)
        return self.compose("(not {0})", operand, kind="bool", extra=1)

    def gen_Arith(self, node: n.Arith) -> _Code:
        left, right = self.gen(node.left), self.gen(node.right)
        helper = _ARITH_HELPERS[node.op]
        if (
            left.const
            and right.const
            and (folded := self.fold(node, lambda: helper(left.value, right.value, node)))
        ):
            return folded
        info, name = self.bind("_n", node), _ARITH_NAMES[node.op]
        fast = _FAST_ARITH.get(node.op)
        if fast is not None and not left.const and not right.const:
            a, b = self.temp(), self.temp()
            return self.compose(
                f"({fast}({a}, {b}) if (type({a} := {{0}}) is _D) & (type({b} := {{1}}) is _D)"
                f" else {name}({a}, {b}, {info}))",
                left,
                right,
                extra=3,
            )
        if fast is not None and (left.const or right.const):
            known = left if left.const else right
            if type(known.value) is Decimal:
                unknown = right if left.const else left
                t = self.temp()
                args = f"{known.text}, {t}" if left.const else f"{t}, {known.text}"
                return self.compose(
                    f"({fast}({args}) if type({t} := {{0}}) is _D else {name}({args}, {info}))",
                    unknown,
                )
        return self.compose(f"{name}({{0}}, {{1}}, {info})", left, right, extra=1)

    def gen_Of(self, node: n.Of) -> _Code:
        percent, base = self.gen(node.percent), self.gen(node.base)
        if (
            percent.const
            and base.const
            and (folded := self.fold(node, lambda: _of(percent.value, base.value, node)))
        ):
            return folded
        return self.compose(f"_of({{0}}, {{1}}, {self.bind('_n', node)})", percent, base, extra=1)

    def gen_IsNone(self, node: n.IsNone) -> _Code:
        operand = self.gen(node.operand)
        if operand.const:
            return self.constant((operand.value is None) != node.negated)
        test = "is not None" if node.negated else "is None"
        return self.compose(f"({{0}} {test})", operand, kind="bool", extra=1)

    def gen_Compare(self, node: n.Compare) -> _Code:
        left, right = self.gen(node.left), self.gen(node.right)
        op = node.op
        if (
            left.const
            and right.const
            and (folded := self.fold(node, lambda: _compare(op, left.value, right.value, node)))
        ):
            return folded
        if op in ("in", "not in"):
            code = self._membership(node, left, right)
            return self.compose("(not {0})", code, kind="bool", extra=1) if op == "not in" else code
        if op == "!=":
            code = self._equality(node, left, right)
            return self.compose("(not {0})", code, kind="bool", extra=1)
        if op == "==":
            return self._equality(node, left, right)
        return self._ordering(node, op, left, right)

    def _equality(self, node: n.Compare, left: _Code, right: _Code) -> _Code:
        if left.const and not right.const:
            left, right = right, left  # `==` is symmetric; constants have no effects
        info = self.bind("_n", node)
        if not right.const:
            return self.compose(f"_eq({{0}}, {{1}}, {info})", left, right, kind="bool", extra=1)
        value, t = right.value, self.temp()
        if value is None or value is True or value is False:
            return self.compose(f"({{0}} is {value!r})", left, kind="bool", extra=1)
        if type(value) is str:  # only text equals text: no type test needed
            return self.compose(f"({{0}} == {right.text})", left, kind="bool", extra=1)
        if type(value) is Decimal:
            return self.compose(
                f"(type({t} := {{0}}) is _D and {t} == {right.text})", left, kind="bool"
            )
        if type(value) is Money:
            amount = self.bind("_k", value.amount)
            return self.compose(
                f"({t}.amount == {amount} if type({t} := {{0}}) is _Money and {t}.currency"
                f" == {value.currency!r} else _eq({t}, {right.text}, {info}))",
                left,
                kind="bool",
            )
        return self.compose(f"_eq({{0}}, {right.text}, {info})", left, kind="bool", extra=1)

    def _ordering(self, node: n.Compare, op: str, left: _Code, right: _Code) -> _Code:
        info, helper = self.bind("_n", node), _COMPARE_NAMES[op]
        if left.const == right.const:
            return self.compose(
                f"{helper}({{0}}, {{1}}, {info})", left, right, kind="bool", extra=1
            )
        known, unknown = (right, left) if right.const else (left, right)
        py_op = op if known is right else _MIRRORED[op]
        t = self.temp()
        args = f"{t}, {known.text}" if known is right else f"{known.text}, {t}"
        value = known.value
        fast_type = _FAST_TYPES.get(type(value))
        if fast_type is not None:
            return self.compose(
                f"({t} {py_op} {known.text} if type({t} := {{0}}) is {fast_type}"
                f" else {helper}({args}, {info}))",
                unknown,
                kind="bool",
            )
        if type(value) is Money:
            amount = self.bind("_k", value.amount)
            return self.compose(
                f"({t}.amount {py_op} {amount} if type({t} := {{0}}) is _Money and"
                f" {t}.currency == {value.currency!r} else {helper}({args}, {info}))",
                unknown,
                kind="bool",
            )
        generic = "{0}, " + known.text if known is right else known.text + ", {0}"
        return self.compose(f"{helper}({generic}, {info})", unknown, kind="bool", extra=1)

    def _membership(self, node: n.Compare, item: _Code, items: _Code) -> _Code:
        info = self.bind("_n", node)
        if items.const and type(items.value) is tuple and items.value:
            types = {type(value) for value in items.value}
            only = next(iter(types))
            if len(types) == 1 and only in _FAST_TYPES:
                members = self.bind("_k", frozenset(items.value))
                t = self.temp()
                return self.compose(
                    f"({t} in {members} if type({t} := {{0}}) is {_FAST_TYPES[only]}"
                    f" else _in({t}, {items.text}, {info}))",
                    item,
                    kind="bool",
                )
        return self.compose(f"_in({{0}}, {{1}}, {info})", item, items, kind="bool", extra=1)

    def gen_BoolOp(self, node: n.BoolOp) -> _Code:
        left = self.cond(self.gen(node.left), node.left)
        is_and = node.op == "and"
        if left.const:
            if left.value is not is_and:  # false and ..., true or ...
                return self.constant(left.value)
            return self.cond(self.gen(node.right), node.right)
        right = self.cond(self.gen(node.right), node.right)
        if right.const and right.value is is_and:  # x and true, x or false
            return left
        return self.compose(f"({{0}} {node.op} {{1}})", left, right, kind="bool", extra=1)

    def gen_IfExpr(self, node: n.IfExpr) -> _Code:
        condition = self.cond(self.gen(node.condition), node.condition)
        if condition.const:
            return self.gen(node.then if condition.value else node.otherwise)
        then, otherwise = self.gen(node.then), self.gen(node.otherwise)
        kinds = {then.kind, otherwise.kind}
        kind = "bool" if kinds == {"bool"} else "bool?" if kinds <= {"bool", "bool?"} else "any"
        return self.compose("({1} if {0} else {2})", condition, then, otherwise, kind=kind, extra=1)

    def gen_Call(self, node: n.Call) -> _Code:
        name = node.function.text
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise ExprError(
                f"unknown function '{name}': functions are " + ", ".join(_FUNCTIONS),
                node.function.span,
            )
        helper, fewest, most, yields_bool = spec
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            expected = (
                f"at least {fewest}"
                if most is None
                else str(fewest)
                if fewest == most
                else f"{fewest} or {most}"
            )
            raise ExprError(
                f"{name}() takes {expected} argument{'' if expected == '1' else 's'}, not {count}",
                node.span,
            )
        args = [self.gen(arg) for arg in node.args]
        if all(arg.const for arg in args) and (
            folded := self.fold(node, lambda: helper(node, *(a.value for a in args)))
        ):
            return folded
        info = self.bind("_n", node)
        template = f"_fn_{name}({info}" + "".join(f", {{{i}}}" for i in range(count)) + ")"
        return self.compose(template, *args, kind="bool?" if yields_bool else "any", extra=1)


def _compare(op: str, left: Any, right: Any, node: n.Expr) -> bool:
    if op == "in":
        return _in(left, right, node)
    if op == "not in":
        return not _in(left, right, node)
    if op == "!=":
        return not _equal(left, right, node)
    return _COMPARE_HELPERS[op](left, right, node)


def _runtime(value: Any) -> Any:
    """A constant's value as expressions see it."""
    if isinstance(value, Duration):
        return value.timedelta
    if isinstance(value, list):
        return tuple(_runtime(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return DECIMAL_CONTEXT.create_decimal(repr(value))
    return value


# ---- public API ---------------------------------------------------------------------------


def _build(expr: n.Expr, consts: Mapping[str, Any], condition: bool) -> Compiled:
    gen = _Gen(consts)
    code = gen.gen(expr)
    if condition:
        code = gen.cond(code, expr)
    source = gen.module(code, expr)
    namespace = gen.namespace
    exec(compile(source, "<rflow expression>", "exec"), namespace)
    function: Callable[[Env], Any] = namespace["_rf"]
    value = code.value if code.const else None
    return Compiled(function, render(expr), expr.span, source, code.const, value)


def compile_expr(expr: n.Expr, consts: Mapping[str, Any]) -> Compiled:
    """Compile an expression; constants (runtime values by name) are inlined now."""
    return _build(expr, consts, condition=False)


def compile_condition(expr: n.Expr, consts: Mapping[str, Any]) -> Compiled:
    """Compile a guard: the result is always a bool (none is false; any other non-bool
    value raises `ExprError` naming the sub-expression that gave it)."""
    return _build(expr, consts, condition=True)


def evaluate_const(expr: n.Expr, consts: Mapping[str, Any]) -> Any:
    """The value of a `const` declaration; `consts` holds the constants declared before."""
    return compile_expr(expr, consts)(Env(case=_EMPTY))
