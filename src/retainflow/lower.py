"""Lower a Lark parse tree into the typed AST: tree in, `nodes.Workflow` and diagnostics out.

Literal text becomes real values here (exact decimals, money, percents, durations, dates,
times of day); problems found on the way are RF001 (reserved words, fractional durations)
and RF002 (bad literals) diagnostics, collected rather than raised.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import lark
from lark import Token, Tree, v_args

from retainflow import nodes as n
from retainflow.diagnostics import Diagnostic
from retainflow.parser import RawComment
from retainflow.source import Span
from retainflow.values import Duration, Money, Percent, is_currency

RESERVED = frozenset(
    (
        "timeout outcome case event offer trigger elapsed now true false none "
        "if then else and or not in is of"
    ).split()
)

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}


def _tok_span(token: Token) -> Span:
    start = token.start_pos or 0
    end = token.end_pos if token.end_pos is not None else start + len(token)
    return Span(start, end)


def _meta_span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, 0)
    return Span(meta.start_pos, meta.end_pos)


def _split(children: list[Any]) -> tuple[list[Token], list[Any]]:
    tokens = [c for c in children if isinstance(c, Token)]
    others = [c for c in children if not isinstance(c, Token)]
    return tokens, others


@attrs.define
class _Parts:
    """The optional pieces of a rule, looked up by the kind of node they lowered to."""

    items: list[Any]

    def take(self, kind: type[Any] | tuple[type[Any], ...]) -> Any:
        for index, item in enumerate(self.items):
            if isinstance(item, kind):
                return self.items.pop(index)
        return None


@attrs.frozen
class _InCalendar:
    name: n.Name


@attrs.frozen
class _Count:
    """The N of `up to N` as written (any signed number), before `every` checks it."""

    value: Decimal
    span: Span
    integer_literal: bool = True  # digits only, as written (`2.0` is not)


@attrs.frozen
class _Tagged:
    """An optional clause (`when`, `cooldown`, `from`, `warn`...) before it is placed."""

    tag: str
    value: Any


@v_args(meta=True)
class _Lower(lark.Transformer[Token, Any]):
    def __init__(self) -> None:
        super().__init__()
        self.diagnostics: list[Diagnostic] = []

    # ---- helpers ------------------------------------------------------------------

    def _name(self, token: Token) -> n.Name:
        return n.Name(str(token), span=_tok_span(token))

    def _defined(self, token: Token, what: str) -> n.Name:
        name = self._name(token)
        if name.text in RESERVED:
            self.diagnostics.append(
                Diagnostic(
                    "RF001",
                    name.span,
                    f"'{name.text}' is a reserved word and cannot name {what}",
                    label="choose another name",
                )
            )
        return name

    def _error(self, code: str, span: Span, message: str, label: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, span, message, label=label))

    # ---- file ---------------------------------------------------------------------

    def start(self, meta: Any, children: list[Any]) -> n.Workflow:
        header, *decls = children
        return n.Workflow(header, tuple(decls), span=_meta_span(meta))

    def header(self, meta: Any, children: list[Token]) -> n.Header:
        name, version = children
        return n.Header(
            self._defined(name, "a workflow"),
            int(version),
            version_span=_tok_span(version),
            span=_meta_span(meta),
        )

    def title(self, meta: Any, children: list[Any]) -> n.Title:
        return n.Title(self._string(children[0]), span=_meta_span(meta))

    # ---- literals -----------------------------------------------------------------

    def string(self, meta: Any, children: list[Token]) -> n.String:
        return self._string(children[0])

    def _string(self, token: Token) -> n.String:
        raw = str(token)[1:-1]
        out: list[str] = []
        index = 0
        while index < len(raw):
            char = raw[index]
            if char == "\\":
                escaped = raw[index + 1]
                if escaped not in _ESCAPES:
                    start = (token.start_pos or 0) + 1 + index
                    self._error(
                        "RF002",
                        Span(start, start + 2),
                        f"unknown escape '\\{escaped}' in a string",
                        label='strings know \\", \\\\ and \\n',
                    )
                out.append(_ESCAPES.get(escaped, escaped))
                index += 2
            else:
                out.append(char)
                index += 1
        return n.String("".join(out), span=_tok_span(token))

    def number(self, meta: Any, children: list[Token]) -> n.Number:
        return n.Number(Decimal(str(children[0])), span=_tok_span(children[0]))

    def money(self, meta: Any, children: list[Token]) -> n.MoneyLit | n.Number:
        token = children[0]
        amount_text, currency = re.split(r"[ \t]+", str(token))
        span = _tok_span(token)
        if len(amount_text.replace(".", "")) > 24:
            self._error(
                "RF002",
                span,
                f"the amount {amount_text} has too many digits",
                label="money amounts have at most 24 digits",
            )
            return n.MoneyLit(Money(Decimal(0), "XXX"), span=span)
        if not is_currency(currency):
            cur_start = span.end - 3
            self._error(
                "RF002",
                Span(cur_start, span.end),
                f"unknown currency code '{currency}'",
                label="use an ISO 4217 code such as USD, EUR, GBP or PHP",
            )
            return n.MoneyLit(Money(Decimal(amount_text), "XXX"), span=span)
        return n.MoneyLit(Money(Decimal(amount_text), currency), span=span)

    def percent(self, meta: Any, children: list[Token]) -> n.PercentLit:
        token = children[0]
        return n.PercentLit(Percent(Decimal(str(token)[:-1])), span=_tok_span(token))

    def duration(self, meta: Any, children: list[Token]) -> n.DurationLit:
        token = children[0]
        value = Duration(int(str(token)[:-1]), str(token)[-1])
        return n.DurationLit(value, span=_tok_span(token))

    def _dur(self, ref: Any) -> Any:
        """A DUR (wait, due, every, cooldown, over, an SLA and its warn): a zero literal is
        RF405 here. A duration inside an expression is a value, never RF405; constants are
        checked at their use (`checks.timing`)."""
        if isinstance(ref, n.DurationLit) and ref.value.amount == 0:
            self._error(
                "RF405",
                ref.span,
                f"the duration {ref.value} is zero",
                label="a duration must be positive",
            )
        return ref

    def bad_duration(self, meta: Any, children: list[Token]) -> n.DurationLit:
        token = children[0]
        self._error(
            "RF001",
            _tok_span(token),
            f"'{token}' is not a duration: durations take a whole number",
            label=f"write it in a smaller unit, e.g. {_smaller_unit(str(token))}",
        )
        return n.DurationLit(Duration(1, str(token)[-1]), span=_tok_span(token))

    def list_expr(self, meta: Any, children: list[Any]) -> n.ListExpr:
        return n.ListExpr(tuple(children), span=_meta_span(meta))

    def true(self, meta: Any, children: list[Any]) -> n.Bool:
        return n.Bool(True, span=_meta_span(meta))

    def false(self, meta: Any, children: list[Any]) -> n.Bool:
        return n.Bool(False, span=_meta_span(meta))

    def none(self, meta: Any, children: list[Any]) -> n.NoneLit:
        return n.NoneLit(span=_meta_span(meta))

    # ---- references and operators -------------------------------------------------

    def case_ref(self, meta: Any, children: list[Token]) -> n.CaseRef:
        return n.CaseRef(self._name(children[-1]), span=_meta_span(meta))

    def event_ref(self, meta: Any, children: list[Token]) -> n.EventRef:
        return n.EventRef(self._name(children[-1]), span=_meta_span(meta))

    def offer_ref(self, meta: Any, children: list[Token]) -> n.OfferRef:
        return n.OfferRef(self._name(children[-1]), span=_meta_span(meta))

    def trigger_ref(self, meta: Any, children: list[Any]) -> n.TriggerRef:
        return n.TriggerRef(span=_meta_span(meta))

    def elapsed_ref(self, meta: Any, children: list[Any]) -> n.ElapsedRef:
        return n.ElapsedRef(span=_meta_span(meta))

    def now_ref(self, meta: Any, children: list[Any]) -> n.NowRef:
        return n.NowRef(span=_meta_span(meta))

    def const_ref(self, meta: Any, children: list[Token]) -> n.ConstRef:
        return n.ConstRef(self._name(children[0]), span=_meta_span(meta))

    def call(self, meta: Any, children: list[Any]) -> n.Call:
        function, *args = children
        return n.Call(self._name(function), tuple(args), span=_meta_span(meta))

    def negate(self, meta: Any, children: list[Any]) -> n.Negate:
        return n.Negate(children[-1], span=_meta_span(meta))

    def not_op(self, meta: Any, children: list[Any]) -> n.Not:
        return n.Not(children[-1], span=_meta_span(meta))

    def arith(self, meta: Any, children: list[Any]) -> n.Arith:
        left, op, right = children
        return n.Arith(str(op), left, right, op_span=_tok_span(op), span=_meta_span(meta))

    def of_op(self, meta: Any, children: list[Any]) -> n.Of:
        percent, base = children
        between = Span(_node_span(percent).end, _node_span(base).start)
        return n.Of(percent, base, op_span=between, span=_meta_span(meta))

    def compare(self, meta: Any, children: list[Any]) -> n.Compare:
        left, op, right = children
        return n.Compare(str(op), left, right, op_span=_tok_span(op), span=_meta_span(meta))

    def _keyword_compare(self, op: str, meta: Any, children: list[Any]) -> n.Compare:
        left, right = children
        between = Span(_node_span(left).end, _node_span(right).start)
        return n.Compare(op, left, right, op_span=between, span=_meta_span(meta))

    def in_op(self, meta: Any, children: list[Any]) -> n.Compare:
        return self._keyword_compare("in", meta, children)

    def not_in_op(self, meta: Any, children: list[Any]) -> n.Compare:
        return self._keyword_compare("not in", meta, children)

    def is_none(self, meta: Any, children: list[Any]) -> n.IsNone:
        return n.IsNone(children[0], False, span=_meta_span(meta))

    def is_not_none(self, meta: Any, children: list[Any]) -> n.IsNone:
        return n.IsNone(children[0], True, span=_meta_span(meta))

    def _bool_op(self, op: str, meta: Any, children: list[Any]) -> n.BoolOp:
        left, right = children
        between = Span(_node_span(left).end, _node_span(right).start)
        return n.BoolOp(op, left, right, op_span=between, span=_meta_span(meta))

    def or_op(self, meta: Any, children: list[Any]) -> n.BoolOp:
        return self._bool_op("or", meta, children)

    def and_op(self, meta: Any, children: list[Any]) -> n.BoolOp:
        return self._bool_op("and", meta, children)

    def if_expr(self, meta: Any, children: list[Any]) -> n.IfExpr:
        condition, then, otherwise = children
        return n.IfExpr(condition, then, otherwise, span=_meta_span(meta))

    # ---- calendars ----------------------------------------------------------------

    def calendar(self, meta: Any, children: list[Any]) -> n.Calendar:
        name, *items = children
        return n.Calendar(self._defined(name, "a calendar"), tuple(items), span=_meta_span(meta))

    def cal_timezone(self, meta: Any, children: list[Token]) -> n.CalTimezone:
        return n.CalTimezone(self._string(children[0]), span=_meta_span(meta))

    def cal_hours(self, meta: Any, children: list[Any]) -> n.CalHours:
        days = tuple(c for c in children if isinstance(c, n.DaySpec))
        intervals = tuple(c for c in children if isinstance(c, n.Interval))
        return n.CalHours(days, intervals, span=_meta_span(meta))

    def day_spec(self, meta: Any, children: list[Token]) -> n.DaySpec:
        first = self._name(children[0])
        last = self._name(children[1]) if len(children) > 1 else None
        for day in (first, last):
            if day is not None and day.text not in WEEKDAYS:
                self._error(
                    "RF002",
                    day.span,
                    f"'{day.text}' is not a day of the week",
                    label="days are mon, tue, wed, thu, fri, sat, sun",
                )
        return n.DaySpec(first, last, span=_meta_span(meta))

    def interval(self, meta: Any, children: list[Token]) -> n.Interval:
        opening, closing = (self._time_of_day(token) for token in children)
        return n.Interval(opening, closing, span=_meta_span(meta))

    def _time_of_day(self, token: Token) -> n.TimeOfDay:
        hours, minutes = int(str(token)[:2]), int(str(token)[3:])
        span = _tok_span(token)
        if not (minutes < 60 and (hours < 24 or (hours == 24 and minutes == 0))):
            self._error(
                "RF002",
                span,
                f"'{token}' is not a time of day",
                label="times of day are HH:MM from 00:00 to 24:00",
            )
            return n.TimeOfDay(0, span=span)
        return n.TimeOfDay(hours * 60 + minutes, span=span)

    def _date(self, token: Token) -> n.DateLit:
        span = _tok_span(token)
        try:
            return n.DateLit(dt.date.fromisoformat(str(token)), span=span)
        except ValueError:
            self._error(
                "RF002",
                span,
                f"'{token}' is not a date",
                label="dates are YYYY-MM-DD, like 2026-12-25",
            )
            return n.DateLit(dt.date(1970, 1, 1), span=span)

    def cal_holidays_country(self, meta: Any, children: list[Token]) -> n.CalHolidaysCountry:
        return n.CalHolidaysCountry(self._string(children[0]), span=_meta_span(meta))

    def cal_holidays_dates(self, meta: Any, children: list[Token]) -> n.CalHolidaysDates:
        return n.CalHolidaysDates(tuple(self._date(t) for t in children), span=_meta_span(meta))

    def cal_open(self, meta: Any, children: list[Token]) -> n.CalOpen:
        return n.CalOpen(tuple(self._date(t) for t in children), span=_meta_span(meta))

    # ---- schemas ------------------------------------------------------------------

    def type_ref(self, meta: Any, children: list[Any]) -> n.TypeRef:
        name = self._name(children[0])
        args = tuple(c for c in children[1:] if isinstance(c, n.TypeRef))
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in children)
        return n.TypeRef(name, args, optional, span=_meta_span(meta))

    def field(self, meta: Any, children: list[Any]) -> n.Field:
        return n.Field(self._name(children[0]), children[1], span=_meta_span(meta))

    def case_schema(self, meta: Any, children: list[Any]) -> n.CaseSchema:
        return n.CaseSchema(tuple(children), span=_meta_span(meta))

    def event_decl(self, meta: Any, children: list[Any]) -> n.EventDecl:
        name, *fields = children
        return n.EventDecl(self._defined(name, "an event"), tuple(fields), span=_meta_span(meta))

    def action_decl(self, meta: Any, children: list[Any]) -> n.ActionDecl:
        name, *params = children
        return n.ActionDecl(self._defined(name, "an action"), tuple(params), span=_meta_span(meta))

    # ---- declarations -------------------------------------------------------------

    def const(self, meta: Any, children: list[Any]) -> n.Const:
        name, value = children
        return n.Const(self._defined(name, "a constant"), value, span=_meta_span(meta))

    def trigger_when(self, meta: Any, children: list[Any]) -> _Tagged:
        return _Tagged("when", children[0])

    def cooldown(self, meta: Any, children: list[Any]) -> _Tagged:
        return _Tagged("cooldown", self._dur(children[0]))

    def _trigger(self, mode: str, meta: Any, children: list[Any]) -> n.Trigger:
        tokens, others = _split(children)
        name = self._defined(tokens[0], "a trigger")
        tagged = {item.tag: item.value for item in others if isinstance(item, _Tagged)}
        plain = [item for item in others if not isinstance(item, _Tagged)]
        event = self._name(tokens[1]) if mode == "on" else None
        at = plain[0] if mode == "at" else None
        condition = plain[0] if mode == "when" else tagged.get("when")
        return n.Trigger(
            name, mode, event, at, condition, tagged.get("cooldown"), span=_meta_span(meta)
        )

    def trigger_on(self, meta: Any, children: list[Any]) -> n.Trigger:
        return self._trigger("on", meta, children)

    def trigger_data(self, meta: Any, children: list[Any]) -> n.Trigger:
        return self._trigger("when", meta, children)

    def trigger_at(self, meta: Any, children: list[Any]) -> n.Trigger:
        return self._trigger("at", meta, children)

    def scope(self, meta: Any, children: list[Token]) -> n.Name:
        name = self._name(children[0])
        if name.text not in ("case", "client"):
            self.diagnostics.append(
                Diagnostic(
                    "RF001",
                    name.span,
                    f"a limit applies per case or per client, not per '{name.text}'",
                    label="write 'per case' or 'per client'",
                )
            )
        return name

    def over(self, meta: Any, children: list[Any]) -> _Tagged:
        return _Tagged("over", self._dur(children[0]))

    def limit(self, meta: Any, children: list[Any]) -> n.Limit:
        kind_token, scope, amount, *rest = children
        kind = self._name(kind_token)
        if kind.text not in LIMIT_KINDS:
            self._error(
                "RF002",
                kind.span,
                f"'{kind.text}' is not something a limit can cap",
                label="limit compensation, discount, credit, service, extension or grants",
            )
        if kind.text == "grants" and not _is_count(amount):
            self._error(
                "RF002",
                _node_span(amount),
                "a grants limit counts offers: give a whole number of at least 1",
            )
        over = rest[0].value if rest else None
        return n.Limit(kind, scope, amount, over, span=_meta_span(meta))

    def approve(self, meta: Any, children: list[Any]) -> n.Approve:
        kind_token, amount, role = children
        kind = self._offer_kind(kind_token, allow_all=True)
        return n.Approve(kind, amount, self._string(role), span=_meta_span(meta))

    def _offer_kind(self, token: Token, allow_all: bool) -> n.Name:
        kind = self._name(token)
        allowed = OFFER_KINDS + (("compensation",) if allow_all else ())
        if kind.text not in allowed:
            self._error(
                "RF002",
                kind.span,
                f"'{kind.text}' is not a kind of compensation",
                label="kinds are " + ", ".join(allowed),
            )
        return kind

    def in_calendar(self, meta: Any, children: list[Token]) -> _InCalendar:
        return _InCalendar(self._name(children[0]))

    def sla_from(self, meta: Any, children: list[Token]) -> _Tagged:
        return _Tagged("from", self._name(children[0]))

    def sla_warn(self, meta: Any, children: list[Any]) -> _Tagged:
        return _Tagged("warn", self._dur(children[0]))

    def sla_pause(self, meta: Any, children: list[Token]) -> _Tagged:
        return _Tagged("pause", tuple(self._name(t) for t in children))

    def sla_breach(self, meta: Any, children: list[Token]) -> _Tagged:
        return _Tagged("breach", self._name(children[0]))

    def sla(self, meta: Any, children: list[Any]) -> n.Sla:
        tokens, others = _split(children)
        name = self._defined(tokens[0], "an SLA")
        until = self._name(tokens[1])
        parts = _Parts(others)
        duration = self._dur(parts.take((n.DurationLit, n.ConstRef)))
        calendar = parts.take(_InCalendar)
        tagged = {item.tag: item.value for item in parts.items if isinstance(item, _Tagged)}
        return n.Sla(
            name,
            duration,
            calendar.name if calendar else None,
            tagged.get("from"),
            until,
            tagged.get("warn"),
            tagged.get("pause", ()),
            tagged.get("breach"),
            span=_meta_span(meta),
        )

    def measure(self, meta: Any, children: list[Token]) -> n.Measure:
        name = self._defined(children[0], "a measure")
        kind = self._name(children[3]) if len(children) > 3 else None
        if kind is not None and kind.text not in MEASURE_KINDS:
            self._error(
                "RF002",
                kind.span,
                f"'{kind.text}' is not a kind of measure",
                label="measures are csat, nps or number",
            )
        return n.Measure(
            name, self._name(children[1]), self._name(children[2]), kind, span=_meta_span(meta)
        )

    def on(self, meta: Any, children: list[Any]) -> n.On:
        tokens, others = _split(children)
        guard = others[0] if others else None
        return n.On(self._name(tokens[0]), guard, self._name(tokens[1]), span=_meta_span(meta))

    def start_decl(self, meta: Any, children: list[Token]) -> n.Start:
        return n.Start(self._name(children[0]), span=_meta_span(meta))

    def outcome(self, meta: Any, children: list[Token]) -> n.Outcome:
        name = self._defined(children[0], "an outcome")
        kind = self._name(children[1]) if len(children) > 1 else None
        if kind is not None and kind.text not in OUTCOME_KINDS:
            self._error(
                "RF002",
                kind.span,
                f"'{kind.text}' is not a kind of outcome",
                label="outcomes are retained, churned or other",
            )
        return n.Outcome(name, kind, span=_meta_span(meta))

    # ---- steps ----------------------------------------------------------------------

    def step(self, meta: Any, children: list[Any]) -> n.Step:
        name = self._defined(children[0], "a step")
        rest = children[1:]
        title = None
        if rest and isinstance(rest[0], Token):
            title = self._string(rest.pop(0))
        return n.Step(name, title, tuple(rest), span=_meta_span(meta))

    def wait(self, meta: Any, children: list[Any]) -> n.Wait:
        calendar = children[1].name if len(children) > 1 else None
        return n.Wait(self._dur(children[0]), calendar, span=_meta_span(meta))

    def due(self, meta: Any, children: list[Any]) -> n.Due:
        calendar = children[1].name if len(children) > 1 else None
        return n.Due(self._dur(children[0]), calendar, span=_meta_span(meta))

    def every_count(self, meta: Any, children: list[Token]) -> _Count:
        *sign, number = children
        value = Decimal(str(number))
        start = _tok_span(sign[0]).start if sign else _tok_span(number).start
        return _Count(
            -value if sign else value, Span(start, _tok_span(number).end), str(number).isdigit()
        )

    def every(self, meta: Any, children: list[Any]) -> n.Every:
        duration, *rest = children
        count: _Count = rest.pop()
        if not count.integer_literal:  # language.md: "N is an integer literal" (not 2.0)
            self._error(
                "RF002",
                count.span,
                "'up to' counts repetitions: give a whole number of at least 1",
            )
        elif count.value < 1:
            self._error("RF002", count.span, "'up to' needs a count of at least 1")
        calendar = rest[0].name if rest else None
        return n.Every(
            self._dur(duration),
            calendar,
            int(count.value),
            count_span=count.span,
            span=_meta_span(meta),
        )

    def arg(self, meta: Any, children: list[Any]) -> n.Arg:
        return n.Arg(self._name(children[0]), children[1], span=_meta_span(meta))

    def do(self, meta: Any, children: list[Any]) -> n.Do:
        action, *args = children
        return n.Do(self._name(action), tuple(args), span=_meta_span(meta))

    def offer(self, meta: Any, children: list[Any]) -> n.Offer:
        kind_token, amount, *label = children
        kind = self._offer_kind(kind_token, allow_all=False)
        return n.Offer(
            kind, amount, self._string(label[0]) if label else None, span=_meta_span(meta)
        )

    def when(self, meta: Any, children: list[Any]) -> n.When:
        return n.When(children[0], self._name(children[1]), span=_meta_span(meta))

    def goto(self, meta: Any, children: list[Token]) -> n.Goto:
        return n.Goto(self._name(children[0]), span=_meta_span(meta))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFER_KINDS = ("discount", "credit", "service", "extension")
LIMIT_KINDS = ("compensation", *OFFER_KINDS, "grants")
MEASURE_KINDS = ("csat", "nps", "number")
OUTCOME_KINDS = ("retained", "churned", "other")


def _is_count(expr: Any) -> bool:
    return (
        isinstance(expr, n.Number)
        and expr.value == expr.value.to_integral_value()
        and expr.value >= 1
    )


def _smaller_unit(text: str) -> str:
    units = {"m": ("s", 60), "h": ("m", 60), "d": ("h", 24), "w": ("d", 7)}
    unit = text[-1]
    if unit not in units:
        return "30s"
    smaller, factor = units[unit]
    try:
        value = Decimal(text[:-1]) * factor
    except InvalidOperation:
        return "90m"
    if value == value.to_integral_value():
        return f"{int(value)}{smaller}"
    return f"90{smaller}"


def _node_span(node: Any) -> Span:
    span = getattr(node, "span", None)
    return span if isinstance(span, Span) else Span(0, 0)


@attrs.frozen
class Lowered:
    workflow: n.Workflow | None
    diagnostics: tuple[Diagnostic, ...]


def lower(tree: Tree[Token], text: str, comments: tuple[RawComment, ...]) -> Lowered:
    """Build the AST of one parsed file; RF001/RF002/RF405 problems come back as data."""
    transformer = _Lower()
    workflow = transformer.transform(tree)
    workflow = attrs.evolve(workflow, comments=tuple(comment_node(text, c) for c in comments))
    return Lowered(workflow, tuple(transformer.diagnostics))


def comment_node(text: str, raw: RawComment) -> n.Comment:
    line_start = text.rfind("\n", 0, raw.start) + 1
    own_line = text[line_start : raw.start].strip() == ""
    return n.Comment(raw.text, Span(raw.start, raw.end), own_line)
