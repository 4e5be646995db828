"""The static types of rflow and the conversion of input data to typed values.

Input: `nodes.TypeRef` from schemas, and raw case/event data (YAML, JSON or Python
values). Output: `Type` values the type checker reasons with, and runtime values
(`Decimal`, `Money`, `Percent`, `timedelta`, aware `datetime`, `str`, `bool`, lists,
`None`) that compiled expressions compute with.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from retainflow import nodes as n
from retainflow.values import Duration, Money, Percent, is_currency, parse_time, to_decimal


@attrs.frozen
class Type:
    """A type. `name` is one of: bool number text money percent duration time enum list,
    plus `any` (an undeclared event's payload) and `none` (the `none` literal)."""

    name: str
    currency: str | None = None  # money(CUR); None: any currency (unknown until run time)
    members: tuple[str, ...] = ()  # enum members
    element: Type | None = None  # list element
    optional: bool = False

    def required(self) -> Type:
        return attrs.evolve(self, optional=False)

    def as_optional(self, optional: bool = True) -> Type:
        return attrs.evolve(self, optional=optional)

    def __str__(self) -> str:
        if self.name == "money" and self.currency:
            text = f"money({self.currency})"
        elif self.name == "enum":
            text = f"enum({', '.join(self.members)})"
        elif self.name == "list":
            text = f"list({self.element})"
        else:
            text = self.name
        return text + ("?" if self.optional else "")


BOOL = Type("bool")
NUMBER = Type("number")
TEXT = Type("text")
MONEY = Type("money")
PERCENT = Type("percent")
DURATION = Type("duration")
TIME = Type("time")
ANY = Type("any")
NONE = Type("none", optional=True)

SIMPLE_TYPES = {
    "bool": BOOL,
    "number": NUMBER,
    "text": TEXT,
    "percent": PERCENT,
    "duration": DURATION,
    "time": TIME,
}


@attrs.frozen
class TypeProblem:
    code: str  # RF001-style syntax of a type is reported as RF301; a bad currency as RF002
    message: str
    node: n.TypeRef | None


def resolve_type(ref: n.TypeRef) -> tuple[Type, list[TypeProblem]]:
    """The `Type` a schema's type expression denotes, with any problems in it."""
    problems: list[TypeProblem] = []
    name = ref.name.text
    resolved: Type
    if name in SIMPLE_TYPES:
        resolved = SIMPLE_TYPES[name]
        if ref.args:
            problems.append(TypeProblem("RF301", f"type '{name}' takes no arguments", ref))
    elif name == "money":
        currency = None
        if len(ref.args) > 1:
            problems.append(TypeProblem("RF301", "money takes one currency: money(USD)", ref))
        if ref.args:
            currency = ref.args[0].name.text
            if not is_currency(currency):
                problems.append(
                    TypeProblem("RF002", f"unknown currency code '{currency}'", ref.args[0])
                )
                currency = None
        resolved = Type("money", currency=currency)
    elif name == "enum":
        members = tuple(arg.name.text for arg in ref.args)
        if not members:
            problems.append(TypeProblem("RF301", "an enum needs members: enum(a, b)", ref))
        resolved = Type("enum", members=members)
    elif name == "list":
        if len(ref.args) != 1:
            problems.append(TypeProblem("RF301", "a list has one element type: list(text)", ref))
            resolved = Type("list", element=ANY)
        else:
            element, inner = resolve_type(ref.args[0])
            problems.extend(inner)
            resolved = Type("list", element=element)
    else:
        problems.append(
            TypeProblem(
                "RF106",
                f"unknown type '{name}': types are bool, number, text, money, percent, "
                "duration, time, enum(...), list(...)",
                ref,
            )
        )
        resolved = ANY
    return resolved.as_optional(ref.optional), problems


# ---- input data -> runtime values ------------------------------------------------------


class ConversionError(ValueError):
    """A value that does not fit its declared type; the message says what was expected."""


def convert(value: Any, type_: Type) -> Any:
    """Convert one input value (YAML/JSON/Python) to the runtime value of `type_`."""
    if value is None:
        if type_.optional or type_.name in ("any", "none"):
            return None
        raise ConversionError("is required but null")
    name = type_.name
    if name == "any":
        return _untyped(value)
    if name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        raise ConversionError(f"expected true or false, got {_show(value)}")
    if name == "number":
        return _number(value)
    if name == "text":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float | Decimal):
            return str(value)
        raise ConversionError(f"expected text, got {_show(value)}")
    if name == "money":
        money = _money(value)
        if type_.currency and money.currency != type_.currency:
            raise ConversionError(f"expected money in {type_.currency}, got {money}")
        return money
    if name == "percent":
        if isinstance(value, Percent):
            return value
        try:
            return Percent.parse(str(value))
        except ValueError as error:
            raise ConversionError(str(error)) from None
    if name == "duration":
        if isinstance(value, dt.timedelta):
            return value
        if isinstance(value, Duration):
            return value.timedelta
        try:
            return Duration.parse(str(value)).timedelta
        except ValueError as error:
            raise ConversionError(str(error)) from None
    if name == "time":
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ConversionError("time has no UTC offset")
            return value
        try:
            return parse_time(str(value))
        except ValueError as error:
            raise ConversionError(str(error)) from None
    if name == "enum":
        text = str(value) if not isinstance(value, bool) else ("true" if value else "false")
        if text not in type_.members:
            raise ConversionError(f"'{text}' is not one of {', '.join(type_.members)}")
        return text
    if name == "list":
        if not isinstance(value, list | tuple):
            raise ConversionError(f"expected a list, got {_show(value)}")
        element = type_.element or ANY
        return tuple(convert(item, element) for item in value)
    raise ConversionError(f"cannot convert to {type_}")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ConversionError(f"expected a number, got {_show(value)}")
    if isinstance(value, Decimal):
        return to_decimal(value)
    if isinstance(value, int):
        return to_decimal(value)
    if isinstance(value, float):
        return to_decimal(repr(value))
    if isinstance(value, str):
        try:
            result = to_decimal(value.strip())
        except InvalidOperation:
            raise ConversionError(f"expected a number, got {_show(value)}") from None
        if not result.is_finite():
            raise ConversionError(f"expected a number, got {_show(value)}")
        return result
    raise ConversionError(f"expected a number, got {_show(value)}")


def _money(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, str):
        try:
            return Money.parse(value)
        except ValueError as error:
            raise ConversionError(str(error)) from None
    raise ConversionError(f"expected money as 'AMOUNT CUR' (like '500 USD'), got {_show(value)}")


def _untyped(value: Any) -> Any:
    """An undeclared event's payload keeps its YAML/JSON type (numbers become decimals)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, list | tuple):
        return tuple(_untyped(item) for item in value)
    if isinstance(value, dict):
        return {str(key): _untyped(item) for key, item in value.items()}
    return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
