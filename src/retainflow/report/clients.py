"""Client books in, client retention out: rows `client, since, until` (CSV or YAML) and a
period give S, N, E, the clients lost, the client retention rate ((E - N) / S) x 100, the
churn rate (lost / S) x 100 and the simple retention rate (E / S) x 100 of domain.md.

    >>> rows = [ClientRow("a", _t("2025-01-01"), None), ClientRow("b", _t("2025-01-01"),
    ...         _t("2026-06-01")), ClientRow("c", _t("2026-02-01"), None)]
    >>> m = client_retention(rows, _t("2026-01-01"), _t("2027-01-01"))
    >>> m.start, m.new, m.end, m.lost, m.retention_rate, m.churn_rate
    (2, 1, 2, 1, Decimal('50.0'), Decimal('50.0'))

A row is one relationship: the client is on the books from `since` until `until` (the
date the client left; empty while still a client). A date is 00:00 UTC of that day; a
time must carry an offset. S counts the clients on the books when the period starts
(joined before it, not yet gone), E those on the books when it ends, N the clients who
joined during the period and were not on the books at its start, lost the clients of S
not on the books at the end. So every join and every departure falls in exactly one of
consecutive periods.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import yaml

from retainflow.report.records import ResultsError, ResultsProblem
from retainflow.report.rounding import percent

__all__ = ["ClientMetrics", "ClientRow", "client_retention", "parse_instant", "read_clients"]


@attrs.frozen
class ClientRow:
    client: str
    since: dt.datetime
    until: dt.datetime | None


@attrs.frozen
class ClientMetrics:
    period_start: dt.datetime
    period_end: dt.datetime
    clients: int  # distinct clients in the file
    start: int  # S
    new: int  # N
    end: int  # E
    lost: int  # of S, gone by the end
    retention_rate: Decimal | None  # ((E - N) / S) x 100
    churn_rate: Decimal | None  # lost / S x 100
    simple_retention_rate: Decimal | None = None  # E / S x 100 (domain.md: no new ones)


def parse_instant(text: str) -> dt.datetime:
    """`2026-03-01` (00:00 UTC) or a time with an offset; ValueError otherwise."""
    text = text.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if len(text) == 10:
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected a date like 2026-03-01 or a time with an offset, got {text!r}"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {text!r} has no UTC offset (add one, like +08:00 or Z)")
    return value.astimezone(dt.UTC)


def _t(text: str) -> dt.datetime:
    return parse_instant(text)


def client_retention(
    rows: Iterable[ClientRow], period_start: dt.datetime, period_end: dt.datetime
) -> ClientMetrics:
    """The client metrics of the period [period_start, period_end)."""
    rows = list(rows)

    def on_books(t: dt.datetime) -> set[str]:
        # Joined before t and not gone before t. A client who joins exactly at a period's
        # start is new in it; one who leaves exactly then is lost in it.
        return {r.client for r in rows if r.since < t and (r.until is None or r.until >= t)}

    at_start = on_books(period_start)
    at_end = on_books(period_end)
    joined = {r.client for r in rows if period_start <= r.since < period_end}
    new = joined - at_start
    lost = at_start - at_end
    s = len(at_start)
    return ClientMetrics(
        period_start=period_start,
        period_end=period_end,
        clients=len({r.client for r in rows}),
        start=s,
        new=len(new),
        end=len(at_end),
        lost=len(lost),
        retention_rate=percent(len(at_end) - len(new), s),
        churn_rate=percent(len(lost), s),
        simple_retention_rate=percent(len(at_end), s),
    )


# ---- reading ------------------------------------------------------------------------------


def read_clients(path: str | Path) -> list[ClientRow]:
    """Rows of a CSV file (header `client,since,until`) or a YAML file (`.yaml`/`.yml`: a
    list of mappings, or `{clients: [...]}`). Raises `ResultsError` with every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ResultsError([ResultsProblem(name, 0, "is not UTF-8 text")]) from None
    except OSError as error:
        raise ResultsError(
            [ResultsProblem(name, 0, f"cannot be read ({error.strerror or error})")]
        ) from None
    return read_clients_text(text, name)


def read_clients_text(text: str, path: str = "<clients.csv>") -> list[ClientRow]:
    problems: list[ResultsProblem] = []
    if path.lower().endswith((".yaml", ".yml")):
        raw = _yaml_rows(text, path, problems)
    else:
        raw = _csv_rows(text, path, problems)
    rows: list[ClientRow] = []
    for line, fields in raw:
        try:
            rows.append(_row(fields))
        except ValueError as error:
            problems.append(ResultsProblem(path, line, str(error)))
    if problems:
        raise ResultsError(problems)
    return rows


def _row(fields: dict[str, str | None]) -> ClientRow:
    client = (fields.get("client") or "").strip()
    if not client:
        raise ValueError("a row needs a client")
    since_text = (fields.get("since") or "").strip()
    if not since_text:
        raise ValueError(f"client {client}: a row needs since (when the client joined)")
    try:
        since = parse_instant(since_text)
    except ValueError as error:
        raise ValueError(f"client {client}: since: {error}") from None
    until_text = (fields.get("until") or "").strip()
    until = None
    if until_text:
        try:
            until = parse_instant(until_text)
        except ValueError as error:
            raise ValueError(f"client {client}: until: {error}") from None
        if until < since:
            raise ValueError(f"client {client}: until {until_text} is before since {since_text}")
    return ClientRow(client, since, until)


def _csv_rows(
    text: str, path: str, problems: list[ResultsProblem]
) -> list[tuple[int, dict[str, str | None]]]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str | None]]] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            missing = [col for col in ("client", "since") if col not in header]
            if missing:
                problems.append(
                    ResultsProblem(path, line, "expected a header row `client,since,until`")
                )
                return []
            continue
        values: dict[str, str | None] = dict(zip(header, cells, strict=False))
        rows.append((line, values))
    return rows


def _yaml_rows(
    text: str, path: str, problems: list[ResultsProblem]
) -> list[tuple[int, dict[str, str | None]]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problems.append(ResultsProblem(path, line, f"not valid YAML: {_yaml_reason(error)}"))
        return []
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode):
        items = {_scalar(k): v for k, v in root.value}
        if "clients" not in items:
            problems.append(ResultsProblem(path, 1, "expected a list of clients or `clients:`"))
            return []
        root = items["clients"]
    if not isinstance(root, yaml.SequenceNode):
        problems.append(ResultsProblem(path, root.start_mark.line + 1, "expected a list of rows"))
        return []
    rows: list[tuple[int, dict[str, str | None]]] = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(ResultsProblem(path, line, "a row must be a mapping"))
            continue
        rows.append((line, {_scalar(k): _scalar_or_none(v) for k, v in node.value}))
    return rows


def _yaml_reason(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    return str(problem) if problem else str(error).splitlines()[0]


def _scalar(node: Any) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _scalar_or_none(node: Any) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag == "tag:yaml.org,2002:null" or (node.value in ("", "~", "null") and not node.style):
        return None
    return str(node.value)
