"""Type checking of every expression: `CheckContext` in, RF003/RF104/RF301/RF302 out.

`Typer.infer` gives an expression's static `Type` and reports what does not fit: money
only meets money of one currency, `P of M` takes a percent, `time - time` is a duration,
an enum compares with its members only, conditions are bools. `any` (an undeclared
event's payload) fits everything, and money of unknown currency fits any currency.
Unknown names are typed `any` here: `names.py` reports them.

    >>> Typer(ctx, scope, sink, const_type).infer(expr)
    Type(name='money', currency='USD')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from retainflow import nodes as n
from retainflow.checks.context import (
    ENVELOPE_FIELDS,
    FUNCTIONS,
    MAX_DEPTH,
    MAX_NODES,
    OFFER_STATUS_TYPE,
    CheckContext,
    Scope,
    Site,
    keyword_span,
    leading,
    measure,
    suggest,
)
from retainflow.diagnostics import Diagnostic, Related
from retainflow.source import Span
from retainflow.types import (
    ANY,
    BOOL,
    DURATION,
    NONE,
    NUMBER,
    PERCENT,
    TEXT,
    TIME,
    Type,
)

ORDERED = frozenset({"number", "money", "duration", "time", "percent", "text"})
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}

# (op, left, right) -> result, for operands that are not money (money is handled apart).
_ARITH: dict[tuple[str, str, str], Type] = {
    ("+", "number", "number"): NUMBER,
    ("+", "duration", "duration"): DURATION,
    ("+", "time", "duration"): TIME,
    ("+", "duration", "time"): TIME,
    ("+", "percent", "percent"): PERCENT,
    ("-", "number", "number"): NUMBER,
    ("-", "duration", "duration"): DURATION,
    ("-", "time", "duration"): TIME,
    ("-", "time", "time"): DURATION,
    ("-", "percent", "percent"): PERCENT,
    ("*", "number", "number"): NUMBER,
    ("*", "number", "duration"): DURATION,
    ("*", "duration", "number"): DURATION,
    ("*", "number", "percent"): PERCENT,
    ("*", "percent", "number"): PERCENT,
    ("/", "number", "number"): NUMBER,
    ("/", "duration", "number"): DURATION,
    ("/", "duration", "duration"): NUMBER,
    ("/", "percent", "number"): PERCENT,
    ("/", "percent", "percent"): NUMBER,
}


def compat(a: Type, b: Type) -> str:
    """Whether values of two types can meet (==, lists, if branches): ok, currency or type."""
    if a.name in ("any", "none") or b.name in ("any", "none"):
        return "ok"
    if a.name == "enum" and b.name == "enum":
        return "ok" if set(a.members) & set(b.members) else "type"
    if {a.name, b.name} == {"enum", "text"}:
        return "ok"  # a text value may hold a member; literals are checked apart (RF104)
    if a.name != b.name:
        return "type"
    if a.name == "money":
        return "currency" if a.currency and b.currency and a.currency != b.currency else "ok"
    if a.name == "list":
        return compat(a.element or ANY, b.element or ANY)
    return "ok"


def unify(a: Type, b: Type) -> Type | None:
    """The type of a value that is either an `a` or a `b`; None when they do not fit."""
    optional = a.optional or b.optional
    if a.name == "any" or b.name == "any":
        return ANY.as_optional(optional)
    if a.name == "none":
        return b.as_optional()
    if b.name == "none":
        return a.as_optional()
    if compat(a, b) != "ok":
        return None
    if a.name == "enum" and b.name == "enum":
        members = tuple(dict.fromkeys(a.members + b.members))
        return Type("enum", members=members, optional=optional)
    if a.name != b.name:  # enum and text
        return TEXT.as_optional(optional)
    if a.name == "money":
        return Type("money", currency=a.currency or b.currency, optional=optional)
    if a.name == "list":
        element = unify(a.element or ANY, b.element or ANY)
        return Type("list", element=element or ANY, optional=optional)
    return a.as_optional(optional)


def show(type_: Type) -> str:
    """A type as messages name it."""
    if type_.name == "enum" and len(type_.members) > 4:
        return f"enum({', '.join(type_.members[:3])}, ...)" + ("?" if type_.optional else "")
    if type_.name == "none":
        return "none"
    return str(type_)


class Typer:
    """Infers expression types in one scope, appending problems to `sink`."""

    def __init__(
        self,
        ctx: CheckContext,
        scope: Scope,
        sink: list[Diagnostic],
        const_type: Callable[[str], Type] | None = None,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.sink = sink
        self.const_type = const_type or (lambda name: ctx.const_types.get(name, ANY))

    def report(self, code: str, span: Span, message: str, label: str | None = None) -> None:
        self.sink.append(Diagnostic(code, span, message, label=label))

    def text(self, node: object) -> str:
        return self.ctx.text(node)

    # ---- inference ------------------------------------------------------------------

    def infer(self, expr: n.Expr) -> Type:
        if isinstance(expr, n.Number):
            return NUMBER
        if isinstance(expr, n.String):
            return TEXT
        if isinstance(expr, n.Bool):
            return BOOL
        if isinstance(expr, n.NoneLit):
            return NONE
        if isinstance(expr, n.MoneyLit):
            currency = expr.value.currency
            return Type("money", currency=None if currency == "XXX" else currency)
        if isinstance(expr, n.PercentLit):
            return PERCENT
        if isinstance(expr, n.DurationLit):
            return DURATION
        if isinstance(expr, n.ListExpr):
            return self._list(expr)
        if isinstance(expr, n.CaseRef):
            return self.ctx.case_fields.get(expr.field.text, ANY)
        if isinstance(expr, n.EventRef):
            return self._event_field(expr.field.text)
        if isinstance(expr, n.OfferRef):
            return self._offer_field(expr.field.text)
        if isinstance(expr, n.TriggerRef):
            return TEXT
        if isinstance(expr, n.ElapsedRef):
            return DURATION
        if isinstance(expr, n.NowRef):
            return TIME
        if isinstance(expr, n.ConstRef):
            return self.const_type(expr.name.text)
        if isinstance(expr, n.Call):
            return self._call(expr)
        if isinstance(expr, n.Negate):
            return self._negate(expr)
        if isinstance(expr, n.Not):
            self.condition(expr.operand, leading(expr.span, 3), "`not`")
            return BOOL
        if isinstance(expr, n.Arith):
            return self._arith(expr)
        if isinstance(expr, n.Of):
            return self._of(expr)
        if isinstance(expr, n.Compare):
            self._compare(expr)
            return BOOL
        if isinstance(expr, n.IsNone):
            self.infer(expr.operand)
            return BOOL
        if isinstance(expr, n.BoolOp):
            span = keyword_span(self.ctx.source, expr.op_span, rf"\b{expr.op}\b")
            self.condition(expr.left, span, f"`{expr.op}`")
            self.condition(expr.right, span, f"`{expr.op}`")
            return BOOL
        if isinstance(expr, n.IfExpr):
            return self._if(expr)
        return ANY  # pragma: no cover - every node kind is handled above

    def condition(self, expr: n.Expr, span: Span, what: str) -> None:
        """Report when `expr` is not a bool (optional bools and `any` are fine)."""
        type_ = self.infer(expr)
        if type_.name not in ("bool", "any"):
            self.report(
                "RF301",
                span,
                f"{what} needs true or false, but `{self.text(expr)}` is {show(type_)}",
                label=_condition_hint(type_),
            )

    def expect(self, expr: n.Expr, want: str, what: str, hint: str | None = None) -> Type:
        """Infer `expr` and report RF301 unless it is a `want` (or any/none)."""
        type_ = self.infer(expr)
        if type_.name not in (want, "any", "none"):
            self.report(
                "RF301",
                expr.span,
                f"{what} must be {_a(want)}, but `{self.text(expr)}` is {show(type_)}",
                label=hint,
            )
        return type_

    def _event_field(self, field: str) -> Type:
        event = self.scope.event
        if event is None:
            return ANY
        fields = self.ctx.event_fields(event)
        if fields is None:
            return ANY
        return fields.get(field) or ENVELOPE_FIELDS.get(field, ANY)

    def _offer_field(self, field: str) -> Type:
        if field == "status":
            return OFFER_STATUS_TYPE
        if field == "amount" and self.scope.step is not None:
            return self.ctx.offer_amount_type(self.scope.step)
        return ANY

    def _list(self, expr: n.ListExpr) -> Type:
        element: Type | None = None
        for item in expr.items:
            type_ = self.infer(item)
            if element is None:
                element = type_
                continue
            merged = unify(element, type_)
            if merged is None:
                code = "RF302" if compat(element, type_) == "currency" else "RF301"
                self.report(
                    code,
                    item.span,
                    f"a list holds values of one type, but `{self.text(item)}` is "
                    f"{show(type_)} and the items before it are {show(element)}",
                )
            else:
                element = merged
        return Type("list", element=element.required() if element else ANY)

    def _negate(self, expr: n.Negate) -> Type:
        type_ = self.infer(expr.operand)
        if type_.name in ("number", "money", "duration", "percent", "any", "none"):
            return type_
        self.report(
            "RF301",
            leading(expr.span, 1),
            f"cannot negate `{self.text(expr.operand)}`: it is {show(type_)}",
            label="only numbers, money, durations and percents have a sign",
        )
        return ANY

    def _arith(self, expr: n.Arith) -> Type:
        left, right = self.infer(expr.left), self.infer(expr.right)
        optional = left.optional or right.optional
        if left.name == "any" or right.name == "any":
            return ANY.as_optional(optional)
        if left.name == "none" or right.name == "none":
            other = right if left.name == "none" else left
            return other.as_optional()  # arithmetic with none gives none
        key = (expr.op, left.name, right.name)
        if left.name == "money" or right.name == "money":
            result = self._money_arith(expr, left, right)
            return result.as_optional(optional) if result else ANY
        if key in _ARITH:
            return _ARITH[key].as_optional(optional)
        self.report(
            "RF301",
            expr.op_span,
            _arith_message(expr.op, left, right),
            _arith_hint(expr, left, right),
        )
        return ANY

    def _money_arith(self, expr: n.Arith, left: Type, right: Type) -> Type | None:
        op = expr.op
        if left.name == "money" and right.name == "money":
            if left.currency and right.currency and left.currency != right.currency:
                self.report(
                    "RF302",
                    expr.op_span,
                    f"cannot {_VERBS[op]} {left.currency} and {right.currency} money",
                    label="money of two currencies never meets: use amounts in one currency",
                )
                return None
            if op in ("+", "-"):
                return Type("money", currency=left.currency or right.currency)
            if op == "/":
                return NUMBER  # a ratio of two amounts
        elif op == "*" and {left.name, right.name} == {"money", "number"}:
            return left if left.name == "money" else right
        elif op == "/" and left.name == "money" and right.name == "number":
            return left
        self.report(
            "RF301", expr.op_span, _arith_message(op, left, right), _arith_hint(expr, left, right)
        )
        return None

    def _of(self, expr: n.Of) -> Type:
        span = keyword_span(self.ctx.source, expr.op_span, r"\bof\b")
        percent, base = self.infer(expr.percent), self.infer(expr.base)
        optional = percent.optional or base.optional
        if percent.name not in ("percent", "any", "none"):
            self.report(
                "RF301",
                span,
                f"`of` takes a percent on its left, but `{self.text(expr.percent)}` is "
                f"{show(percent)}",
                label="write it like `15% of case.arr`",
            )
        if base.name in ("money", "number", "any", "none"):
            return base.as_optional(optional)
        self.report(
            "RF301",
            span,
            f"a percent is taken of money or a number, but `{self.text(expr.base)}` is "
            f"{show(base)}",
        )
        return ANY

    def _if(self, expr: n.IfExpr) -> Type:
        self.condition(expr.condition, expr.condition.span, "the condition of `if`")
        then, otherwise = self.infer(expr.then), self.infer(expr.otherwise)
        merged = unify(then, otherwise)
        if merged is not None:
            return merged
        code = "RF302" if compat(then, otherwise) == "currency" else "RF301"
        self.report(
            code,
            expr.otherwise.span,
            f"the branches of this `if` do not fit together: `{self.text(expr.then)}` is "
            f"{show(then)} but `{self.text(expr.otherwise)}` is {show(otherwise)}",
            label="both branches must give the same type",
        )
        return ANY

    # ---- comparisons ----------------------------------------------------------------

    def _compare(self, expr: n.Compare) -> None:
        left, right = self.infer(expr.left), self.infer(expr.right)
        if expr.op in ("in", "not in"):
            pattern = r"\bnot\s+in\b" if expr.op == "not in" else r"\bin\b"
            self._membership(
                expr, keyword_span(self.ctx.source, expr.op_span, pattern), left, right
            )
        elif expr.op in ("==", "!="):
            self._equality(expr, left, right)
        else:
            self._ordering(expr, left, right)

    def _equality(self, expr: n.Compare, left: Type, right: Type) -> None:
        if left.name == "enum":
            self.enum_values(left, self.quoted(expr.left), expr.right)
        if right.name == "enum":
            self.enum_values(right, self.quoted(expr.right), expr.left)
        self._meet(expr.op_span, left, right, expr.left, expr.right, "compare")

    def _meet(
        self, span: Span, left: Type, right: Type, lexpr: n.Expr, rexpr: n.Expr, verb: str
    ) -> bool:
        verdict = compat(left, right)
        if verdict == "currency":
            self.report(
                "RF302",
                span,
                f"cannot {verb} {left.currency} money with {right.currency} money",
                label="money of two currencies never meets: use amounts in one currency",
            )
        elif verdict == "type":
            self.report(
                "RF301",
                span,
                f"cannot {verb} `{self.text(lexpr)}` ({show(left)}) with "
                f"`{self.text(rexpr)}` ({show(right)})",
                label=_compare_hint(left, right),
            )
        return verdict == "ok"

    def _ordering(self, expr: n.Compare, left: Type, right: Type) -> None:
        for side in (expr.left, expr.right):
            if isinstance(side, n.NoneLit):
                self.report(
                    "RF301",
                    expr.op_span,
                    f"`{expr.op}` with none is always false",
                    label="test for a missing value with `is none` / `is not none`",
                )
                return
        if left.name in ("any", "none") or right.name in ("any", "none"):
            return
        for type_, side in ((left, expr.left), (right, expr.right)):
            if type_.name == "enum":
                self.report(
                    "RF301",
                    expr.op_span,
                    f"`{self.text(side)}` is an enum, and enum values have no order",
                    label='list the values you mean: `case.tier in ["gold", "platinum"]`',
                )
                return
            if type_.name not in ORDERED:
                self.report(
                    "RF301",
                    expr.op_span,
                    f"`{expr.op}` orders numbers, money, durations, times, percents or text, "
                    f"but `{self.text(side)}` is {show(type_)}",
                )
                return
        self._meet(expr.op_span, left, right, expr.left, expr.right, "compare")

    def _membership(self, expr: n.Compare, span: Span, left: Type, right: Type) -> None:
        if right.name == "any":
            if left.name == "enum":
                self.enum_values(left, self.quoted(expr.left), expr.right, membership=True)
            return
        if right.name != "list":
            hint = None
            if right.name in ("text", "enum"):
                hint = "to look for text inside text, use `contains(text, part)`"
            self.report(
                "RF301",
                span,
                f"`{expr.op}` needs a list on its right, but `{self.text(expr.right)}` is "
                f"{show(right)}",
                label=hint,
            )
            return
        element = right.element or ANY
        if left.name == "enum":
            self.enum_values(left, self.quoted(expr.left), expr.right, membership=True)
        if element.name == "enum":
            self.enum_values(element, f"the items of {self.quoted(expr.right)}", expr.left)
        verdict = compat(left, element)
        if verdict == "currency":
            self.report(
                "RF302",
                span,
                f"cannot look for {left.currency} money in a list of {element.currency} money",
                label="money of two currencies never meets: use amounts in one currency",
            )
        elif verdict == "type":
            self.report(
                "RF301",
                span,
                f"cannot look for `{self.text(expr.left)}` ({show(left)}) in a list of "
                f"{show(element)}",
                label=_compare_hint(left, element),
            )

    def quoted(self, expr: n.Expr) -> str:
        return f"`{self.text(expr)}`"

    def enum_values(
        self,
        enum: Type,
        target: str,
        other: n.Expr,
        membership: bool = False,
        verb: str = "compared with",
    ) -> None:
        """RF104 for every string literal (or constant string) on `other` that is not a
        member of `enum` (`target` says whose values they are, `verb` how `other` meets
        them); with `membership`, `other` is a list of candidates. A constant's value is
        reported at its literal in the declaration, with the use as related location."""
        if membership and isinstance(other, n.ListExpr):
            for item in other.items:
                self.enum_values(enum, target, item, verb=verb)
            return
        if isinstance(other, n.String):
            if other.value not in enum.members:
                self._not_member(enum, target, other.value, other.span, f'"{other.value}"')
            return
        if isinstance(other, n.ConstRef):
            name = other.name.text
            value = self.ctx.const_values.get(name)
            values = value if membership and isinstance(value, tuple) else (value,)
            for candidate in values:
                if isinstance(candidate, str) and candidate not in enum.members:
                    const = self.ctx.consts.get(name)
                    literal = None if const is None else self._literal(const.value, candidate)
                    whose = "an item" if values is value else "the value"
                    shown = f"\"{candidate}\" ({whose} of constant '{name}')"
                    use = f"constant '{name}' is {verb} {target}"
                    self._not_member(
                        enum,
                        target,
                        candidate,
                        literal or other.span,
                        shown,
                        f", which the constant is {verb}",
                        (Related(other.span, use),) if literal else (),
                    )

    def _literal(self, expr: n.Expr, value: str, depth: int = 0) -> Span | None:
        """Where a constant's expression writes the string `value`: the literal itself, an
        item of a literal list, or (through other constants) their literals."""
        if depth > 64:
            return None
        if isinstance(expr, n.String):
            return expr.span if expr.value == value else None
        if isinstance(expr, n.ListExpr):
            for item in expr.items:
                span = self._literal(item, value, depth + 1)
                if span is not None:
                    return span
            return None
        if isinstance(expr, n.ConstRef):
            const = self.ctx.consts.get(expr.name.text)
            return None if const is None else self._literal(const.value, value, depth + 1)
        return None

    def _not_member(
        self,
        enum: Type,
        target: str,
        value: str,
        span: Span,
        shown: str,
        how: str = "",
        related: tuple[Related, ...] = (),
    ) -> None:
        suggestion = suggest(value, enum.members)
        label = (
            f"did you mean '{suggestion}'?"
            if suggestion
            else "the values are " + ", ".join(dict.fromkeys(enum.members))
        )
        self.sink.append(
            Diagnostic(
                "RF104",
                span,
                f"{shown} is not a value of {target}{how}",
                label=label,
                suggestion=suggestion,
                related=related,
            )
        )

    # ---- functions ------------------------------------------------------------------

    def _call(self, call: n.Call) -> Type:
        types = [self.infer(arg) for arg in call.args]
        name = call.function.text
        if name not in FUNCTIONS:
            return ANY
        low, high = _ARITY[name]
        count = len(call.args)
        if count < low or (high is not None and count > high):
            span = call.span
            if high is not None and count > high:
                span = call.args[high].span.cover(call.args[-1].span)
            self.report(
                "RF301",
                span,
                f"{name}() takes {_arity_text(low, high)}, but {_count(count)} "
                f"{'is' if count == 1 else 'are'} given",
                label=f"call it as {_SIGNATURES[name]}",
            )
            return _RESULTS.get(name, ANY)
        optional = any(t.optional for t in types)
        return self._call_types(call, name, types).as_optional(optional)

    def _arg(
        self, call: n.Call, index: int, type_: Type, allowed: Sequence[str], what: str
    ) -> bool:
        if type_.name in (*allowed, "any", "none"):
            return True
        arg = call.args[index]
        self.report(
            "RF301",
            arg.span,
            f"{call.function.text}() needs {what}, but `{self.text(arg)}` is {show(type_)}",
            label=f"call it as {_SIGNATURES[call.function.text]}",
        )
        return False

    def _call_types(self, call: n.Call, name: str, types: list[Type]) -> Type:
        if name in ("min", "max"):
            return self._extreme(call, types)
        if name == "abs":
            ok = self._arg(
                call,
                0,
                types[0],
                ("number", "money", "duration", "percent"),
                "a number, money, a duration or a percent",
            )
            return types[0].required() if ok else ANY
        if name == "round":
            ok = self._arg(
                call,
                0,
                types[0],
                ("number", "money", "percent"),
                "a number, money or a percent to round",
            )
            if len(types) > 1 and self._arg(call, 1, types[1], ("number",), "a number of digits"):
                digits = call.args[1]
                if (
                    isinstance(digits, n.Number)
                    and digits.value != digits.value.to_integral_value()
                ):
                    self.report(
                        "RF301",
                        digits.span,
                        f"round() takes a whole number of digits, not {self.text(digits)}",
                    )
            return types[0].required() if ok else ANY
        if name == "len":
            self._arg(call, 0, types[0], ("text", "enum", "list"), "text or a list")
            return NUMBER
        if name in ("lower", "upper"):
            self._arg(call, 0, types[0], ("text", "enum"), "text")
            return TEXT
        if name == "starts_with":
            self._arg(call, 0, types[0], ("text", "enum"), "text")
            self._arg(call, 1, types[1], ("text", "enum"), "a text prefix")
            return BOOL
        if name == "contains":
            return self._contains(call, types)
        # days, hours
        self._arg(call, 0, types[0], ("duration",), "a duration")
        return NUMBER

    def _contains(self, call: n.Call, types: list[Type]) -> Type:
        whole, part = types
        if whole.name == "list":
            element = whole.element or ANY
            if element.name == "enum":
                self.enum_values(
                    element,
                    f"the items of {self.quoted(call.args[0])}",
                    call.args[1],
                    verb="looked for in",
                )
            verdict = compat(part, element)
            if verdict != "ok":
                self.report(
                    "RF302" if verdict == "currency" else "RF301",
                    call.args[1].span,
                    f"contains() looks for an item of {self.quoted(call.args[0])} "
                    f"({show(element)}), but `{self.text(call.args[1])}` is {show(part)}",
                    label=_compare_hint(part, element),
                )
        elif whole.name in ("any", "none"):
            pass
        elif self._arg(call, 0, whole, ("text", "enum"), "text or a list"):
            self._arg(call, 1, part, ("text", "enum"), "the text to look for")
        return BOOL

    def _extreme(self, call: n.Call, types: list[Type]) -> Type:
        name = call.function.text
        args = call.args
        result: Type | None = None
        for arg, type_ in zip(args, types, strict=True):
            if type_.name not in (*ORDERED, "any", "none"):
                self.report(
                    "RF301",
                    arg.span,
                    f"{name}() compares numbers, money, durations, times, percents or text, "
                    f"but `{self.text(arg)}` is {show(type_)}",
                    label="enum values have no order" if type_.name == "enum" else None,
                )
                return ANY
            if result is None:
                result = type_
                continue
            merged = unify(result, type_)
            if merged is None:
                verdict = compat(result, type_)
                if verdict == "currency":
                    self.report(
                        "RF302",
                        arg.span,
                        f"{name}() of {result.currency} and {type_.currency} money",
                        label="money of two currencies never meets: use amounts in one currency",
                    )
                else:
                    self.report(
                        "RF301",
                        arg.span,
                        f"{name}() needs values of one type, but `{self.text(arg)}` is "
                        f"{show(type_)} and the values before it are {show(result)}",
                    )
                return ANY
            result = merged
        return (result or ANY).required()

    # ---- assignment to a declared action parameter ------------------------------------

    def assign(self, expr: n.Expr, param: Type, what: str) -> None:
        """Check a value passed to a declared parameter of type `param`."""
        type_ = self.infer(expr)
        if isinstance(expr, n.NoneLit) and not param.optional:
            self.report(
                "RF301",
                expr.span,
                f"{what} is required ({show(param)}), so it cannot be none",
                label="declare it optional with `?` to allow none",
            )
            return
        if param.name == "enum":
            self.enum_values(param, what, expr, verb="passed to")
            if isinstance(expr, n.String):
                return
        element = param.element
        if param.name == "list" and element is not None and element.name == "enum":
            self.enum_values(
                element, f"the items of {what}", expr, membership=True, verb="passed to"
            )
        verdict = compat(type_, param)
        if verdict == "currency":
            self.report(
                "RF302",
                expr.span,
                f"{what} is {param.currency} money, but `{self.text(expr)}` is "
                f"{type_.currency} money",
                label="money of two currencies never meets: use amounts in one currency",
            )
        elif verdict == "type":
            self.report(
                "RF301",
                expr.span,
                f"{what} is {show(param)}, but `{self.text(expr)}` is {show(type_)}",
            )


# ---- messages -----------------------------------------------------------------------------

_ARITY: dict[str, tuple[int, int | None]] = {
    "min": (1, None),
    "max": (1, None),
    "abs": (1, 1),
    "round": (1, 2),
    "len": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "contains": (2, 2),
    "starts_with": (2, 2),
    "days": (1, 1),
    "hours": (1, 1),
}
_SIGNATURES = {
    "min": "min(a, b, ...)",
    "max": "max(a, b, ...)",
    "abs": "abs(x)",
    "round": "round(x) or round(x, digits)",
    "len": "len(text) or len(list)",
    "lower": "lower(text)",
    "upper": "upper(text)",
    "contains": "contains(text, part) or contains(list, value)",
    "starts_with": "starts_with(text, prefix)",
    "days": "days(duration)",
    "hours": "hours(duration)",
}
_RESULTS = {
    "len": NUMBER,
    "lower": TEXT,
    "upper": TEXT,
    "contains": BOOL,
    "starts_with": BOOL,
    "days": NUMBER,
    "hours": NUMBER,
}


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {_count(low)}"
    if low == high:
        return _count(low)
    return f"{low} or {high} arguments"


def _count(value: int) -> str:
    return f"{value} argument" + ("" if value == 1 else "s")


def _a(word: str) -> str:
    if word in ("money", "text"):
        return word
    return ("an " if word[0] in "aeiou" else "a ") + word


def _arith_message(op: str, left: Type, right: Type) -> str:
    verb = _VERBS[op]
    if op == "-":
        return f"cannot subtract {show(right)} from {show(left)}"
    if op in ("*", "/"):
        return f"cannot {verb} {show(left)} by {show(right)}"
    return f"cannot {verb} {show(left)} and {show(right)}"


def _arith_hint(expr: n.Arith, left: Type, right: Type) -> str | None:
    names = {left.name, right.name}
    if names == {"money", "number"} and expr.op in ("+", "-"):
        return "money only meets money: write the amount with its currency, like `5 USD`"
    if "percent" in names and names & {"money", "number"}:
        return "take a percent of an amount with `of`: `15% of case.arr`"
    if left.name == "money" and right.name == "money":
        return "multiply money by a number, or take a percent of it with `of`"
    if names == {"duration", "number"}:
        return "write a duration with its unit, like `4h` or `2d`"
    if left.name == "time" and right.name == "time":
        return "add a duration to a time: `case.renewal + 30d`; subtracting two times gives one"
    if "text" in names or "enum" in names:
        return "text takes no arithmetic"
    return None


def _compare_hint(left: Type, right: Type) -> str | None:
    names = {left.name, right.name}
    if names == {"money", "number"}:
        return "write the amount with its currency, like `100 USD`"
    if names == {"duration", "number"}:
        return "write the duration with its unit, like `4h`, or use days(...) / hours(...)"
    if left.name == "enum" and right.name == "enum":
        return "these enums share no value"
    if "enum" in names:
        return "compare an enum with one of its values, written as a string"
    return None


def _condition_hint(type_: Type) -> str | None:
    if type_.name == "number":
        return "compare it to get true or false, like `case.csat <= 2`"
    if type_.name in ("text", "enum"):
        return 'compare it with a value, like `case.tier == "gold"`'
    if type_.name == "none":
        return "none counts as false: write `false` if that is meant"
    return None


# ---- the checks -------------------------------------------------------------------------


def check_complexity(ctx: CheckContext) -> list[Diagnostic]:
    """RF003: an expression nested deeper than 32 levels or larger than 1,000 nodes."""
    found: list[Diagnostic] = []
    for site in ctx.sites:
        if id(site.expr) not in ctx.too_complex:
            continue
        depth, count = measure(site.expr)
        if count > MAX_NODES:
            message = f"this expression has {count:,} parts; the limit is {MAX_NODES:,}"
        else:
            message = f"this expression is nested {depth} levels deep; the limit is {MAX_DEPTH}"
        found.append(
            Diagnostic(
                "RF003",
                site.expr.span,
                message,
                label="split it up, e.g. into constants or several guards",
            )
        )
    return found


_SITE_WANTS = {
    "limit": ("money", "a limit's amount", "write an amount with its currency, like `5000 USD`"),
    "approve": ("money", "an approval threshold", "write an amount like `2000 USD`"),
    "offer": ("money", "an offer's amount", "write an amount like `500 USD` or `10% of case.arr`"),
    "trigger_at": (
        "time",
        "the time of an `at` trigger",
        "compute a time, like `case.renewal - 30d`",
    ),
}


def check_types(ctx: CheckContext) -> list[Diagnostic]:
    """RF301/RF302/RF104 in every expression, by the type its position needs."""
    found: list[Diagnostic] = []
    for site in ctx.sites:
        if id(site.expr) in ctx.too_complex:
            continue
        typer = Typer(ctx, site.scope, found)
        _check_site(typer, site)
    return found


def _check_site(typer: Typer, site: Site) -> None:
    expr = site.expr
    if site.role in _SITE_WANTS:
        want, what, hint = _SITE_WANTS[site.role]
        typer.expect(expr, want, what, hint)
    elif site.role == "guard" or site.role == "trigger_when":
        what = "a trigger's condition" if site.role == "trigger_when" else "a guard"
        typer.condition(expr, expr.span, what)
    elif site.role == "arg" and site.do is not None and isinstance(site.owner, n.Arg):
        info = typer.ctx.actions.get(site.do.action.text)
        param = info.params.get(site.owner.name.text) if info else None
        if param is None:
            typer.infer(expr)
        else:
            typer.assign(
                expr, param, f"parameter '{site.owner.name.text}' of action '{site.do.action.text}'"
            )
    else:  # const, grants (a count checked by lowering)
        typer.infer(expr)


def check_action_calls(ctx: CheckContext) -> list[Diagnostic]:
    """RF301: a `do` of a declared action that leaves out a required parameter."""
    found: list[Diagnostic] = []
    for step in ctx.workflow.steps:
        for do in step.statements(n.Do):
            info = ctx.actions.get(do.action.text)
            if info is None:
                continue
            given = {arg.name.text for arg in do.args}
            missing = [p for p, t in info.params.items() if not t.optional and p not in given]
            if missing:
                names = ", ".join(f"'{p}'" for p in missing)
                example = ", ".join(f"{p}: ..." for p in missing)
                found.append(
                    Diagnostic(
                        "RF301",
                        do.span,
                        f"action '{do.action.text}' needs the parameter"
                        f"{'s' if len(missing) > 1 else ''} {names}",
                        label=f"pass {example}",
                    )
                )
    return found
