"""Runtime values of rflow: exact money, percents, durations, and their text forms.

Input: literal text from workflows, case files and the Python API ("120000 USD", "15%",
"4h"). Output: immutable values with exact decimal arithmetic, and the canonical text
forms used in run results (tools.md: money with the currency's minor-unit digits,
durations in their largest exact unit, shortest exact numbers).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from decimal import Decimal
from typing import Any

import attrs

# Numbers are decimals with 28 significant digits, rounded half-even (language.md).
DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)

# ISO 4217 active codes with their minor units; codes not listed here are unknown (RF002).
# XXX ("no currency") stands in for an unknown code after RF002 is reported.
_MINOR_UNITS_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_MINOR_UNITS_3 = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_UNITS_4 = "CLF UYW"
_MINOR_UNITS_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR "
    "FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW "
    "KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN "
    "NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD "
    "SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU "
    "UZS VED VES WST XCD XCG XXX YER ZAR ZMW ZWG ZWL"
)
MINOR_UNITS: dict[str, int] = {
    code: digits
    for digits, codes in (
        (0, _MINOR_UNITS_0),
        (2, _MINOR_UNITS_2),
        (3, _MINOR_UNITS_3),
        (4, _MINOR_UNITS_4),
    )
    for code in codes.split()
}


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 code."""
    return code in MINOR_UNITS


def to_decimal(value: int | str | Decimal) -> Decimal:
    """An exact decimal in the language's context (28 significant digits, half-even)."""
    return DECIMAL_CONTEXT.create_decimal(value)


@attrs.frozen(order=False)
class Money:
    """An amount of one currency, always rounded half-even to the currency's minor unit."""

    amount: Decimal
    currency: str

    def __attrs_post_init__(self) -> None:
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency code {self.currency!r} (expected ISO 4217)")
        amount = self.amount if isinstance(self.amount, Decimal) else Decimal(self.amount)
        object.__setattr__(self, "amount", round_money(amount, self.currency))

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """The fast constructor for hot paths: `currency` must already be known valid
        (it comes from another Money); rounds once, half-even, and drops zero's sign."""
        value = amount.quantize(MINOR_EXPONENTS[currency], decimal.ROUND_HALF_EVEN, DECIMAL_CONTEXT)
        money: Money = object.__new__(cls)
        object.__setattr__(money, "amount", value if value else value.copy_abs())
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def parse(cls, text: str) -> Money:
        """Read "120000 USD" or "1200.50 EUR"; raises ValueError with a readable reason."""
        match = _MONEY_RE.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"expected money as 'AMOUNT CUR' (like '500 USD'), got {text!r}")
        currency = match["currency"]
        if currency not in MINOR_UNITS:  # as the constructor checks (every case has money)
            raise ValueError(f"unknown currency code {currency!r} (expected ISO 4217)")
        return cls.rounded(Decimal(match["amount"]), currency)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"

    def same_currency(self, other: Money) -> bool:
        return self.currency == other.currency


_MONEY_RE = re.compile(r"(?P<amount>-?[0-9]+(\.[0-9]+)?)[ \t]+(?P<currency>[A-Z]{3})")


MINOR_EXPONENTS: dict[str, Decimal] = {
    code: Decimal(1).scaleb(-digits) for code, digits in MINOR_UNITS.items()
}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-even to the currency's minor unit (zero keeps no sign)."""
    value = amount.quantize(MINOR_EXPONENTS[currency], decimal.ROUND_HALF_EVEN, DECIMAL_CONTEXT)
    return value if value else value.copy_abs()


@attrs.frozen
class Percent:
    """A percentage: `Percent(15)` is 15%."""

    value: Decimal = attrs.field(converter=to_decimal)

    @classmethod
    def parse(cls, text: str) -> Percent:
        match = re.fullmatch(r"(-?[0-9]+(\.[0-9]+)?)%", text.strip())
        if match is None:
            raise ValueError(f"expected a percent like '15%', got {text!r}")
        return cls(Decimal(match[1]))

    def __str__(self) -> str:
        return f"{format_number(self.value)}%"


DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@attrs.frozen
class Duration:
    """A duration literal as written: an integer and one unit (`4h`, `2d`).

    The unit matters with a business calendar (`2d in support` counts open days), so it
    is kept; `timedelta` is the exact elapsed value used without a calendar.
    """

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = re.fullmatch(r"([0-9]+)([smhdw])", text.strip())
        if match is None:
            raise ValueError(f"expected a duration like '4h' or '2d', got {text!r}")
        return cls(int(match[1]), match[2])

    @property
    def timedelta(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.amount * DURATION_UNITS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


# The scales of the `csat` and `nps` measure kinds (language.md, "Measures"): an answer
# outside is left out, by the engine when it records one and by reports when they read one.
MEASURE_SCALES: dict[str, tuple[Decimal, Decimal]] = {
    "csat": (Decimal(1), Decimal(5)),
    "nps": (Decimal(0), Decimal(10)),
}


def format_timedelta(value: dt.timedelta) -> str:
    """The largest exact unit of d, h, m, s: 10d, 36h, 90m, 45s (sub-seconds as decimals)."""
    micros = value // dt.timedelta(microseconds=1)
    if micros % 1_000_000:
        return f"{format_number(Decimal(micros) / Decimal(1_000_000))}s"
    seconds = micros // 1_000_000
    for unit in ("d", "h", "m"):
        size = DURATION_UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_timedelta(text: str) -> dt.timedelta:
    return Duration.parse(text).timedelta


def format_number(value: Decimal) -> str:
    """The shortest exact decimal text: 5, 4.5, 0.25 (never exponent form, never floats)."""
    if value == value.to_integral_value():
        return f"{value.to_integral_value():f}"
    return f"{value.normalize():f}"


def number_to_json(value: Decimal) -> int | float | Decimal:
    """Numbers in JSON: integers as int, others as the shortest exact form."""
    if value == value.to_integral_value():
        return int(value)
    return float(format_number(value))


def format_time(value: dt.datetime) -> str:
    """UTC with Z; microseconds only if present (tools.md)."""
    utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
    # isoformat: four-digit years (strftime's %Y gives "999" here), the microseconds only
    # when there are any, and half the cost of strftime
    return utc.isoformat()[:-6] + "Z"


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 instant that must carry an offset (a naive time is a ValueError)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected a time like 2026-03-02T09:15:00+08:00, got {text!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {text!r} has no UTC offset (add one, like +08:00 or Z)")
    return value


def to_json_value(value: Any) -> Any:
    """Render a runtime value the way run results show it (tools.md)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return number_to_json(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Money | Percent | Duration):
        return str(value)
    if isinstance(value, dt.timedelta):
        return format_timedelta(value)
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    return str(value)
