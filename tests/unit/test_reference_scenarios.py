"""Every scenario of tests/scenarios, run through the public runner, one pytest case each;
and the coverage those scenarios reach on the five reference workflows."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from retainflow.caseio import read_document
from retainflow.scenarios import Edge, TestRun, failure_lines, run_paths

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.rflow-test.yaml"))


def _names(path: Path) -> list[str]:
    document = read_document(path)
    return [str(item["name"]) for item in document["scenarios"]]


CASES = [(path, name) for path in FILES for name in _names(path)]


@cache
def _run(path: Path) -> TestRun:
    return run_paths([path])


@cache
def _all() -> TestRun:
    return run_paths([SCENARIOS])


def test_there_is_a_scenario_file_for_each_reference_workflow() -> None:
    workflows = sorted(
        p.name.removesuffix(".rflow") for p in SCENARIOS.parents[1].glob("workflows/*.rflow")
    )
    assert [p.name.removesuffix(".rflow-test.yaml") for p in FILES] == workflows


@pytest.mark.parametrize(
    ("path", "name"), CASES, ids=[f"{p.stem.split('.')[0]}: {n}" for p, n in CASES]
)
def test_scenario(path: Path, name: str) -> None:
    run = _run(path)
    (result,) = [r for r in run.results if r.name == name]
    details = "\n".join(line for f in result.failures for line in failure_lines(f))
    assert result.status == "pass", details


# Breach edges the graph has but no run can take because of timing, which the runner's
# static analysis does not see (see docs/testing.md, "Coverage"):
TIMING_IMPOSSIBLE = {
    # listen is entered once, at the start, and times out after 4 open hours, long
    # before the 5 open days of resolution.
    "reactive_retention": {Edge("listen", "escalate", "breach", sla="resolution")},
    # listen times out after 20 open minutes; resolution runs 2 open days.
    "complaint_loyalty": {Edge("listen", "supervisor", "breach", sla="resolution")},
    # crisis_resolution (4h) can breach only before `restored`: acknowledge times out
    # after 10m, contain is first entered within those 10m and times out after 2h (a
    # relapse re-enters it only after `restored`), executive_call is reached only after
    # emergency_team's 6h.
    "crisis_response": {
        Edge("acknowledge", "emergency_team", "breach", sla="crisis_resolution"),
        Edge("contain", "emergency_team", "breach", sla="crisis_resolution"),
        Edge("executive_call", "emergency_team", "breach", sla="crisis_resolution"),
    },
    # detractor_recovery (10 open days) starts in apologize (2 open days), whose only
    # way on is solve (5 open days): 7 open days at most.
    "account_checkins": {
        Edge("apologize", "escalate", "breach", sla="detractor_recovery"),
        Edge("solve", "escalate", "breach", sla="detractor_recovery"),
    },
    # acknowledge times out after 2 open hours; recovery_plan runs 3 open days.
    "sla_recovery": {Edge("acknowledge", "escalate", "breach", sla="recovery_plan")},
}


@pytest.mark.parametrize("workflow", sorted(TIMING_IMPOSSIBLE))
def test_the_scenarios_take_every_step_and_every_takeable_transition(workflow: str) -> None:
    coverage = _all().coverage[workflow]
    assert coverage.missed_steps == []
    missed = {e for e in coverage.missed_edges if e not in coverage.never}
    assert missed == TIMING_IMPOSSIBLE[workflow]
    assert not coverage.ambiguous


def test_the_whole_directory_passes() -> None:
    run = _all()
    assert run.exit_code == 0
    assert run.files == len(FILES)
    assert run.summary["passed"] == len(CASES)
