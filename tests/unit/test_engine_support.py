"""Helpers shared by the engine tests (no tests here): tiny workflows, times, records."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from typing import Any

import retainflow
from retainflow.analysis import analyze_text
from retainflow.compile import Workflow, compile_workflow
from retainflow.engine import Engine

UTC = dt.UTC
# Monday 2 March 2026, 09:00 UTC.
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(hours: float = 0, days: float = 0, minutes: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours, minutes=minutes)


def flow(body: str, name: str = "w", version: int = 1) -> Workflow:
    """A workflow from its body (the header is added); it must load without errors."""
    return retainflow.load(f"workflow {name} version {version}\n" + textwrap.dedent(body))


def unchecked(body: str, name: str = "w") -> Workflow:
    """Compile without the checks (for what only a broken workflow can do)."""
    analysis = analyze_text(f"workflow {name} version 1\n" + textwrap.dedent(body))
    assert analysis.workflow is not None
    return compile_workflow(analysis.workflow, analysis.source)


def record(engine: Engine, case: str, index: int = -1) -> dict[str, Any]:
    """A run-result record of the case, as JSON would carry it."""
    records = engine.records(case)
    return json.loads(json.dumps(records[index], ensure_ascii=False))


def names(engine: Engine, case: str) -> list[str]:
    return [a["name"] for a in record(engine, case)["actions"]]
