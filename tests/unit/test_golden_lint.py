"""Golden diagnostics: every `tests/golden/lint/*.rflow` gives the `render_text` output
stored beside it in `*.txt`. Regenerate with `RETAINFLOW_REGENERATE=1 pytest
tests/unit/test_golden_lint.py` and review the diff by eye."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retainflow.analysis import analyze_text
from retainflow.diagnostics import render_text

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "lint"
CASES = sorted(GOLDEN.glob("*.rflow"))
REGENERATE = os.environ.get("RETAINFLOW_REGENERATE") == "1"


def rendered(path: Path) -> str:
    analysis = analyze_text(path.read_text(encoding="utf-8"), f"tests/golden/lint/{path.name}")
    return render_text(analysis.report)


def test_there_are_enough_golden_workflows() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_diagnostics(path: Path) -> None:
    expected_path = path.with_suffix(".txt")
    actual = rendered(path)
    if REGENERATE or not expected_path.exists():
        expected_path.write_text(actual, encoding="utf-8")
        if not REGENERATE:
            pytest.fail(f"{expected_path.name} did not exist: written, review it")
    assert actual == expected_path.read_text(encoding="utf-8")
    # each golden workflow is deliberately broken in several ways
    assert actual.count("error[") + actual.count("warning[") >= 3
