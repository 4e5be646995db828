"""Case state: the plain data the engine core reads and writes, and its JSON codec.

Input/output of `retainflow.runtime.core`: one `CaseState` per case id holds the case's
data, the event ids seen, its timers, and per workflow its trigger memory and instances.
Every value is a primitive, a list/dict/set of them, a runtime value (`Decimal`, `Money`,
`Percent`, `timedelta`, aware `datetime`) or another class of this module, so a store
can persist it with `encode` / `decode` (lossless JSON) and a runtime can replay it.

    >>> state = CaseState("C-1")
    >>> decode(encode(state)) == state
    True
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import attrs

from retainflow.values import Money, Percent

__all__ = [
    "ActionRecord",
    "CaseState",
    "FlowState",
    "IgnoredRecord",
    "Instance",
    "OfferRecord",
    "SlaState",
    "Timer",
    "decode",
    "dumps",
    "encode",
    "history_entry",
    "loads",
]


@attrs.define(eq=True)
class ActionRecord:
    """An action emitted by an instance: at, the step it was in, name, evaluated args."""

    at: dt.datetime
    step: str
    name: str
    args: dict[str, Any]


@attrs.define(eq=True)
class IgnoredRecord:
    at: dt.datetime
    type: str
    id: str | None
    reason: str  # "no handler", "no instance", "duplicate"


@attrs.define(eq=True)
class OfferRecord:
    at: dt.datetime
    step: str
    kind: str
    requested: Money | None
    label: str | None
    status: str = "pending"
    amount: Money | None = None
    reason: str | None = None
    decided_at: dt.datetime | None = None
    sent: Money | None = None  # the amount sent for approval


@attrs.define(eq=True)
class SlaState:
    status: str = "not_started"  # not_started pending met breached cancelled
    started_at: dt.datetime | None = None
    due: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    paused: bool = False
    paused_since: dt.datetime | None = None
    warned: bool = False


@attrs.define(eq=True)
class Timer:
    """A pending timer of a case. `seq` is the store-wide creation order (ties at one time)."""

    seq: int
    at: dt.datetime
    workflow: str
    kind: str  # wait due every sla_warn sla_due at_trigger
    instance: int | None = None  # instance number (None for `at` triggers)
    name: str | None = None  # SLA or trigger name
    entry: int = 0  # the step entry it belongs to


@attrs.define(eq=True)
class Instance:
    """One run of a workflow for a case, from its trigger to its end."""

    workflow: str
    version: int
    number: int
    trigger: str | None
    started_at: dt.datetime
    clock: dt.datetime
    status: str = "active"  # active ended cancelled error
    step: str | None = None
    phase: str = ""  # sleeping pending waiting ('' between a step's entry and its wait)
    entry: int = 0  # step entries so far (a re-entry starts afresh)
    outcome: str | None = None
    ended_at: dt.datetime | None = None
    path: list[str] = attrs.Factory(list)
    actions: list[ActionRecord] = attrs.Factory(list)
    offers: list[OfferRecord] = attrs.Factory(list)
    slas: dict[str, SlaState] = attrs.Factory(dict)
    measures: dict[str, list[Any]] = attrs.Factory(dict)
    ignored: list[IgnoredRecord] = attrs.Factory(list)
    error: str | None = None
    work_index: int = 0  # the next work item (resumes after an approval)
    last_offer: int | None = None  # index in `offers` of this entry's last offer
    pending_offer: int | None = None
    every_count: int = 0
    timers: dict[str, int] = attrs.Factory(dict)  # role -> timer seq

    @property
    def active(self) -> bool:
        return self.status == "active"


@attrs.define(eq=True)
class FlowState:
    """What one workflow remembers about one case."""

    workflow: str
    memory: dict[str, bool] = attrs.Factory(dict)  # data triggers: did EXPR hold?
    at_times: dict[str, dt.datetime | None] = attrs.Factory(dict)  # `at` triggers
    at_done: dict[str, bool] = attrs.Factory(dict)  # has that time been used?
    at_timers: dict[str, int] = attrs.Factory(dict)  # trigger name -> timer seq
    last_ended: dt.datetime | None = None
    instances: list[Instance] = attrs.Factory(list)
    early_ignored: list[IgnoredRecord] = attrs.Factory(list)  # before any instance
    error: str | None = None  # a trigger that could not be evaluated

    @property
    def active(self) -> Instance | None:
        if self.instances and self.instances[-1].status == "active":
            return self.instances[-1]
        return None

    @property
    def latest(self) -> Instance | None:
        return self.instances[-1] if self.instances else None


@attrs.define(eq=True)
class CaseState:
    """Everything the engine keeps about one case id."""

    case_id: str
    data: dict[str, Any] = attrs.Factory(dict)  # validated case data (typed values)
    submissions: list[dt.datetime] = attrs.Factory(list)  # times of applied submissions
    seen_ids: set[str] = attrs.Factory(set)
    last_at: dt.datetime | None = None  # latest input or timer applied to the case
    last_input: dt.datetime | None = None  # latest submission or event
    flows: dict[str, FlowState] = attrs.Factory(dict)
    timers: dict[int, Timer] = attrs.Factory(dict)
    history: list[tuple[Any, ...]] = attrs.Factory(list)  # (at, kind, *HISTORY_FIELDS[kind])


# The fields of a history entry after its time and kind (see `history_entry`).
HISTORY_FIELDS: dict[str, tuple[str, ...]] = {
    "submission": ("data",),
    "event": ("type", "id", "payload"),
    "duplicate": ("type", "id"),
    "timer": ("timer", "name", "workflow", "instance"),
    "trace": ("workflow", "instance", "message"),
    "move": ("step", "reason", "workflow"),
    "cancel": ("reason", "workflow"),
}


def history_entry(entry: tuple[Any, ...]) -> dict[str, Any]:
    """A history tuple as a dict: `at`, `kind` and the kind's fields."""
    at, kind, *rest = entry
    item: dict[str, Any] = {"at": at, "kind": kind}
    item.update(zip(HISTORY_FIELDS.get(kind, ()), rest, strict=False))
    return item


# ---- codec -------------------------------------------------------------------------------

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ActionRecord,
        IgnoredRecord,
        OfferRecord,
        SlaState,
        Timer,
        Instance,
        FlowState,
        CaseState,
    )
}


def encode(value: Any) -> Any:
    """A JSON-ready form of a state value (tagged objects for non-JSON values)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"$f": repr(value)}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, Money):
        return {"$m": [str(value.amount), value.currency]}
    if isinstance(value, Percent):
        return {"$p": str(value.value)}
    if isinstance(value, dt.datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$d": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, set | frozenset):
        return {"$set": sorted((encode(v) for v in value), key=json.dumps)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"$map": {k: encode(v) for k, v in value.items()}}
        return {"$pairs": [[encode(k), encode(v)] for k, v in value.items()]}
    if attrs.has(type(value)) and type(value).__name__ in _CLASSES:
        fields = {f.name: encode(getattr(value, f.name)) for f in attrs.fields(type(value))}
        return {"$c": type(value).__name__, "f": fields}
    raise TypeError(f"cannot encode {type(value).__name__} in case state")


def decode(value: Any) -> Any:
    """The inverse of `encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag: str = "$c"
    body: Any = value
    if len(value) == 1:
        tag, body = next(iter(value.items()))
    if tag == "$c":
        cls = _CLASSES[value["$c"]]
        return cls(**{k: decode(v) for k, v in value["f"].items()})
    if tag == "$n":
        return Decimal(body)
    if tag == "$f":
        return float(body)
    if tag == "$m":
        return Money(Decimal(body[0]), body[1])
    if tag == "$p":
        return Percent(Decimal(body))
    if tag == "$t":
        return dt.datetime.fromisoformat(body)
    if tag == "$d":
        return dt.timedelta(days=body[0], seconds=body[1], microseconds=body[2])
    if tag == "$date":
        return dt.date.fromisoformat(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$set":
        return {decode(v) for v in body}
    if tag == "$map":
        return {k: decode(v) for k, v in body.items()}
    if tag == "$pairs":
        return {decode(k): decode(v) for k, v in body}
    raise ValueError(f"unknown tag {tag!r} in encoded case state")


def dumps(state: CaseState) -> str:
    """One case state as compact JSON text (what a persistent store writes)."""
    return json.dumps(encode(state), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> CaseState:
    result = decode(json.loads(text))
    if not isinstance(result, CaseState):
        raise ValueError("not an encoded case state")
    return result
