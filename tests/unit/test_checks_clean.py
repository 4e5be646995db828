"""Correct workflows give no diagnostics at all: the complete example of language.md and
every reference playbook in `workflows/`. Also the shape of the check registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from retainflow.analysis import analyze_text, parse_workflow
from retainflow.checks import CHECKS, build_context, on_workflow, run_checks
from retainflow.diagnostics import Diagnostic, render_text
from retainflow.source import SourceFile, Span
from tests.support import COMPLETE_EXAMPLE, ROOT, require_conformance

WORKFLOWS = sorted((ROOT / "workflows").glob("*.rflow"))


def _render(path: Path) -> str:
    analysis = analyze_text(path.read_text(encoding="utf-8"), path.name)
    return render_text(analysis.report)


def test_the_complete_example_has_no_diagnostics() -> None:
    require_conformance()
    assert _render(COMPLETE_EXAMPLE) == ""


@pytest.mark.skipif(not WORKFLOWS, reason="no reference workflows yet")
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_reference_workflows_have_no_diagnostics(path: Path) -> None:
    assert _render(path) == ""


def test_checks_are_registered_once_and_are_pure() -> None:
    require_conformance()
    assert len(set(CHECKS)) == len(CHECKS)
    analysis = analyze_text(COMPLETE_EXAMPLE.read_text(encoding="utf-8"))
    assert analysis.workflow is not None
    ctx = build_context(analysis.workflow, analysis.source)
    assert [name for name in ctx.steps][:2] == ["listen", "apologize"]
    assert str(ctx.case_fields["arr"]) == "money(USD)"
    assert str(ctx.events["survey_answered"].fields["score"]) == "number"
    assert str(ctx.const_types["vip_arr"]) == "money(USD)"
    for check in CHECKS:
        assert check(ctx) == [], check.__name__
    # running twice gives the same answer: no check keeps state between runs
    assert run_checks(analysis.workflow, analysis.source) == []


def test_workflow_checks_slot_in_and_skip_shapeless_workflows() -> None:
    def always(workflow: object) -> list[Diagnostic]:
        return [Diagnostic("RF202", Span(0, 1), "x")]

    for text, expected in [
        ("workflow w version 1\nstart s\nstep s { -> done }\noutcome done\n", 1),
        ("workflow w version 1\nstep s { -> s }\n", 0),
    ]:
        source = SourceFile("w.rflow", text)
        workflow, _ = parse_workflow(source)
        assert workflow is not None
        ctx = build_context(workflow, source)
        assert len(on_workflow(always, needs_shape=True)(ctx)) == expected
        assert len(on_workflow(always)(ctx)) == 1
