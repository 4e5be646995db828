"""Wire form of retainflow values, and the Temporal data converter that uses it.

Input: Python values a service hands to the Temporal runtime (case data, event payloads,
query results): JSON types plus retainflow's runtime values (`Decimal`, `Money`,
`Percent`, aware `datetime`, `timedelta`, `date`, tuples, sets) and YAML plain scalars
(`Plain`, which keep their source text). Output: JSON text that Temporal stores as
payloads, and back, losslessly.

    >>> from decimal import Decimal
    >>> from_wire(to_wire({"score": Decimal("4.5")}))
    {'score': Decimal('4.5')}

Two details matter: dict key order is kept (run results fix their key order, and the
stock converter sorts keys), and a `Plain` survives the trip (a text field takes its
source text, an untyped payload its YAML 1.2 value: `id: 0012` stays "0012").

Both the client and the worker must use `DATA_CONVERTER` (`retainflow.temporal.connect`
and `create_worker` see to it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import temporalio.converter

from retainflow.runtime.data import Plain
from retainflow.values import Money, Percent

__all__ = [
    "DATA_CONVERTER",
    "RetainflowJSONPayloadConverter",
    "RetainflowPayloadConverter",
    "from_wire",
    "to_wire",
]


def to_wire(value: Any) -> Any:
    """A JSON-ready form of `value`; retainflow values become one-key tagged objects."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Plain):
        return {"$plain": [str(value), to_wire(value.value)]}
    if isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, Money):
        return {"$m": str(value)}
    if isinstance(value, Percent):
        return {"$p": str(value.value)}
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            return {"$naive": value.isoformat()}
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$d": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [to_wire(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [to_wire(v) for v in sorted(value, key=repr)]}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            if any(k.startswith("$") for k in value):  # a user key that looks like a tag
                return {"$map": [[k, to_wire(v)] for k, v in value.items()]}
            return {k: to_wire(v) for k, v in value.items()}
        return {"$pairs": [[to_wire(k), to_wire(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot send a {type(value).__name__} through Temporal")


def _untag(obj: dict[str, Any]) -> Any:
    """json object_hook: one tagged object back to its value (inner values are done)."""
    if len(obj) != 1:
        return obj
    tag, body = next(iter(obj.items()))
    if not tag.startswith("$"):
        return obj
    if tag == "$n":
        return Decimal(body)
    if tag == "$m":
        return Money.parse(body)
    if tag == "$p":
        return Percent(Decimal(body))
    if tag == "$t" or tag == "$naive":
        return dt.datetime.fromisoformat(body)
    if tag == "$d":
        return dt.timedelta(days=body[0], seconds=body[1], microseconds=body[2])
    if tag == "$date":
        return dt.date.fromisoformat(body)
    if tag == "$tuple":
        return tuple(body)
    if tag == "$set":
        return set(body)
    if tag == "$map":
        return dict(body)
    if tag == "$pairs":
        return {_hashable(k): v for k, v in body}
    if tag == "$plain":
        return Plain(body[0], body[1])
    return obj


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def from_wire(value: Any) -> Any:
    """The inverse of `to_wire` (for values already parsed from JSON)."""
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict):
        return _untag({k: from_wire(v) for k, v in value.items()})
    return value


class _Encoder(json.JSONEncoder):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["sort_keys"] = False  # run results fix their key order
        kwargs["ensure_ascii"] = False
        super().__init__(**kwargs)

    def encode(self, o: Any) -> str:
        return super().encode(to_wire(o))


class _Decoder(json.JSONDecoder):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["object_hook"] = _untag
        kwargs["parse_float"] = Decimal
        super().__init__(**kwargs)


class RetainflowJSONPayloadConverter(temporalio.converter.JSONPlainPayloadConverter):
    """`json/plain` payloads in retainflow's wire form (key order kept, values tagged)."""

    def __init__(self) -> None:
        super().__init__(encoder=_Encoder, decoder=_Decoder)


class RetainflowPayloadConverter(temporalio.converter.CompositePayloadConverter):
    """The default converters, with retainflow's JSON converter in place of the stock one."""

    def __init__(self) -> None:
        stock = temporalio.converter.DefaultPayloadConverter.default_encoding_payload_converters
        converters = [
            RetainflowJSONPayloadConverter()
            if isinstance(c, temporalio.converter.JSONPlainPayloadConverter)
            else c
            for c in stock
        ]
        super().__init__(*converters)


DATA_CONVERTER = dataclasses.replace(
    temporalio.converter.DataConverter.default,
    payload_converter_class=RetainflowPayloadConverter,
)
