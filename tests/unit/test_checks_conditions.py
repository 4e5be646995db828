"""RF601/RF602: guards that can never hold or always hold, found by interval reasoning."""

from __future__ import annotations

import pytest

from retainflow.analysis import parse_workflow
from retainflow.checks.conditions import check_conditions
from retainflow.diagnostics import location
from retainflow.source import SourceFile

HEAD = """workflow w version 1
case {
  client: text
  csat: number?
  score: number
  tier: enum(bronze, silver, gold)
  vip: bool
  arr: money(USD)
  note: text?
}
event answered { score: number }
const floor = 2
start a
"""
TAIL = "\noutcome done\n"


def diagnose(guard: str) -> list[tuple[str, int, int]]:
    text = HEAD + f"step a {{\n  when {guard} -> done\n  -> done\n}}" + TAIL
    source = SourceFile("w.rflow", text)
    workflow, problems = parse_workflow(source)
    assert workflow is not None, problems
    result = []
    for diag in check_conditions(workflow):
        loc = location(source, diag.span)
        result.append((diag.code, loc["line"], loc["column"]))
    return result


@pytest.mark.parametrize(
    "guard",
    [
        "case.csat < 2 and case.csat > 4",
        "case.score >= 5 and case.score < 5",
        'case.tier == "gold" and case.tier == "silver"',
        'case.tier in ["gold"] and case.tier not in ["gold", "silver"]',
        "case.vip and not case.vip",
        "case.arr > 100 USD and case.arr < 50 USD",
        "case.csat is none and case.csat >= 0",
        "case.score < floor and case.score > floor",
        "false",
    ],
)
def test_unsatisfiable(guard: str) -> None:
    assert diagnose(guard) == [("RF601", 15, 8)]


@pytest.mark.parametrize(
    "guard",
    [
        "case.score >= 1 or case.score < 1",
        'case.tier in ["bronze", "silver", "gold"]',
        'case.tier != "gold" or case.tier != "silver"',
        "case.vip or not case.vip",
        "case.csat is none or case.csat is not none",
        "true",
    ],
)
def test_always_true(guard: str) -> None:
    assert diagnose(guard) == [("RF602", 15, 8)]


@pytest.mark.parametrize(
    "guard",
    [
        "case.csat >= 1 or case.csat < 1",  # optional: none makes both false
        "case.score >= 4",
        'case.tier == "gold" or case.vip',
        "case.score > 2 and case.score < 3",  # 2.5 satisfies it
        'contains(case.client, "x") or case.score < 1',  # opaque atom
        'case.note == "x" or case.note != "x"',  # none != "x" holds too... and none == "x" no
        "elapsed > 3d",
    ],
)
def test_depends_on_the_case(guard: str) -> None:
    verdicts = diagnose(guard)
    if guard.startswith("case.note"):
        # `!=` with none is true, so this one always holds even for an optional field.
        assert verdicts == [("RF602", 15, 8)]
    else:
        assert verdicts == []


def test_event_guards_use_the_event_schema() -> None:
    text = (
        HEAD
        + (
            "step a {\n  on answered when event.score > 4 and event.score < 3 -> done\n"
            "  on answered -> done\n}"
        )
        + TAIL
    )
    source = SourceFile("w.rflow", text)
    workflow, _ = parse_workflow(source)
    assert workflow is not None
    [diag] = check_conditions(workflow)
    assert diag.code == "RF601"
    assert location(source, diag.span)["column"] == 20


def test_complete_example_has_no_constant_guards() -> None:
    from tests.support import COMPLETE_EXAMPLE, require_conformance

    require_conformance()
    workflow, _ = parse_workflow(SourceFile("x", COMPLETE_EXAMPLE.read_text(encoding="utf-8")))
    assert workflow is not None
    assert check_conditions(workflow) == []
