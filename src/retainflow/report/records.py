"""Run results in, typed records out: the JSON Lines of `run --format jsonl`, or the object
`{"results": [...]}` of `run --format json`, checked field by field.

    >>> rec = parse_record({"case": "C-1", "workflow": "w", "version": 1,
    ...                     "status": "not_triggered"}, "<doc>", 1)
    >>> rec.status, rec.started_at, rec.offers
    ('not_triggered', None, ())

Every problem is a `ResultsProblem` (file, line, message); `read_results` collects all of
them (up to a limit) and raises one `ResultsError`, so a user sees every bad line at once.
Fields the report does not use (`path`, `actions`, `ignored`, ...) are not checked.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from retainflow.values import Money, parse_time

__all__ = [
    "OUTCOME_KINDS",
    "STATUSES",
    "OfferRecord",
    "ResultsError",
    "ResultsProblem",
    "RunRecord",
    "SlaRecord",
    "parse_record",
    "read_results",
    "read_results_text",
]

STATUSES = ("ended", "waiting", "cancelled", "error", "not_triggered")
OUTCOME_KINDS = ("retained", "churned", "other")
SLA_STATUSES = ("not_started", "pending", "met", "breached", "cancelled")
# Problems shown before the rest are summed up as "... and N more".
MAX_PROBLEMS = 50
MAX_PER_FILE = 10


@attrs.frozen
class ResultsProblem:
    """One bad input: `path:line: message` (line 0: the file as a whole)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


class ResultsError(Exception):
    """Input files that cannot be read or hold bad records; `.problems` lists them."""

    def __init__(self, problems: Sequence[ResultsProblem], more: int = 0) -> None:
        self.problems = tuple(problems)
        self.more = more
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = [str(problem) for problem in self.problems]
        if self.more:
            shown.append(f"... and {self.more} more problem{'s' * (self.more != 1)}")
        return shown


class _Bad(ValueError):
    """A field that breaks the record format; the message names the field."""


@attrs.frozen
class OfferRecord:
    kind: str
    status: str
    requested: Money | None
    amount: Money | None
    reason: str | None


@attrs.frozen
class SlaRecord:
    status: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    paused: bool = False


@attrs.frozen
class RunRecord:
    """One instance (or not_triggered / rejected case) of a run, as the report needs it.

    `source` is where it was read (`path:line`), for messages.
    """

    case: str
    workflow: str
    version: int | None
    status: str
    client: str | None = None
    trigger: str | None = None
    outcome: str | None = None
    outcome_kind: str | None = None
    started_at: dt.datetime | None = None
    clock: dt.datetime | None = None
    offers: tuple[OfferRecord, ...] = ()
    slas: Mapping[str, SlaRecord] = attrs.field(factory=dict)
    measures: Mapping[str, tuple[Decimal, ...]] = attrs.field(factory=dict)
    source: str = attrs.field(default="", eq=False)

    @property
    def started(self) -> bool:
        """An instance existed: it has a start time (ended, waiting, cancelled, or an error
        while running). not_triggered records and rejected cases did not start."""
        return self.started_at is not None

    @property
    def time(self) -> dt.datetime | None:
        """The time the report sorts and filters by: the start, else the case's last input
        (`clock`, for not_triggered records); None for a rejected case."""
        return self.started_at if self.started_at is not None else self.clock


# ---- reading ------------------------------------------------------------------------------


def read_results(paths: Iterable[str | Path]) -> list[RunRecord]:
    """Every record of every file, in order; `-` reads standard input.

    A text that is one JSON document (`{"results": [...]}` or a list) gives its records;
    any other is JSON Lines, except that a `.json` file is reported as a document. Raises
    `ResultsError` with every problem found (files that cannot be read included).
    """
    records: list[RunRecord] = []
    problems: list[ResultsProblem] = []
    for raw in paths:
        name = str(raw)
        try:
            text = _read_text(name)
        except UnicodeDecodeError:
            problems.append(ResultsProblem(name, 0, "is not UTF-8 text"))
            continue
        except OSError as error:
            problems.append(ResultsProblem(name, 0, f"cannot be read ({error.strerror or error})"))
            continue
        recs, probs = read_results_text(text, name)
        records.extend(recs)
        problems.extend(probs[:MAX_PER_FILE])
        if len(probs) > MAX_PER_FILE:
            rest = len(probs) - MAX_PER_FILE
            problems.append(ResultsProblem(name, 0, f"... and {rest} more bad lines"))
    if problems:
        raise ResultsError(problems[:MAX_PROBLEMS], max(0, len(problems) - MAX_PROBLEMS))
    return records


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    return Path(name).read_text(encoding="utf-8")


def read_results_text(
    text: str, path: str = "<text>"
) -> tuple[list[RunRecord], list[ResultsProblem]]:
    """The records of one file's text and its problems (as `ResultsProblem`s)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    records: list[RunRecord] = []
    problems: list[ResultsProblem] = []
    # A `.json` file that holds JSON Lines after all is read as such.
    document = _is_document(text) or (path.lower().endswith(".json") and not _all_lines(text))
    items = _document_items(text, path, problems) if document else _lines(text, path, problems)
    for line, value in items:
        try:
            records.append(parse_record(value, path, line))
        except _Bad as error:
            problems.append(ResultsProblem(path, line, str(error)))
    return records, problems


def _is_document(text: str) -> bool:
    """A whole text that is one JSON value holding records: a list or `{"results": ...}`."""
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) or (isinstance(value, dict) and "results" in value)


def _all_lines(text: str) -> bool:
    """Whether every non-blank line is a JSON value on its own (and there is one)."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        for line in lines:
            json.loads(line)
    except ValueError:
        return False
    return bool(lines)


def _lines(text: str, path: str, problems: list[ResultsProblem]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, parse_float=Decimal)
        except ValueError as error:
            problems.append(ResultsProblem(path, number, f"not valid JSON: {_json_reason(error)}"))


def _json_reason(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} (column {error.colno})"
    return str(error)


def _document_items(text: str, path: str, problems: list[ResultsProblem]) -> list[tuple[int, Any]]:
    """The records of a JSON document with the line each starts on."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        problems.append(ResultsProblem(path, error.lineno, f"not valid JSON: {error.msg}"))
        return []
    if isinstance(value, dict):
        if "results" not in value:
            problems.append(ResultsProblem(path, 1, 'expected an object with "results"'))
            return []
        value = value["results"]
        if not isinstance(value, list):
            problems.append(ResultsProblem(path, 1, '"results" must be a list of records'))
            return []
    elif not isinstance(value, list):
        problems.append(ResultsProblem(path, 1, 'expected {"results": [...]} or a list'))
        return []
    lines = _element_lines(text)
    if len(lines) != len(value):  # pragma: no cover - the scanner follows json's grammar
        lines = [1] * len(value)
    return list(zip(lines, value, strict=True))


def _element_lines(text: str) -> list[int]:
    """Line numbers where the elements of the record list start (scanning once more)."""
    decoder = json.JSONDecoder()
    index = _skip(text, 0)
    if text.startswith("{", index):
        index = _skip(text, index + 1)
        while not text.startswith("}", index):
            key, index = decoder.raw_decode(text, index)
            index = _skip(text, index)
            index = _skip(text, index + 1)  # the colon
            if key == "results":
                break
            _, index = decoder.raw_decode(text, index)
            index = _skip(text, index)
            if text.startswith(",", index):
                index = _skip(text, index + 1)
        else:
            return []
    starts: list[int] = []
    index = _skip(text, index + 1)  # the list's "["
    while index < len(text) and not text.startswith("]", index):
        starts.append(text.count("\n", 0, index) + 1)
        _, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
    return starts


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


# ---- one record ----------------------------------------------------------------------------


def parse_record(value: Any, path: str, line: int) -> RunRecord:
    """Check one decoded JSON value against the run-result format (tools.md)."""
    if not isinstance(value, dict):
        raise _Bad(f"a result must be a JSON object, got {_kind(value)}")
    for required in ("case", "workflow", "status"):
        if required not in value:
            raise _Bad(f"missing field {required!r}")
    case = _text(value, "case")
    status = _text(value, "status")
    if status not in STATUSES:
        raise _Bad(f"field status: {status!r} is not one of {', '.join(STATUSES)}")
    version = value.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise _Bad(f"field version: expected an integer, got {_kind(version)}")
    kind = _opt_text(value, "outcome_kind")
    if kind is not None and kind not in OUTCOME_KINDS:
        raise _Bad(f"field outcome_kind: {kind!r} is not one of {', '.join(OUTCOME_KINDS)}")
    return RunRecord(
        case=case,
        workflow=_text(value, "workflow"),
        version=version,
        status=status,
        client=_opt_text(value, "client"),
        trigger=_opt_text(value, "trigger"),
        outcome=_opt_text(value, "outcome"),
        outcome_kind=kind,
        started_at=_opt_time(value.get("started_at"), "started_at"),
        clock=_opt_time(value.get("clock"), "clock"),
        offers=tuple(_offer(item, i) for i, item in enumerate(_list(value, "offers"))),
        slas=_slas(value.get("slas")),
        measures=_measures(value.get("measures")),
        source=f"{path}:{line}",
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _text(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    item = obj.get(key)
    if not isinstance(item, str):
        raise _Bad(f"field {where}{key}: expected text, got {_kind(item)}")
    return item


def _opt_text(obj: Mapping[str, Any], key: str, where: str = "") -> str | None:
    item = obj.get(key)
    if item is None:
        return None
    return _text(obj, key, where)


def _opt_time(item: Any, field: str) -> dt.datetime | None:
    if item is None:
        return None
    if not isinstance(item, str):
        raise _Bad(f"field {field}: expected a time, got {_kind(item)}")
    try:
        return parse_time(item).astimezone(dt.UTC)
    except ValueError as error:
        raise _Bad(f"field {field}: {error}") from None


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    item = obj.get(key)
    if item is None:
        return []
    if not isinstance(item, list):
        raise _Bad(f"field {key}: expected a list, got {_kind(item)}")
    return item


def _money(item: Any, field: str) -> Money | None:
    if item is None:
        return None
    if not isinstance(item, str):
        raise _Bad(f"field {field}: expected money like '500.00 USD', got {_kind(item)}")
    try:
        return Money.parse(item)
    except ValueError as error:
        raise _Bad(f"field {field}: {error}") from None


def _offer(item: Any, index: int) -> OfferRecord:
    where = f"offers[{index}]."
    if not isinstance(item, dict):
        raise _Bad(f"field offers[{index}]: expected an object, got {_kind(item)}")
    return OfferRecord(
        kind=_text(item, "kind", where),
        status=_text(item, "status", where),
        requested=_money(item.get("requested"), where + "requested"),
        amount=_money(item.get("amount"), where + "amount"),
        reason=_opt_text(item, "reason", where),
    )


def _slas(item: Any) -> dict[str, SlaRecord]:
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise _Bad(f"field slas: expected an object, got {_kind(item)}")
    slas: dict[str, SlaRecord] = {}
    for name, sla in item.items():
        where = f"slas.{name}."
        if not isinstance(sla, dict):
            raise _Bad(f"field slas.{name}: expected an object, got {_kind(sla)}")
        status = _text(sla, "status", where)
        if status not in SLA_STATUSES:
            raise _Bad(f"field {where}status: {status!r} is not one of {', '.join(SLA_STATUSES)}")
        slas[name] = SlaRecord(
            status=status,
            started_at=_opt_time(sla.get("started_at"), where + "started_at"),
            completed_at=_opt_time(sla.get("completed_at"), where + "completed_at"),
            paused=sla.get("paused") is True,
        )
    return slas


def _measures(item: Any) -> dict[str, tuple[Decimal, ...]]:
    if item is None:
        return {}
    if not isinstance(item, dict):
        raise _Bad(f"field measures: expected an object, got {_kind(item)}")
    measures: dict[str, tuple[Decimal, ...]] = {}
    for name, values in item.items():
        if not isinstance(values, list):
            raise _Bad(f"field measures.{name}: expected a list of numbers, got {_kind(values)}")
        numbers: list[Decimal] = []
        for index, number in enumerate(values):
            if isinstance(number, bool) or not isinstance(number, int | Decimal | float):
                raise _Bad(
                    f"field measures.{name}[{index}]: expected a number, got {_kind(number)}"
                )
            numbers.append(Decimal(str(number)) if isinstance(number, float) else Decimal(number))
        measures[name] = tuple(numbers)
    return measures
