"""Shared test helpers: where the design's conformance set lives, and parsing shortcuts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The design folder `shared/` sits beside the project's root (DEVELOPERS.md);
# RETAINFLOW_SHARED points elsewhere when a checkout lives somewhere else.
SHARED = Path(os.environ.get("RETAINFLOW_SHARED") or ROOT.parent / "shared")
CONFORMANCE = SHARED / "conformance"
COMPLETE_EXAMPLE = CONFORMANCE / "run" / "reactive_retention" / "reactive_retention.rflow"


def require_conformance() -> Path:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"the conformance set is not at {CONFORMANCE}")
    return CONFORMANCE
