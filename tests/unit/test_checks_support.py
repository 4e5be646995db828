"""Helpers for the semantic check tests: lint a text, find where a snippet stands.

Tests say where a diagnostic must be by quoting the text it points at (`at(text,
"esclate")`), so they stay readable and do not break when a line is added above.
"""

from __future__ import annotations

import attrs

from retainflow.analysis import analyze_text
from retainflow.diagnostics import location


@attrs.frozen
class Found:
    code: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    label: str | None
    suggestion: str | None
    related: tuple[tuple[int, int], ...]


def lint(text: str) -> list[Found]:
    """Every diagnostic of `text`, in report order."""
    analysis = analyze_text(text, "t.rflow")
    report = analysis.report
    found = []
    for diag in report.diagnostics:
        loc = location(report.source, diag.span)
        related = tuple(
            (location(report.source, r.span)["line"], location(report.source, r.span)["column"])
            for r in diag.related
        )
        found.append(
            Found(
                diag.code,
                loc["line"],
                loc["column"],
                loc["end_line"],
                loc["end_column"],
                diag.message,
                diag.label,
                diag.suggestion,
                related,
            )
        )
    return found


def codes(text: str) -> list[str]:
    return [d.code for d in lint(text)]


def only(text: str, code: str) -> list[Found]:
    """The diagnostics of one code."""
    return [d for d in lint(text) if d.code == code]


def one(text: str, code: str) -> Found:
    """The single diagnostic of `code` (fails when there are none or several)."""
    found = only(text, code)
    assert len(found) == 1, (code, lint(text))
    return found[0]


def at(text: str, snippet: str, occurrence: int = 1) -> tuple[int, int, int]:
    """(line, column, end column) of the `occurrence`-th `snippet` in `text`, 1-based."""
    index = -1
    for _ in range(occurrence):
        index = text.index(snippet, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column, column + len(snippet)


def inside(text: str, context: str, name: str, occurrence: int = 1) -> tuple[int, int, int]:
    """(line, column, end column) of the last `name` inside the `occurrence`-th `context`."""
    line, column, _ = at(text, context, occurrence)
    offset = context.rindex(name)
    return line, column + offset, column + offset + len(name)


def where(found: Found) -> tuple[int, int, int]:
    return found.line, found.column, found.end_column


def assert_clean(text: str) -> None:
    found = lint(text)
    assert found == [], found


CASE = """case {
  client: text
  tier: enum(bronze, silver, gold, platinum)
  arr: money(USD)
  csat: number?
  renewal: time
  tags: list(text)
  vip: bool?
}
"""


def flow(body: str, case: str = CASE, outcome: str = "outcome done as retained\n") -> str:
    """A workflow around `body`: header, a case schema, `body`, and an outcome."""
    return "workflow t version 1\n" + case + body + outcome


def step(statements: str, extra: str = "") -> str:
    """A valid workflow whose only step `s` holds `statements` (plus `-> done`)."""
    return flow(extra + "start s\nstep s {\n" + statements + "\n  -> done\n}\n")


def test_helpers_locate_snippets() -> None:
    text = "ab\ncd cd\n"
    assert at(text, "cd") == (2, 1, 3)
    assert at(text, "cd", 2) == (2, 4, 6)


def test_the_base_workflow_is_clean() -> None:
    assert_clean(step('do send(template: "hello")'))
