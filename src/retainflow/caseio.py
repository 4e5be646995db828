"""Case files and ledger seeds: YAML / JSON / JSON Lines in, validated entries out.

    entries = load_cases("cases.yaml", [workflow])   # CaseEntry per case, in file order
    grants = load_ledger("ledger.yaml")              # earlier grants for --ledger

A case file is a list of cases or `{cases: [...]}` (JSON Lines: one case a line). YAML is
read with the 1.2 core schema: only `true`/`false` are booleans, and every plain scalar
keeps its source text (`Plain`), so a text field takes what was written (`tier: no` is
"no", `id: 0012` is "0012") while an undeclared event's payload keeps YAML's types.

A case with bad data is not an exception: its `CaseEntry.error` is
`case ID: field NAME: PROBLEM` and the other cases still run. A file that cannot be read
or parsed raises `CaseFileError`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import attrs
import yaml

from retainflow.compile import Workflow
from retainflow.diagnostics import closest
from retainflow.ledger import Grant
from retainflow.runtime.data import (
    RESERVED_EVENT_KEYS,
    DataError,
    Plain,
    case_id_of,
    validate_case,
    validate_payload,
    validate_update,
)
from retainflow.values import Money, parse_time

__all__ = ["CaseEntry", "CaseFileError", "EventEntry", "load_cases", "load_ledger", "read_document"]


class CaseFileError(Exception):
    """A case or ledger file that cannot be read or parsed (the CLI exits 2)."""


@attrs.frozen
class EventEntry:
    index: int  # 1-based position in the case's `events`
    type: str
    at: dt.datetime
    raw: Mapping[str, Any]  # the event as written (type, at, id, payload)


@attrs.frozen
class CaseEntry:
    index: int  # position in the file, from 0
    case_id: str | None
    at: dt.datetime | None
    data: Mapping[str, Any]  # the case's fields as written (for Engine.submit)
    events: tuple[EventEntry, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ---- YAML 1.2 core, keeping source text ---------------------------------------------------

_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


def core_value(text: str) -> Any:
    """The YAML 1.2 core schema's value of a plain scalar (numbers as Decimal)."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return Decimal(text)
    if _OCT.fullmatch(text):
        return Decimal(int(text[2:], 8))
    if _HEX.fullmatch(text):
        return Decimal(int(text[2:], 16))
    if _FLOAT.fullmatch(text):
        return Decimal(text)
    return text


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader without YAML 1.1 implicit types: plain scalars become `Plain`."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}


def _construct_str(loader: Any, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    if not node.style:  # plain (PyYAML says None, libyaml says "")
        return Plain(value, core_value(value))
    return value


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    """A mapping, refusing a key given twice (YAML would keep the last one silently: a
    case field, an event or an expectation written twice is a mistake to point at)."""
    seen: dict[str, yaml.Node] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
            first = seen.get(key_node.value)
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key_node.value!r} (first on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _strip_plain(value: Any) -> Any:
    """Mapping keys are plain scalars too: keep them as ordinary strings."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, str) else k: _strip_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_plain(v) for v in value]
    return value


def read_document(path: str | Path) -> Any:
    """Parse a YAML, JSON or JSON Lines file (by extension); raises CaseFileError."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: is not UTF-8 text") from None
    except OSError as error:
        raise CaseFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    suffix = file_path.suffix.lower()
    try:
        if suffix == ".jsonl":
            return _json_lines(text, path)
        if suffix == ".json":
            return json.loads(text, parse_float=Decimal)
        return _strip_plain(yaml.load(text, Loader=_Loader))  # a SafeLoader subclass
    except json.JSONDecodeError as error:
        raise CaseFileError(
            f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CaseFileError(f"{path}{where}: invalid YAML: {problem}") from None


def _json_lines(text: str, path: str | Path) -> list[Any]:
    """One JSON value per non-blank line; an error names the file's line, not the line's
    own line 1."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line, parse_float=Decimal))
        except json.JSONDecodeError as error:
            raise CaseFileError(
                f"{path}:{number}:{error.colno}: invalid JSON: {error.msg}"
            ) from None
    return items


def _list_of(document: Any, key: str, path: str | Path) -> list[Any]:
    if isinstance(document, Mapping) and key in document:
        document = document[key]
    if document is None:
        return []
    if not isinstance(document, list):
        raise CaseFileError(f"{path}: expected a list of {key}, or {{{key}: [...]}}")
    return document


# ---- cases --------------------------------------------------------------------------------


def _time(value: Any, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise DataError(field, "time has no UTC offset (add one, like +08:00 or Z)")
        return value
    if value is None:
        raise DataError(field, "is required (a time with an offset)")
    try:
        return parse_time(str(value))
    except ValueError as error:
        raise DataError(field, str(error)) from None


def check_case(index: int, raw: Any, workflows: Sequence[Workflow]) -> CaseEntry:
    """Validate one case entry; problems become the entry's `error`."""
    if not isinstance(raw, Mapping):
        return CaseEntry(
            index,
            None,
            None,
            {},
            (),
            f"case #{index + 1}: field -: a case must be a mapping of fields",
        )
    shown = raw.get("id")
    label = "?" if shown is None else str(shown)
    try:
        case_id = case_id_of(raw)
        at = _time(raw.get("at"), "at")
        data = {str(k): v for k, v in raw.items() if k not in ("at", "events")}
        validate_case(workflows, data)
        events = _check_events(raw.get("events"), at, workflows)
    except DataError as error:
        return CaseEntry(
            index, None if shown is None else label, None, {}, (), f"case {label}: {error}"
        )
    return CaseEntry(index, case_id, at, data, events)


def _check_events(
    raw: Any, case_at: dt.datetime, workflows: Sequence[Workflow]
) -> tuple[EventEntry, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DataError("events", "must be a list of events")
    entries = []
    for number, event in enumerate(raw, start=1):
        where = f"events[{number}]"
        if not isinstance(event, Mapping):
            raise DataError(where, "an event must be a mapping (type, at, payload)")
        event_type = event.get("type")
        if event_type is None or not str(event_type):
            raise DataError(f"{where}.type", "is required")
        event_type = str(event_type)
        at = _time(event.get("at"), f"{where}.at")
        if at < case_at:
            raise DataError(
                f"{where}.at", f"{at.isoformat()} is before the case's at ({case_at.isoformat()})"
            )
        payload = {str(k): v for k, v in event.items() if k not in RESERVED_EVENT_KEYS}
        try:
            if event_type == "case_updated":
                validate_update(workflows, payload)
            else:
                validate_payload(workflows, event_type, payload)
        except DataError as error:
            raise DataError(f"{where}.{error.field}", error.problem) from None
        entries.append(EventEntry(number, event_type, at, event))
    return tuple(entries)


def load_cases(path: str | Path, workflows: Sequence[Workflow]) -> list[CaseEntry]:
    """Every case of a case file, validated against the workflows, in file order."""
    items = _list_of(read_document(path), "cases", path)
    return [check_case(index, raw, workflows) for index, raw in enumerate(items)]


# ---- ledger seeds ---------------------------------------------------------------------------


def load_ledger(path: str | Path) -> list[Grant]:
    """Earlier grants, in the scenario `ledger:` form (client, kind, amount, at, optional
    case, workflow, label); raises CaseFileError for an unreadable file or a bad entry."""
    items = _list_of(read_document(path), "ledger", path)
    grants = []
    for number, item in enumerate(items, start=1):
        try:
            grants.append(ledger_entry(item))
        except (ValueError, DataError) as error:
            raise CaseFileError(f"{path}: ledger entry {number}: {error}") from None
    return grants


LEDGER_KEYS = ("client", "kind", "amount", "at", "case", "workflow", "label")


def ledger_entry(item: Any) -> Grant:
    if not isinstance(item, Mapping):
        raise ValueError("a ledger entry is a mapping: client, kind, amount, at")
    unknown = [str(k) for k in item if str(k) not in LEDGER_KEYS]
    if unknown:
        close = closest(unknown[0], LEDGER_KEYS)
        hint = f" (did you mean {close!r}?)" if close else f" (keys: {', '.join(LEDGER_KEYS)})"
        raise ValueError(f"unknown key {unknown[0]!r}{hint}")
    missing = [k for k in ("client", "kind", "amount", "at") if item.get(k) is None]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    amount = item["amount"]
    money = amount if isinstance(amount, Money) else Money.parse(str(amount))
    at = _time(item["at"], "at").astimezone(dt.UTC)

    def text(key: str) -> str | None:
        value = item.get(key)
        return None if value is None else str(value)

    return Grant(
        at,
        str(item["client"]),
        str(item["kind"]),
        money,
        case=text("case"),
        workflow=text("workflow"),
        label=text("label"),
    )
