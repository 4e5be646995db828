"""Diagnostics as data: the check catalog, and renderers for people and machines.

Input: `Diagnostic` values (a catalog code, a span, a message) produced by the parser,
the lowering and the checks, grouped per file as `FileDiagnostics`. Output: rustc-like
text, the JSON document of tools.md, SARIF 2.1.0 and GitHub workflow commands.
"""

from __future__ import annotations

import enum
import json
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from retainflow.source import SourceFile, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Check:
    """One row of the check catalog (tools.md, "Required checks")."""

    code: str
    name: str
    severity: Severity
    summary: str


_E, _W = Severity.ERROR, Severity.WARNING
CATALOG_ROWS = (
    Check(
        "RF001", "syntax-error", _E, "the text does not parse, or a reserved word names something"
    ),
    Check(
        "RF002",
        "invalid-literal",
        _E,
        "a bad duration, currency, time zone, country code, date, time of day, percent or "
        "count, or an invalid calendar",
    ),
    Check(
        "RF003",
        "expression-too-complex",
        _E,
        "an expression nested deeper than 32 or larger than 1,000 nodes",
    ),
    Check(
        "RF101",
        "undefined-target",
        _E,
        "a transition, start, SLA until/from/breach or pause names no step or outcome",
    ),
    Check(
        "RF102",
        "duplicate-definition",
        _E,
        "two definitions share a name, or a step has a second wait, due or every",
    ),
    Check("RF103", "unknown-field", _E, "a case or declared event field that the schema lacks"),
    Check(
        "RF104",
        "unknown-enum-value",
        _E,
        "a string compared with an enum field is not one of its members",
    ),
    Check(
        "RF105",
        "unused-definition",
        _W,
        "a calendar, constant, declared event or action, or limit that nothing uses",
    ),
    Check(
        "RF106",
        "undefined-name",
        _E,
        "an unknown calendar, constant, function or parameter, or a name used where it "
        "is not available",
    ),
    Check("RF201", "missing-start", _E, "no `start`, or no step at all"),
    Check("RF202", "unreachable-step", _W, "a step or outcome no path from `start` reaches"),
    Check("RF203", "dead-end", _E, "a step with no outgoing edge"),
    Check(
        "RF204", "no-path-to-outcome", _E, "a reachable step from which no outcome can be reached"
    ),
    Check(
        "RF205",
        "instant-loop",
        _E,
        "a cycle of immediate transitions through steps none of which has `wait`",
    ),
    Check(
        "RF206",
        "shadowed-transition",
        _W,
        "a transition that can never be taken because an earlier one always wins",
    ),
    Check("RF207", "no-outcome", _E, "the workflow declares no outcome"),
    Check(
        "RF208",
        "may-stall",
        _W,
        "a step whose only outgoing edges are guarded immediate transitions",
    ),
    Check("RF301", "type-mismatch", _E, "operands or arguments of the wrong type or number"),
    Check("RF302", "currency-mismatch", _E, "money of two currencies meet"),
    Check("RF401", "timeout-without-due", _E, "`on timeout` in a step with no `due`"),
    Check("RF402", "due-without-timeout", _W, "`due` in a step with no `on timeout`"),
    Check("RF403", "sla-target-unreachable", _E, "no path from the SLA's start reaches its target"),
    Check(
        "RF404",
        "sla-certain-breach",
        _W,
        "every path to the SLA's target waits longer than the SLA allows",
    ),
    Check("RF405", "non-positive-duration", _E, "a zero or negative duration"),
    Check("RF406", "warn-too-early", _E, "an SLA `warn` not shorter than the SLA"),
    Check("RF501", "offer-without-limit", _W, "an `offer` of a kind that no money limit covers"),
    Check(
        "RF502", "offer-exceeds-limit", _W, "a constant offer is above a constant per-case limit"
    ),
    Check(
        "RF503",
        "missing-client-field",
        _E,
        "a per-client limit, but the case schema has no `client` field",
    ),
    Check("RF601", "unsatisfiable-condition", _W, "a guard that can never hold"),
    Check("RF602", "constant-condition", _W, "a guard that always holds"),
    Check("RF901", "unused-suppression", _W, "an ignore comment that suppresses nothing"),
)
CATALOG: dict[str, Check] = {check.code: check for check in CATALOG_ROWS}


@attrs.frozen
class Related:
    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    """One problem at one place. `label` is the text under the caret (a hint)."""

    code: str
    span: Span
    message: str
    label: str | None = None
    suggestion: str | None = None
    related: tuple[Related, ...] = ()
    severity: Severity | None = None  # None: the catalog's severity

    def __attrs_post_init__(self) -> None:
        if self.code not in CATALOG:
            raise ValueError(f"unknown check code {self.code}")

    @property
    def check(self) -> Check:
        return CATALOG[self.code]

    @property
    def effective_severity(self) -> Severity:
        return self.severity or self.check.severity


@attrs.frozen
class FileDiagnostics:
    """The diagnostics of one file, in report order (line, column, code)."""

    source: SourceFile
    diagnostics: tuple[Diagnostic, ...]

    @classmethod
    def of(cls, source: SourceFile, diagnostics: Iterable[Diagnostic]) -> FileDiagnostics:
        return cls(source, tuple(sorted(diagnostics, key=lambda d: _sort_key(source, d))))


def _sort_key(source: SourceFile, diag: Diagnostic) -> tuple[int, int, str, int]:
    pos = source.position(diag.span.start)
    return (pos.line, pos.column, diag.code, diag.span.end)


# ---- renderers ----------------------------------------------------------------------


def location(source: SourceFile, span: Span) -> dict[str, int]:
    start = source.position(span.start)
    end = source.position(max(span.end, span.start))
    if span.end <= span.start:
        end = type(end)(start.line, start.column + 1)
    return {
        "line": start.line,
        "column": start.column,
        "end_line": end.line,
        "end_column": end.column,
    }


def render_text(report: FileDiagnostics, color: bool = False) -> str:
    """rustc-like text: `path:line:col: severity[CODE name]: message`, source, carets."""
    blocks = [_render_one(report.source, diag, color) for diag in report.diagnostics]
    return "\n".join(blocks)  # a blank line between diagnostics, as rustc does


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _render_one(source: SourceFile, diag: Diagnostic, color: bool) -> str:
    loc = location(source, diag.span)
    severity = diag.effective_severity
    sev_text = _paint(str(severity), "1;31" if severity is Severity.ERROR else "1;33", color)
    head = (
        f"{source.path}:{loc['line']}:{loc['column']}: "
        f"{sev_text}[{diag.code} {diag.check.name}]: {diag.message}\n"
    )
    lines = [head]
    lines.extend(_excerpt(source, diag.span, diag.label, color))
    for related in diag.related:
        rloc = location(source, related.span)
        lines.append(
            f"   = note: {related.message} at {source.path}:{rloc['line']}:{rloc['column']}\n"
        )
    return "".join(lines)


_MAX_SHOWN = 100  # columns of a source line shown around the span
_MAX_CARETS = 60


def _excerpt(source: SourceFile, span: Span, label: str | None, color: bool) -> list[str]:
    loc = location(source, span)
    line_no = loc["line"]
    text = source.line_text(line_no)
    gutter = " " * len(str(line_no))
    start_col = loc["column"]
    end_col = loc["end_column"] if loc["end_line"] == line_no else len(text) + 1
    # A very long line is shown as a window that starts a little before the span.
    offset = 0
    if len(text) > _MAX_SHOWN:
        offset = max(0, start_col - 1 - 20)
        shown = text[offset : offset + _MAX_SHOWN]
        text = (
            ("..." if offset else "") + shown + ("..." if offset + _MAX_SHOWN < len(text) else "")
        )
        if offset:
            offset -= 3  # the leading "..."
    width = max(1, end_col - start_col)
    more = width > _MAX_CARETS
    carets = _paint("^" * min(width, _MAX_CARETS) + ("..." if more else ""), "1;31", color)
    under = " " * (start_col - 1 - offset) + carets + (f" {label}" if label else "")
    return [f"{gutter} |\n", f"{line_no} | {text}\n", f"{gutter} | {under.rstrip()}\n"]


def to_json_document(reports: Sequence[FileDiagnostics], files: int) -> dict[str, Any]:
    """The object of `lint --format json` (tools.md)."""
    items: list[dict[str, Any]] = []
    for report in reports:
        for diag in report.diagnostics:
            item: dict[str, Any] = {"file": report.source.path}
            item.update(location(report.source, diag.span))
            item.update(
                {
                    "severity": str(diag.effective_severity),
                    "code": diag.code,
                    "name": diag.check.name,
                    "message": diag.message,
                }
            )
            if diag.suggestion is not None:
                item["suggestion"] = diag.suggestion
            items.append(item)
    return {"version": 1, "files": files, "diagnostics": items}


def render_json(reports: Sequence[FileDiagnostics], files: int) -> str:
    return json.dumps(to_json_document(reports, files), ensure_ascii=False, indent=None) + "\n"


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


# ---- SARIF 2.1.0 (GitHub code scanning) ------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/retainflow/retainflow"


def _sarif_level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _sarif_region(source: SourceFile, span: Span) -> dict[str, int]:
    loc = location(source, span)
    return {
        "startLine": loc["line"],
        "startColumn": loc["column"],
        "endLine": loc["end_line"],
        "endColumn": loc["end_column"],
    }


def _sarif_location(source: SourceFile, span: Span, message: str | None = None) -> dict[str, Any]:
    artifact: dict[str, str] = {"uri": source.path, "uriBaseId": "%SRCROOT%"}
    if source.path.startswith("/"):  # outside the current directory: an absolute file URI
        artifact = {"uri": "file://" + urllib.parse.quote(source.path)}
    physical = {
        "artifactLocation": artifact,
        "region": _sarif_region(source, span),
    }
    result: dict[str, Any] = {"physicalLocation": physical}
    if message is not None:
        result["message"] = {"text": message}
    return result


def to_sarif(
    reports: Sequence[FileDiagnostics],
    version: str,
    help_text: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; `help_text` maps a code to (text, markdown)."""
    rules = []
    for check in CATALOG_ROWS:
        text, markdown = (help_text or {}).get(check.code, (check.summary, check.summary))
        rules.append(
            {
                "id": check.code,
                "name": check.name,
                "shortDescription": {"text": f"{check.name}: {check.summary}"},
                "fullDescription": {"text": check.summary},
                "help": {"text": text, "markdown": markdown},
                "defaultConfiguration": {"level": _sarif_level(check.severity)},
                "properties": {"tags": [check.name]},
            }
        )
    index = {check.code: position for position, check in enumerate(CATALOG_ROWS)}
    results = []
    for report in reports:
        for diag in report.diagnostics:
            result: dict[str, Any] = {
                "ruleId": diag.code,
                "ruleIndex": index[diag.code],
                "level": _sarif_level(diag.effective_severity),
                "message": {"text": diag.message},
                "locations": [_sarif_location(report.source, diag.span)],
            }
            if diag.related:
                result["relatedLocations"] = [
                    dict(_sarif_location(report.source, rel.span, rel.message), id=number)
                    for number, rel in enumerate(diag.related)
                ]
            results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "retainflow",
                        "informationUri": INFORMATION_URI,
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render_sarif(
    reports: Sequence[FileDiagnostics],
    version: str,
    help_text: dict[str, tuple[str, str]] | None = None,
) -> str:
    return json.dumps(to_sarif(reports, version, help_text), ensure_ascii=False, indent=2) + "\n"


# ---- GitHub workflow commands ------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: Sequence[FileDiagnostics], files: int) -> str:
    """`::error file=...,line=...::message` lines, then a summary naming the totals
    (GitHub shows only the first annotations of a step)."""
    lines: list[str] = []
    errors = warnings = 0
    for report in reports:
        for diag in report.diagnostics:
            loc = location(report.source, diag.span)
            severity = diag.effective_severity
            if severity is Severity.ERROR:
                errors += 1
            else:
                warnings += 1
            props = ",".join(
                f"{key}={_escape_property(str(value))}"
                for key, value in (
                    ("file", report.source.path),
                    ("line", loc["line"]),
                    ("col", loc["column"]),
                    ("endLine", loc["end_line"]),
                    ("endColumn", loc["end_column"]),
                    ("title", f"{diag.code} {diag.check.name}"),
                )
            )
            lines.append(f"::{severity}{' ' + props}::{_escape_data(diag.message)}")
    lines.append(
        f"::notice title=retainflow lint::{errors} error{'s' * (errors != 1)} and "
        f"{warnings} warning{'s' * (warnings != 1)} in {files} file{'s' * (files != 1)}"
    )
    return "\n".join(lines) + "\n"
