"""The codec of case states: `CaseState` to bytes and back, for the stores.

Input: a `retainflow.runtime.state.CaseState` (or a list of its history entries). Output:
the bytes of a restricted pickle, and back. It is 5-8x faster than the JSON codec of
`runtime.state` both ways. Only plain values and the attrs classes of
`retainflow.runtime.state` and `retainflow.values` can be written (anything else is an
error when saving, not when reading), each object with the number of its class's field
layout (`LAYOUTS` maps numbers to the field names; the SQLite store keeps them in its
`layouts` table), so a field added later with a default reads old rows; and only those
classes, `datetime`, `Decimal`, time zones and built-in containers can be read back (no
code runs).

The SQLite store writes states with it (without their history, which its log holds);
the memory store keeps the states of cases that are done with it, as one bytes object
the garbage collector does not track instead of some forty objects it would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import operator
import pickle
import zoneinfo
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from retainflow import values as _values
from retainflow.runtime import state as _state
from retainflow.runtime.state import CaseState
from retainflow.stores.base import StoreError

__all__ = [
    "LAYOUTS",
    "LogRecord",
    "dump_log",
    "dump_state",
    "load_log",
    "load_state",
    "own_layouts",
]


def _codec_classes() -> list[type[Any]]:
    classes: list[type[Any]] = []
    for module in (_state, _values):
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                classes.append(value)
    return classes


def _layout_key(cls: type[Any]) -> str:
    return cls.__name__ + ":" + ",".join(a.name for a in attrs.fields(cls))


def _getter(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (get(obj),)
    return get


def _layout_id(key: str) -> int:
    """A layout's number in the pickles: 31 bits of its text's sha256 (the same in every
    process and store; the `layouts` table of a store maps it back to the text)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") >> 1


# The layouts this process knows: its own classes' (and those read from stores' `layouts`
# tables), by number; class -> (layout number, field getter); number -> constructor.
LAYOUTS: dict[int, str] = {}
_WRITE: dict[type[Any], tuple[int, Callable[[Any], tuple[Any, ...]]]] = {}
_READ: dict[int | str, Callable[..., Any]] = {}
_BY_NAME: dict[str, type[Any]] = {}
for _cls in _codec_classes():
    _names = tuple(a.name for a in attrs.fields(_cls))
    _key = _layout_key(_cls)
    LAYOUTS[_layout_id(_key)] = _key
    _WRITE[_cls] = (_layout_id(_key), _getter(_names))
    _BY_NAME[_cls.__name__] = _cls
    if all(a.init and a.alias == a.name for a in attrs.fields(_cls)):
        _READ[_layout_id(_key)] = _cls


def _build(layout: int | str, values: tuple[Any, ...]) -> Any:
    """Rebuild one attrs object from its layout (number, or text) and field values."""
    make = _READ.get(layout)
    if make is None:
        key = layout if isinstance(layout, str) else LAYOUTS.get(layout)
        if key is None:
            raise StoreError(
                f"a case state uses layout {layout}, which neither this retainflow nor the "
                "store's layouts table knows"
            )
        make = _READ[layout] = _other_layout(key)
    return make(*values)


def _other_layout(key: str) -> Callable[..., Any]:
    """A constructor for a layout written by another version of retainflow's classes:
    fields that are gone are dropped, fields added since take their defaults."""
    name, _, fields = key.partition(":")
    cls = _BY_NAME.get(name)
    if cls is None:
        raise StoreError(f"a case state holds a {name}, which this retainflow does not know")
    stored = fields.split(",") if fields else []
    known = {a.name: a for a in attrs.fields(cls)}
    missing = [
        n for n, a in known.items() if n not in stored and a.default is attrs.NOTHING and a.init
    ]
    if missing:
        raise StoreError(
            f"a case state's {name} lacks {', '.join(missing)}: it was written by another "
            "retainflow version that this one cannot read"
        )

    def make(*values: Any) -> Any:
        kwargs = {known[n].alias: v for n, v in zip(stored, values, strict=True) if n in known}
        return cls(**kwargs)

    return make


def _zone(key: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(key)


_READABLE: dict[tuple[str, str], Any] = {
    ("datetime", "datetime"): dt.datetime,
    ("datetime", "date"): dt.date,
    ("datetime", "time"): dt.time,
    ("datetime", "timedelta"): dt.timedelta,
    ("datetime", "timezone"): dt.timezone,
    ("decimal", "Decimal"): Decimal,
    ("builtins", "str"): str,
    ("builtins", "int"): int,
    ("builtins", "float"): float,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "dict"): dict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    (__name__, "_build"): _build,
    (__name__, "_zone"): _zone,
    # where they lived before this module existed (states written then say so)
    ("retainflow.stores.sqlite", "_build"): _build,
    ("retainflow.stores.sqlite", "_zone"): _zone,
}


_BASES = (str, int, float, list, tuple, dict, set, frozenset)


class _Reducers(dict[type[Any], Callable[[Any], Any]]):
    """The pickler's dispatch table: how each storable type is written (C reducers for
    times and decimals). A subclass of a built-in type is written as that type (as the
    JSON codec of `retainflow.runtime.state` does: a YAML `Plain` scalar is a str); any
    other type is an error when saving, not when reading."""

    def __missing__(self, cls: type[Any]) -> Callable[[Any], Any]:
        for base in _BASES:
            if issubclass(cls, base):
                reducer = self[cls] = _as_base(base)
                return reducer
        raise pickle.PicklingError(
            f"a case state may hold plain values only, not a {cls.__module__}.{cls.__qualname__}"
        )


def _as_base(base: type[Any]) -> Callable[[Any], Any]:
    if base is str:
        return lambda obj: (str, (str.__str__(obj),))
    return lambda obj: (base, (base(obj),))


def _attrs_reducer(layout: int, get: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], Any]:
    return lambda obj: (_build, (layout, get(obj)))


_REDUCERS = _Reducers()
for _cls, (_number, _get) in _WRITE.items():
    _REDUCERS[_cls] = _attrs_reducer(_number, _get)
for _plain in (dt.datetime, dt.date, dt.time, dt.timedelta, dt.timezone, Decimal):
    _REDUCERS[_plain] = operator.methodcaller("__reduce_ex__", 5)  # keeps `fold`
_REDUCERS[zoneinfo.ZoneInfo] = lambda zone: (_zone, (zone.key,))
# (`timezone.__reduce_ex__` goes through copyreg's slot-name lookup, in Python, each time)
_REDUCERS[dt.timezone] = lambda zone: (dt.timezone, zone.__getinitargs__())


class _Pickler(pickle.Pickler):
    dispatch_table = _REDUCERS


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _READABLE.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"a case state may not refer to {module}.{name}")
        return found


def _without_history() -> Callable[[Any], Any]:
    """The reducer of a `CaseState` as the `cases` table holds it: every field, but an
    empty history (the log rows hold it: an advance then rewrites only what changes)."""
    layout, get = _WRITE[CaseState]
    index = [a.name for a in attrs.fields(CaseState)].index("history")

    def reduce(state: CaseState) -> Any:
        values = get(state)
        return (_build, (layout, (*values[:index], [], *values[index + 1 :])))

    return reduce


class _RowPickler(pickle.Pickler):
    dispatch_table = _Reducers(_REDUCERS)


_RowPickler.dispatch_table[CaseState] = _without_history()


def dump_state(state: CaseState, *, history: bool = True) -> bytes:
    """A case state as bytes; `history=False` is the form the `cases` table holds."""
    buffer = io.BytesIO()
    (_Pickler if history else _RowPickler)(buffer, protocol=5).dump(state)
    return buffer.getvalue()


# What unpickling damaged bytes raises, besides `pickle.UnpicklingError`.
_DAMAGED = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError)


def _load(data: bytes, what: str) -> Any:
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except StoreError:
        raise
    except _DAMAGED as error:
        raise StoreError(f"{what} cannot be read: it is damaged ({error})") from None


def load_state(data: bytes) -> CaseState:
    """The inverse of `dump_state` (only plain values and retainflow's classes load)."""
    state = _load(data, "a row of the cases table")
    if not isinstance(state, CaseState):
        raise StoreError("a row of the cases table does not hold a case state")
    return state


LogRecord = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[str, int, Any]]]


def dump_log(
    earlier: Sequence[tuple[Any, ...]],
    history: Sequence[tuple[Any, ...]],
    actions: Sequence[tuple[str, int, Any]],
) -> bytes:
    """What one call did to a case, as the bytes of a log row's `history` column: history
    entries moved out of an older state (`earlier`), the call's new history entries, and
    the actions it emitted as (workflow, instance number, `ActionRecord`)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=5).dump((list(earlier), list(history), list(actions)))
    return buffer.getvalue()


def load_log(data: bytes) -> LogRecord:
    """The inverse of `dump_log`."""
    found = _load(data, "a log row's history")
    if isinstance(found, list):  # the first form of schema 2: history entries only
        found = (found, [], [])
    if (
        not isinstance(found, tuple)
        or len(found) != 3
        or not all(isinstance(part, list) for part in found)
        or not all(isinstance(e, tuple) for part in found for e in part)
    ):
        raise StoreError("a log row's history does not hold history entries and actions")
    return found


def own_layouts() -> set[int]:
    """The numbers of this retainflow's own class layouts (the ones it writes)."""
    return {number for number, _ in _WRITE.values()}
