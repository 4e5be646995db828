"""The normative run example of shared/conformance/run/reactive_retention, loaded as it is.

`retainflow run reactive_retention.rflow cases.yaml --format jsonl` must print
expected.jsonl: every field equal, except `error`, where only the prefix up to the
problem (`case R6a: field tier:`) is fixed. Checked through the CLI and the Python API.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import retainflow
from retainflow.caseio import load_cases
from retainflow.cli import main
from retainflow.results import dumps_line
from retainflow.runtime.batch import run_entries
from tests.support import SHARED, compare_records, expected_records

EXAMPLE = SHARED / "conformance" / "run" / "reactive_retention"

pytestmark = pytest.mark.skipif(not EXAMPLE.is_dir(), reason="shared/ is not beside the project")


def test_cli_prints_expected_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)
    result = CliRunner().invoke(
        main, ["run", "reactive_retention.rflow", "cases.yaml", "--format", "jsonl"]
    )
    code = int((EXAMPLE / "expected_exit_code").read_text().strip())
    assert result.exit_code == code, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    compare_records([json.loads(line) for line in lines], expected_records())


def test_python_api_gives_the_same_records() -> None:
    workflow = retainflow.load(EXAMPLE / "reactive_retention.rflow")
    entries = load_cases(EXAMPLE / "cases.yaml", [workflow])
    output = run_entries(workflow, entries)
    compare_records([json.loads(dumps_line(r)) for r in output.records], expected_records())
    assert output.failed  # R6a


def test_engine_api_step_by_step_matches_r1() -> None:
    """The tools.md embedding example, fed by hand, gives the C-1001 line."""
    import datetime as dt

    workflow = retainflow.load(EXAMPLE / "reactive_retention.rflow")
    engine = retainflow.Engine([workflow])
    tz = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 3, 2, 9, 15, tzinfo=tz)
    data = {
        "id": "C-1001",
        "client": "acme",
        "tier": "gold",
        "arr": "120000 USD",
        "intent_to_leave": True,
    }
    engine.submit(data, at=at)
    engine.handle("C-1001", {"type": "call_logged"}, at=dt.datetime(2026, 3, 2, 11, tzinfo=tz))
    engine.handle(
        "C-1001", {"type": "resolved", "accepted": False}, at=dt.datetime(2026, 3, 4, 10, tzinfo=tz)
    )
    engine.handle(
        "C-1001", {"type": "approval", "approved": True}, at=dt.datetime(2026, 3, 4, 12, tzinfo=tz)
    )
    engine.handle(
        "C-1001",
        {"type": "survey_answered", "score": 5, "id": "ev-77"},
        at=dt.datetime(2026, 3, 12, 10, tzinfo=tz),
    )
    view = engine.get("C-1001")
    assert view is not None
    assert json.loads(json.dumps(view.to_json())) == expected_records()[0]


def test_every_case_state_of_the_run_round_trips_through_json() -> None:
    from retainflow.runtime.state import dumps, loads

    workflow = retainflow.load(EXAMPLE / "reactive_retention.rflow")
    output = run_entries(workflow, load_cases(EXAMPLE / "cases.yaml", [workflow]))
    for case_id in output.engine.store.case_ids():
        state = output.engine.case_state(case_id)
        assert state is not None
        assert loads(dumps(state)) == state
