"""Input data -> typed values: case data, event payloads and `case_updated` fields.

Input: raw values from case files (YAML scalars as `Plain`, JSON values) or the Python
API (str, bool, int, Decimal, Money, datetime...), and the schemas of the engine's
workflows. Output: dicts of runtime values, or a `DataError` whose message is
`field NAME: PROBLEM` (the caller prefixes `case ID: `).

A `Plain` is a YAML plain scalar that remembers its source text: a text or enum field
takes that text (`tier: no` is "no", `id: 0012` is "0012"); any other type, and an
undeclared event's payload, take the value the YAML 1.2 core schema gives it (only
true/false are booleans, `5` is a number).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from retainflow.compile import APPROVAL_FIELDS, Workflow
from retainflow.types import ANY, ConversionError, Type, convert
from retainflow.values import DECIMAL_CONTEXT, Money

__all__ = [
    "RESERVED_CASE_KEYS",
    "DataError",
    "Plain",
    "Validator",
    "convert_field",
    "plain_value",
]

# Keys of a case (file entry or API dict) that are not case fields.
RESERVED_CASE_KEYS = frozenset({"id", "at", "events"})
RESERVED_EVENT_KEYS = frozenset({"type", "at", "id"})


class Plain(str):
    """A YAML plain scalar: `str(self)` is its source text, `.value` its core-schema value."""

    __slots__ = ("value",)
    value: Any

    def __new__(cls, text: str, value: Any) -> Plain:
        obj = super().__new__(cls, text)
        obj.value = value
        return obj


class DataError(ValueError):
    """Data that does not fit a schema; `.field` names the field, the message says why."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field {field}: {problem}")
        self.field = field
        self.problem = problem


def plain_value(value: Any) -> Any:
    """A value where no schema applies: YAML scalars take their core-schema value."""
    if isinstance(value, Plain):
        return _untyped(value.value)
    if isinstance(value, list | tuple):
        return tuple(plain_value(item) for item in value)
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    return _untyped(value)


def _untyped(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value) if isinstance(value, Plain) else value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return convert(value, Type("number"))
    return convert(value, ANY)


def convert_field(value: Any, type_: Type) -> Any:
    """One field's value as its type wants it; raises ConversionError."""
    if isinstance(value, Plain):
        if type_.name in ("text", "enum"):
            if value.value is None:
                return convert(None, type_)
            return convert(str(value), type_)
        if type_.name == "any":
            return plain_value(value)
        value = value.value
    if type_.name == "list" and isinstance(value, list | tuple):
        element = type_.element or ANY
        return tuple(convert_field(item, element) for item in value)
    if type_.name == "any":
        return plain_value(value)
    if type_.name == "time" and isinstance(value, dt.datetime) and value.utcoffset() is None:
        raise ConversionError("time has no UTC offset (add one, like +08:00 or Z)")
    return convert(value, type_)


def _field_types(workflows: Sequence[Workflow]) -> dict[str, Type]:
    """The case fields of the workflows; the first workflow declaring a field gives its type."""
    fields: dict[str, Type] = {}
    for wf in workflows:
        for name, type_ in wf.case_fields.items():
            fields.setdefault(name, type_)
    return fields


def validate_case(workflows: Sequence[Workflow], data: Mapping[str, Any]) -> dict[str, Any]:
    """Typed case data (with `id`) for a submission; raises DataError.

    A field is unknown when no workflow declares it; each workflow's own types and
    required fields are checked; the typed value kept is the first workflow's.
    """
    known = _field_types(workflows)
    for key in data:
        if str(key) not in known and str(key) not in RESERVED_CASE_KEYS:
            raise DataError(str(key), "is not a field of the case schema" + _known_fields(known))
    typed: dict[str, Any] = {}
    for wf in workflows:
        for name, type_ in wf.case_fields.items():
            raw = data.get(name)
            try:
                value = convert_field(raw, type_)
            except ConversionError as error:
                problem = "is required" if raw is None and name not in data else str(error)
                raise DataError(name, problem) from None
            typed.setdefault(name, value)
    typed["id"] = case_id_of(data)
    return typed


def case_id_of(data: Mapping[str, Any]) -> str:
    raw = data.get("id")
    if type(raw) is str and raw:
        return raw
    if raw is None or isinstance(raw, Mapping | list | tuple):
        raise DataError("id", "is required (a text)")
    text = str(raw) if isinstance(raw, Plain | str) else convert(raw, Type("text"))
    if not text:
        raise DataError("id", "must not be empty")
    return str(text)


def validate_update(workflows: Sequence[Workflow], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Typed `case_updated` fields: each must be a declared field; null only if optional."""
    known = _field_types(workflows)
    typed: dict[str, Any] = {}
    for key, raw in fields.items():
        name = str(key)
        if name not in known:
            raise DataError(name, "is not a field of the case schema" + _known_fields(known))
        for wf in workflows:
            type_ = wf.case_fields.get(name)
            if type_ is None:
                continue
            try:
                value = convert_field(raw, type_)
            except ConversionError as error:
                raise DataError(name, str(error)) from None
            typed.setdefault(name, value)
    return typed


def validate_payload(
    workflows: Sequence[Workflow], event_type: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """An event's payload: typed by its declared schema, else kept as untyped values."""
    if (
        not payload
        and event_type != "approval"
        and not any(wf.event_fields.get(event_type) for wf in workflows)
    ):
        return {}
    schema: Mapping[str, Type] | None = None
    for wf in workflows:
        schema = wf.event_fields.get(event_type)
        if schema is not None:
            break
    if schema is None and event_type == "approval":
        schema = APPROVAL_FIELDS
    if schema is None:
        return {str(k): plain_value(v) for k, v in payload.items()}
    for key in payload:
        if str(key) not in schema:
            raise DataError(
                str(key), f"is not a field of event {event_type}" + _known_fields(schema)
            )
    typed: dict[str, Any] = {}
    for name, type_ in schema.items():
        raw = payload.get(name)
        try:
            typed[name] = convert_field(raw, type_)
        except ConversionError as error:
            problem = "is required" if raw is None and name not in payload else str(error)
            raise DataError(name, problem) from None
    return typed


def _known_fields(fields: Mapping[str, Any]) -> str:
    if not fields:
        return " (it declares none)"
    return " (fields: " + ", ".join(fields) + ")"


# ---- prepared once per engine ------------------------------------------------------------

Converter = Callable[[Any], Any]
_to_decimal = DECIMAL_CONTEXT.create_decimal


def field_converter(type_: Type) -> Converter:
    """`convert_field(value, type_)` as a function of the value, with fast paths for the
    usual input types; anything else (and every error) goes through `convert_field`."""
    name, optional = type_.name, type_.optional

    def slow(value: Any) -> Any:
        return convert_field(value, type_)

    if name == "text":

        def text(value: Any) -> Any:
            cls = type(value)
            if cls is str:
                return value
            if cls is Plain and value.value is not None:
                return str.__str__(value)
            if value is None and optional:
                return None
            return convert_field(value, type_)

        return text
    if name == "enum":
        members = frozenset(type_.members)

        def enum(value: Any) -> Any:
            cls = type(value)
            if cls is str:
                if value in members:
                    return value
            elif cls is Plain and value.value is not None:
                text = str.__str__(value)
                if text in members:
                    return text
            elif value is None and optional:
                return None
            return convert_field(value, type_)

        return enum
    if name == "bool":

        def boolean(value: Any) -> Any:
            if value is True or value is False:
                return value
            if type(value) is Plain:
                inner = value.value
                if inner is True or inner is False:
                    return inner
            elif value is None and optional:
                return None
            return convert_field(value, type_)

        return boolean
    if name == "number":

        def number(value: Any) -> Any:
            cls = type(value)
            if cls is Decimal or cls is int:
                return _to_decimal(value)
            if cls is Plain:
                inner = value.value
                if type(inner) is int or type(inner) is Decimal:
                    return _to_decimal(inner)
            elif value is None and optional:
                return None
            return convert_field(value, type_)

        return number
    if name == "money":
        currency = type_.currency

        def money(value: Any) -> Any:
            if type(value) is Money and (not currency or value.currency == currency):
                return value
            if value is None and optional:
                return None
            return convert_field(value, type_)

        return money
    return slow


class Validator:
    """`validate_case`, `validate_update` and `validate_payload` for one set of workflows,
    prepared once (the engine checks every input): same values, same errors (a value the
    fast path does not take, or any problem, goes through the functions above)."""

    def __init__(self, workflows: Sequence[Workflow]) -> None:
        self.workflows = tuple(workflows)
        self.known = _field_types(self.workflows)
        self.case_keys = frozenset(self.known) | RESERVED_CASE_KEYS
        self.case_plan: tuple[tuple[str, Converter], ...] = tuple(
            (name, field_converter(type_))
            for wf in self.workflows
            for name, type_ in wf.case_fields.items()
        )
        updates: dict[str, list[Converter]] = {}
        for wf in self.workflows:
            for name, type_ in wf.case_fields.items():
                updates.setdefault(name, []).append(field_converter(type_))
        self.update_plan = {name: tuple(convs) for name, convs in updates.items()}
        # declared events (and approval): (schema names, converters in schema order)
        self.events: dict[str, tuple[frozenset[str], tuple[tuple[str, Converter], ...]]] = {}
        names = {name for wf in self.workflows for name in wf.event_fields} | {"approval"}
        for event_type in names:
            schema: Mapping[str, Type] | None = None
            for wf in self.workflows:
                schema = wf.event_fields.get(event_type)
                if schema is not None:
                    break
            if schema is None:
                schema = APPROVAL_FIELDS
            plan = tuple((name, field_converter(type_)) for name, type_ in schema.items())
            self.events[event_type] = (frozenset(schema), plan)

    def case(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """`validate_case(workflows, data)`."""
        keys = self.case_keys
        for key in data:
            if key not in keys:
                return validate_case(self.workflows, data)  # raises DataError
        typed: dict[str, Any] = {}
        get = data.get
        try:
            for name, conv in self.case_plan:
                value = conv(get(name))
                if name not in typed:
                    typed[name] = value
        except ConversionError:
            return validate_case(self.workflows, data)
        typed["id"] = case_id_of(data)
        return typed

    def update(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`validate_update(workflows, fields)`."""
        plan = self.update_plan
        typed: dict[str, Any] = {}
        try:
            for key, raw in fields.items():
                convs = plan.get(key) if type(key) is str else None
                if convs is None:
                    return validate_update(self.workflows, fields)
                for conv in convs:
                    value = conv(raw)
                    if key not in typed:
                        typed[key] = value
        except ConversionError:
            return validate_update(self.workflows, fields)
        return typed

    def payload(self, event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """`validate_payload(workflows, event_type, payload)`."""
        found = self.events.get(event_type)
        if found is None:  # an undeclared event keeps untyped values
            if not payload:
                return {}
            return {str(k): plain_value(v) for k, v in payload.items()}
        names, plan = found
        for key in payload:
            if key not in names:
                return validate_payload(self.workflows, event_type, payload)
        if not plan:
            return {}
        typed: dict[str, Any] = {}
        get = payload.get
        try:
            for name, conv in plan:
                typed[name] = conv(get(name))
        except ConversionError:
            return validate_payload(self.workflows, event_type, payload)
        return typed
