"""Shared test helpers: where the design's conformance set lives, and parsing shortcuts."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The design folder `shared/` sits beside the project's root (DEVELOPERS.md);
# RETAINFLOW_SHARED points elsewhere when a checkout lives somewhere else.
SHARED = Path(os.environ.get("RETAINFLOW_SHARED") or ROOT.parent / "shared")
CONFORMANCE = SHARED / "conformance"
RUN_EXAMPLE = CONFORMANCE / "run" / "reactive_retention"
COMPLETE_EXAMPLE = RUN_EXAMPLE / "reactive_retention.rflow"


def require_conformance() -> Path:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"the conformance set is not at {CONFORMANCE}")
    return CONFORMANCE


def expected_records() -> list[dict[str, Any]]:
    """The run example's expected JSON Lines records (conformance/README: how to compare)."""
    lines = (RUN_EXAMPLE / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def error_prefix(error: str) -> str:
    match = re.match(r"case [^:]+: (field|step) [^:]+:", error)
    assert match, error
    return match.group(0)


def compare_records(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Every record, every field, in key order; `error` by its fixed prefix."""
    assert [r["case"] for r in got] == [r["case"] for r in want]
    for mine, theirs in zip(got, want, strict=True):
        assert list(mine) == list(theirs), f"key order of {theirs['case']}"
        for key, value in theirs.items():
            if key == "error" and value is not None:
                assert mine[key] is not None
                assert mine[key].startswith(error_prefix(value)), (theirs["case"], mine[key])
                continue
            assert mine[key] == value, f"{theirs['case']}: {key}"
