"""The typed AST of rflow: frozen attrs classes, one per grammar rule, each with a span.

Input: built by `retainflow.lower` from Lark parse trees. Output: plain immutable data
that checks, the compiler and the formatter read. Equality ignores spans, so tests can
compare trees parsed from differently laid-out text.

Literals hold real values: `Decimal` numbers, `values.Money`, `values.Percent`,
`values.Duration`, `datetime.date`, and times of day as minutes after midnight.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypeAlias, TypeVar

import attrs

from retainflow.source import NO_SPAN, Span
from retainflow.values import Duration, Money, Percent

_S = TypeVar("_S")
_D = TypeVar("_D")


def _span() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Name:
    """A name as written at one place: a reference or a definition."""

    text: str
    span: Span = _span()


# ---- expressions ------------------------------------------------------------------


@attrs.frozen
class Number:
    value: Decimal
    span: Span = _span()


@attrs.frozen
class String:
    value: str
    span: Span = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


@attrs.frozen
class NoneLit:
    span: Span = _span()


@attrs.frozen
class MoneyLit:
    value: Money
    span: Span = _span()


@attrs.frozen
class PercentLit:
    value: Percent
    span: Span = _span()


@attrs.frozen
class DurationLit:
    value: Duration
    span: Span = _span()


@attrs.frozen
class ListExpr:
    items: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class CaseRef:
    """`case.FIELD`"""

    field: Name
    span: Span = _span()


@attrs.frozen
class EventRef:
    """`event.FIELD`"""

    field: Name
    span: Span = _span()


@attrs.frozen
class OfferRef:
    """`offer.status` / `offer.amount`"""

    field: Name
    span: Span = _span()


@attrs.frozen
class TriggerRef:
    span: Span = _span()


@attrs.frozen
class ElapsedRef:
    span: Span = _span()


@attrs.frozen
class NowRef:
    span: Span = _span()


@attrs.frozen
class ConstRef:
    name: Name
    span: Span = _span()


@attrs.frozen
class Call:
    function: Name
    args: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class Negate:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Arith:
    """`+ - * /`"""

    op: str
    left: Expr
    right: Expr
    op_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class Of:
    """`PERCENT of BASE`"""

    percent: Expr
    base: Expr
    op_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class Compare:
    """`== != < <= > >= in` and `not in` (op "not in")."""

    op: str
    left: Expr
    right: Expr
    op_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class IsNone:
    operand: Expr
    negated: bool
    span: Span = _span()


@attrs.frozen
class BoolOp:
    """`and` / `or`"""

    op: str
    left: Expr
    right: Expr
    op_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class IfExpr:
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


Literal: TypeAlias = Number | String | Bool | NoneLit | MoneyLit | PercentLit | DurationLit
Expr: TypeAlias = (
    Literal
    | ListExpr
    | CaseRef
    | EventRef
    | OfferRef
    | TriggerRef
    | ElapsedRef
    | NowRef
    | ConstRef
    | Call
    | Negate
    | Not
    | Arith
    | Of
    | Compare
    | IsNone
    | BoolOp
    | IfExpr
)
# A DUR in a declaration or statement: a duration literal or a constant's name.
DurationRef: TypeAlias = DurationLit | ConstRef

# ---- calendars --------------------------------------------------------------------


@attrs.frozen
class TimeOfDay:
    minutes: int  # after local midnight; 24:00 is 1440
    span: Span = _span()


@attrs.frozen
class DateLit:
    value: dt.date
    span: Span = _span()


@attrs.frozen
class DaySpec:
    """`mon` or `mon-fri`: `last` is None for a single day."""

    first: Name
    last: Name | None
    span: Span = _span()


@attrs.frozen
class Interval:
    open: TimeOfDay
    close: TimeOfDay
    span: Span = _span()


@attrs.frozen
class CalTimezone:
    zone: String
    span: Span = _span()


@attrs.frozen
class CalHours:
    days: tuple[DaySpec, ...]
    intervals: tuple[Interval, ...]
    span: Span = _span()


@attrs.frozen
class CalHolidaysCountry:
    country: String
    span: Span = _span()


@attrs.frozen
class CalHolidaysDates:
    dates: tuple[DateLit, ...]
    span: Span = _span()


@attrs.frozen
class CalOpen:
    dates: tuple[DateLit, ...]
    span: Span = _span()


CalendarItem: TypeAlias = CalTimezone | CalHours | CalHolidaysCountry | CalHolidaysDates | CalOpen

# ---- declarations -----------------------------------------------------------------


@attrs.frozen
class Header:
    name: Name
    version: int
    version_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class Title:
    text: String
    span: Span = _span()


@attrs.frozen
class Calendar:
    name: Name
    items: tuple[CalendarItem, ...]
    span: Span = _span()


@attrs.frozen
class TypeRef:
    """`text`, `money(USD)`, `enum(a, b)`, `list(text)`, with `?` for optional."""

    name: Name
    args: tuple[TypeRef, ...]
    optional: bool
    span: Span = _span()


@attrs.frozen
class Field:
    name: Name
    type: TypeRef
    span: Span = _span()


@attrs.frozen
class CaseSchema:
    fields: tuple[Field, ...]
    span: Span = _span()


@attrs.frozen
class EventDecl:
    name: Name
    fields: tuple[Field, ...]
    span: Span = _span()


@attrs.frozen
class ActionDecl:
    name: Name
    params: tuple[Field, ...]
    span: Span = _span()


@attrs.frozen
class Const:
    name: Name
    value: Expr
    span: Span = _span()


@attrs.frozen
class Trigger:
    """`trigger NAME on EVENT | when EXPR | at EXPR [when EXPR] [cooldown DUR]`.

    `mode` is "on", "when" or "at". For "when", the data condition is `condition`.
    """

    name: Name
    mode: str
    event: Name | None
    at: Expr | None
    condition: Expr | None
    cooldown: DurationRef | None
    span: Span = _span()


@attrs.frozen
class Limit:
    """`limit KIND per case|client AMOUNT [over DUR]`; KIND `grants` counts offers."""

    kind: Name
    scope: Name
    amount: Expr
    over: DurationRef | None
    span: Span = _span()

    @property
    def counts_grants(self) -> bool:
        return self.kind.text == "grants"


@attrs.frozen
class Approve:
    kind: Name
    amount: Expr
    role: String
    span: Span = _span()


@attrs.frozen
class Sla:
    name: Name
    duration: DurationRef
    calendar: Name | None
    start_step: Name | None
    until: Name
    warn: DurationRef | None
    pause: tuple[Name, ...]
    breach: Name | None
    span: Span = _span()

    @property
    def until_any_outcome(self) -> bool:
        return self.until.text == "outcome"


@attrs.frozen
class Measure:
    name: Name
    event: Name
    field: Name
    kind: Name | None  # csat, nps, number (default)
    span: Span = _span()


@attrs.frozen
class On:
    """`on EVENT [when EXPR] -> TARGET`, in a step or global; EVENT `timeout` in steps."""

    event: Name
    guard: Expr | None
    target: Name
    span: Span = _span()

    @property
    def is_timeout(self) -> bool:
        return self.event.text == "timeout"


@attrs.frozen
class Start:
    step: Name
    span: Span = _span()


@attrs.frozen
class Outcome:
    name: Name
    kind: Name | None  # retained, churned, other (default)
    span: Span = _span()

    @property
    def kind_text(self) -> str:
        return self.kind.text if self.kind else "other"


# ---- step statements --------------------------------------------------------------


@attrs.frozen
class Wait:
    duration: DurationRef
    calendar: Name | None
    span: Span = _span()


@attrs.frozen
class Arg:
    name: Name
    value: Expr
    span: Span = _span()


@attrs.frozen
class Do:
    action: Name
    args: tuple[Arg, ...]
    span: Span = _span()


@attrs.frozen
class Offer:
    kind: Name
    amount: Expr
    label: String | None
    span: Span = _span()


@attrs.frozen
class Every:
    duration: DurationRef
    calendar: Name | None
    count: int
    count_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class Due:
    duration: DurationRef
    calendar: Name | None
    span: Span = _span()


@attrs.frozen
class When:
    guard: Expr
    target: Name
    span: Span = _span()


@attrs.frozen
class Goto:
    target: Name
    span: Span = _span()


Statement: TypeAlias = Wait | Do | Offer | Every | Due | When | Goto | On


@attrs.frozen
class Step:
    name: Name
    title: String | None
    body: tuple[Statement, ...]
    span: Span = _span()

    def statements(self, kind: type[_S]) -> list[_S]:
        return [stmt for stmt in self.body if isinstance(stmt, kind)]

    @property
    def wait(self) -> Wait | None:
        return next((s for s in self.body if isinstance(s, Wait)), None)

    @property
    def due(self) -> Due | None:
        return next((s for s in self.body if isinstance(s, Due)), None)

    @property
    def every(self) -> Every | None:
        return next((s for s in self.body if isinstance(s, Every)), None)

    @property
    def handlers(self) -> list[On]:
        return [s for s in self.body if isinstance(s, On)]

    @property
    def immediates(self) -> list[When | Goto]:
        return [s for s in self.body if isinstance(s, When | Goto)]

    @property
    def work(self) -> list[Do | Offer]:
        """The step's actions and offers in source order."""
        return [s for s in self.body if isinstance(s, Do | Offer)]

    @property
    def has_offer(self) -> bool:
        return any(isinstance(s, Offer) for s in self.body)


Declaration: TypeAlias = (
    Title
    | Calendar
    | CaseSchema
    | EventDecl
    | ActionDecl
    | Const
    | Trigger
    | Limit
    | Approve
    | Sla
    | Measure
    | On
    | Start
    | Step
    | Outcome
)


@attrs.frozen
class Comment:
    """A `#` comment: kept for the formatter and for suppressions, not part of meaning."""

    text: str
    span: Span
    own_line: bool


@attrs.frozen
class Workflow:
    """One `.rflow` file: its header and declarations in source order."""

    header: Header
    declarations: tuple[Declaration, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span = _span()

    def of(self, kind: type[_D]) -> list[_D]:
        return [decl for decl in self.declarations if isinstance(decl, kind)]

    @property
    def name(self) -> str:
        return self.header.name.text

    @property
    def version(self) -> int:
        return self.header.version

    @property
    def steps(self) -> list[Step]:
        return self.of(Step)

    @property
    def outcomes(self) -> list[Outcome]:
        return self.of(Outcome)

    @property
    def case_schema(self) -> CaseSchema | None:
        schemas = self.of(CaseSchema)
        return schemas[0] if schemas else None

    @property
    def global_handlers(self) -> list[On]:
        return self.of(On)

    @property
    def start(self) -> Start | None:
        starts = self.of(Start)
        return starts[0] if starts else None
