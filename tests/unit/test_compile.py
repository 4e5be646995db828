"""The compiled Workflow: identity, graph, calendars, constants, durations, specs."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from test_engine_support import flow

import retainflow
from retainflow.compile import Deadline
from retainflow.values import Duration, Money
from tests.support import SHARED

EXAMPLE = SHARED / "conformance" / "run" / "reactive_retention" / "reactive_retention.rflow"


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="shared/ is not beside the project")
def test_reactive_retention_compiles_with_everything_resolved() -> None:
    wf = retainflow.load(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")
    assert (wf.name, wf.version, wf.title) == (
        "reactive_retention",
        3,
        "Reactive retention for dissatisfied clients",
    )
    assert wf.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert wf.source == text and wf.path is not None and wf.path.endswith(".rflow")
    assert set(wf.graph.nodes) == set(wf.steps) | set(wf.outcomes)
    assert wf.start == "listen"
    assert wf.consts == {"vip_arr": Money(100000, "USD")}
    assert [t.name for t in wf.triggers] == ["complaint", "at_risk"]
    at_risk = wf.triggers[1]
    assert at_risk.cooldown == dt.timedelta(days=30) and at_risk.condition is not None
    assert [(lim.scope, lim.counts_grants, lim.over) for lim in wf.limits] == [
        ("case", False, None),
        ("client", False, dt.timedelta(days=365)),
        ("client", True, dt.timedelta(days=90)),
    ]
    assert wf.limits[1].uses_case and not wf.limits[0].uses_case
    assert wf.approvals[0].role == "retention_director"
    first, resolution = wf.slas
    assert first.warn is not None and first.warn.calendar is wf.calendars["support"]
    assert resolution.pause == frozenset({"waiting_on_client"})
    assert resolution.breach == "escalate"
    follow = wf.steps["follow_up"]
    assert follow.every_count == 2 and follow.wait is not None
    assert [h.target for h in follow.handlers["survey_answered"]] == [
        "retained",
        "escalate",
        "check_in",
    ]
    assert wf.global_handlers["cancellation_confirmed"][0].target == "churned"
    assert wf.outcomes["retained"].kind == "retained"
    assert wf.holidays_version == "0.109"
    assert "support" in wf.calendars


def test_duration_constants_keep_their_unit_for_calendars() -> None:
    wf = flow("""
        calendar c {
          timezone "UTC"
          hours mon-fri 09:00-17:00
        }
        const follow = 2d
        case { client: text }
        trigger t on open
        start s
        step s { due follow in c; on timeout -> done }
        outcome done
    """)
    due = wf.steps["s"].due
    assert isinstance(due, Deadline) and due.duration == Duration(2, "d")
    friday = dt.datetime(2026, 3, 6, 16, tzinfo=dt.UTC)
    assert due.after(friday) == dt.datetime(2026, 3, 10, 16, tzinfo=dt.UTC)


def test_deadline_without_calendar_is_exact() -> None:
    deadline = Deadline(Duration(3, "d"), None)
    t = dt.datetime(2026, 3, 7, 12, tzinfo=dt.UTC)
    assert deadline.after(t) == t + dt.timedelta(days=3)
    assert deadline.before(t) == t - dt.timedelta(days=3)


def test_load_raises_compile_error_with_diagnostics() -> None:
    with pytest.raises(retainflow.CompileError) as info:
        retainflow.load("workflow w version 1\nstart a\nstep a {\n  on timeout -> nowhere\n}\n")
    codes = {d.code for d in info.value.diagnostics}
    assert "RF101" in codes
    assert "nowhere" in str(info.value)


def test_load_reads_paths_and_text(tmp_path: Path) -> None:
    text = "workflow w version 1\nstart a\nstep a { -> done }\noutcome done\n"
    path = tmp_path / "w.rflow"
    path.write_text(text, encoding="utf-8")
    assert retainflow.load(path).name == "w"
    assert retainflow.load(str(path)).content_hash == retainflow.load(text).content_hash
    with pytest.raises(FileNotFoundError):
        retainflow.load(str(tmp_path / "missing.rflow"))
