"""Check explanations: one per catalog code, the `--explain` text, SARIF help, the catalog
page, and rflow examples that say what they claim."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from retainflow.analysis import analyze_text, parse_workflow
from retainflow.diagnostics import CATALOG, CATALOG_ROWS, Severity
from retainflow.explain import (
    EXPLANATIONS,
    Explanation,
    checks_markdown,
    explain_text,
    sarif_help,
)
from retainflow.source import SourceFile
from tests.support import ROOT

CODES = [check.code for check in CATALOG_ROWS]
DOC = ROOT / "docs" / "checks.md"
SCRIPT = ROOT / "scripts" / "gen_checks_doc.py"
# Codes the parser and the lowering report, before any check runs.
FRONT_END_CODES = {"RF001", "RF002", "RF405"}


def is_workflow(text: str) -> bool:
    """A complete file (it starts with the header) rather than a fragment."""
    lines = [line for line in text.splitlines() if line.strip()]
    code = [line for line in lines if not line.lstrip().startswith("#")]
    return bool(code) and code[0].startswith("workflow ")


def examples(kind: str, codes: Iterable[str] = CODES) -> list[Any]:
    """(code, text) of each complete `kind` example among `codes`, as pytest params."""
    return [
        pytest.param(code, getattr(EXPLANATIONS[code], kind), id=code)
        for code in codes
        if is_workflow(getattr(EXPLANATIONS[code], kind))
    ]


# ---- the explanations ---------------------------------------------------------------------


def test_every_catalog_code_has_an_explanation_and_nothing_else() -> None:
    assert list(EXPLANATIONS) == CODES
    assert len(EXPLANATIONS) == 31


@pytest.mark.parametrize("code", CODES)
def test_explanation_is_complete(code: str) -> None:
    explanation = EXPLANATIONS[code]
    assert isinstance(explanation, Explanation)
    assert explanation.code == code
    for field in ("meaning", "why", "bad", "good", "fix"):
        assert getattr(explanation, field).strip(), f"{code}: empty {field}"
    assert explanation.bad != explanation.good
    assert explanation.fix.endswith("."), "the fix is one sentence"
    for field in ("meaning", "why"):
        text = getattr(explanation, field)
        assert text.endswith("."), f"{code}: {field} is not a sentence"
        assert text.count(". ") <= 3, f"{code}: {field} is more than three sentences"


def test_examples_fit_a_terminal() -> None:
    for code in CODES:
        for kind in ("bad", "good"):
            for line in getattr(EXPLANATIONS[code], kind).splitlines():
                assert len(line) <= 96, f"{code} {kind}: {line!r}"


# ---- explain_text -------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_explain_text_has_the_header_and_sections(code: str) -> None:
    check = CATALOG[code]
    text = explain_text(code)
    assert text.splitlines()[0] == f"{code} {check.name} ({check.severity})"
    positions = [
        text.index(f"\n{section}\n")
        for section in ("What it means", "Why it matters", "Example", "Fixed", "How to fix")
    ]
    assert positions == sorted(positions)
    assert not text.endswith("\n")


def test_explain_text_header_example() -> None:
    assert explain_text("RF101").startswith("RF101 undefined-target (error)\n")
    assert explain_text("RF202").startswith("RF202 unreachable-step (warning)\n")


def test_explain_text_shows_both_examples_indented() -> None:
    text = explain_text("RF101")
    assert "\n      on timeout -> esclate\n" in text
    assert "\n      on timeout -> escalate\n" in text


@pytest.mark.parametrize("spelling", ["rf101", "Rf101", " RF101 ", "rF101"])
def test_codes_are_case_insensitive(spelling: str) -> None:
    assert explain_text(spelling) == explain_text("RF101")


def test_unknown_code_lists_the_codes() -> None:
    with pytest.raises(KeyError) as raised:
        explain_text("RF999")
    message = raised.value.args[0]
    assert "unknown check code 'RF999'" in message
    for check in CATALOG_ROWS:
        assert f"{check.code} {check.name}" in message


def test_a_code_prefix_lists_its_group() -> None:
    with pytest.raises(KeyError) as raised:
        explain_text("rf2")
    message = raised.value.args[0]
    assert "RF201 missing-start" in message and "RF208 may-stall" in message
    assert "RF101" not in message


def test_a_check_name_points_at_its_code() -> None:
    with pytest.raises(KeyError) as raised:
        explain_text("dead-end")
    assert "RF203" in raised.value.args[0]


def test_empty_code_is_unknown() -> None:
    with pytest.raises(KeyError, match="unknown check code"):
        explain_text("")


# ---- SARIF --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_sarif_help_has_text_and_markdown(code: str) -> None:
    text, markdown = sarif_help(code)
    explanation = EXPLANATIONS[code]
    assert text.strip() and markdown.strip()
    assert explanation.meaning in text and explanation.fix in text
    assert "```rflow\n" in markdown and explanation.why in markdown
    assert "```" not in text


def test_sarif_help_is_case_insensitive() -> None:
    assert sarif_help("rf402") == sarif_help("RF402")


# ---- the catalog page ---------------------------------------------------------------------


def test_catalog_page_is_up_to_date() -> None:
    assert DOC.is_file(), "run `python scripts/gen_checks_doc.py`"
    assert DOC.read_text(encoding="utf-8") == checks_markdown(), (
        "docs/checks.md is stale: run `python scripts/gen_checks_doc.py`"
    )


def test_catalog_page_has_a_row_and_a_section_per_code() -> None:
    page = checks_markdown()
    for check in CATALOG_ROWS:
        anchor = f"{check.code.lower()}-{check.name}"
        assert f"| [{check.code}](#{anchor}) | {check.name} | {check.severity} |" in page
        assert f"\n## {check.code} {check.name}\n" in page
    assert page.count("```rflow\n") >= 2 * len(CATALOG_ROWS)
    assert page.count("```") % 2 == 0
    for heading in ("## Suppressing a diagnostic", "## Configuration", "## Command-line"):
        assert f"\n{heading}" in page
    for word in ("# rflow: ignore[", "# rflow: ignore-file[", "[tool.retainflow.lint]"):
        assert word in page
    for option in ("--strict", "--select", "--ignore"):
        assert option in page


def test_script_check_mode(tmp_path: Path) -> None:
    stale = tmp_path / "catalog.md"
    stale.write_text("# old\n", encoding="utf-8")
    command = [sys.executable, str(SCRIPT), "--out", str(stale)]
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert stale.read_text(encoding="utf-8") == checks_markdown()
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0


# ---- the examples -------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "text"), examples("good"))
def test_good_example_parses(code: str, text: str) -> None:
    workflow, diagnostics = parse_workflow(SourceFile(f"{code}-good.rflow", text))
    assert workflow is not None, diagnostics
    assert not diagnostics, diagnostics


def test_every_good_example_is_a_complete_workflow() -> None:
    assert len(examples("good")) == len(CODES)


@pytest.mark.parametrize(("code", "text"), examples("good"))
def test_good_example_is_clean(code: str, text: str) -> None:
    analysis = analyze_text(text, f"{code}-good.rflow")
    assert code not in [d.code for d in analysis.diagnostics]
    errors = [d for d in analysis.diagnostics if d.effective_severity is Severity.ERROR]
    assert not errors, errors


@pytest.mark.parametrize(
    ("code", "text"),
    examples("bad", [code for code in CODES if code in FRONT_END_CODES]),
)
def test_bad_example_fails_in_the_front_end(code: str, text: str) -> None:
    _, diagnostics = parse_workflow(SourceFile(f"{code}-bad.rflow", text))
    assert code in [d.code for d in diagnostics]


@pytest.mark.parametrize(
    ("code", "text"),
    examples("bad", [code for code in CODES if code not in FRONT_END_CODES | {"RF901"}]),
)
def test_bad_example_reports_its_code(code: str, text: str) -> None:
    codes = [d.code for d in analyze_text(text, f"{code}-bad.rflow").diagnostics]
    assert code in codes, f"the bad example of {code} does not report it: {codes}"


def test_bad_suppression_example_reports_rf901(tmp_path: Path) -> None:
    from retainflow.lint import lint_paths

    path = tmp_path / "stale.rflow"
    path.write_text(EXPLANATIONS["RF901"].bad, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    run = lint_paths([path])
    assert "RF901" in [d.code for report in run.reports for d in report.diagnostics]
