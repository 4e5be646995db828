"""Retention reports over the conformance run: the metrics through Python and the CLI.

Every expected number below follows from reading the 11 records of
`shared/conformance/run/reactive_retention/expected.jsonl` (see the comments).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from retainflow.report import (
    build_report,
    load_workflow_info,
    period_of,
    read_results,
    render_json,
)
from tests.support import SHARED

RUN = SHARED / "conformance" / "run" / "reactive_retention"
RESULTS = RUN / "expected.jsonl"
WORKFLOW = RUN / "reactive_retention.rflow"

pytestmark = pytest.mark.skipif(not RESULTS.is_file(), reason=f"no conformance run at {RUN}")


def report_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


def report_doc(*args: str) -> dict[str, Any]:
    code, out, err = report_cli(
        str(RESULTS), "--workflow", str(WORKFLOW), "--format", "json", *args
    )
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def by_key(doc: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {group["key"]: group for group in doc["groups"]}


# ---- the whole run, one group --------------------------------------------------------------


def test_conformance_report_through_the_cli() -> None:
    doc = report_doc()
    assert doc["version"] == 1
    assert doc["by"] == "workflow"
    assert doc["from"] is None and doc["to"] is None
    assert doc["clients"] is None
    assert doc["records"] == 11
    [group] = doc["groups"]
    assert group["key"] == "reactive_retention"
    assert group["title"] == "Reactive retention for dissatisfied clients"
    # 9 instances ended; R6a was rejected (error, never started), R6b never triggered.
    assert group["instances"] == {
        "records": 11,
        "started": 9,
        "ended": 9,
        "waiting": 0,
        "cancelled": 0,
        "error": 1,
        "not_triggered": 1,
    }
    # retained: C-1001, R3, R5a, R5b, R8; churned: R2, R4, R5c, R7.
    assert group["outcomes"] == {
        "by_name": {"churned": 4, "retained": 5},
        "by_kind": {"retained": 5, "churned": 4, "other": 0},
    }
    assert group["retention_rate"] == 55.6
    assert group["churn_share"] == 44.4
    assert doc["total"]["retention_rate"] == 55.6


def test_conformance_slas() -> None:
    slas = report_doc()["groups"][0]["slas"]
    assert list(slas) == ["first_response", "resolution"]
    first = slas["first_response"]
    # Only R2's first response was breached.
    assert (first["met"], first["breached"], first["cancelled"], first["pending"]) == (8, 1, 0, 0)
    assert first["attainment"] == 88.9
    # Met after 1h45m, 1h30m, 16h30m, 30m, 30m, 1h, 30m, 3h30m elapsed; in Manila office
    # hours R4 (Wed 17:00 -> Thu 09:30) counts 1h30m and R8 (14:00 -> 17:30) 3h30m.
    assert first["time_to_target"] == {
        "count": 8,
        "elapsed_seconds": {"median": 4500, "p90": 59400},
        "calendars": ["support"],
        "open_seconds": {"median": 4500, "p90": 12600},
    }
    resolution = slas["resolution"]
    # R7 breached; R2 and R5c churned while it was pending, which cancelled it.
    assert (resolution["met"], resolution["breached"], resolution["cancelled"]) == (6, 1, 2)
    assert resolution["attainment"] == 85.7
    # R3 took 9d 30m elapsed but 45h30m open: Maundy Thursday and Good Friday are closed.
    assert resolution["time_to_target"]["elapsed_seconds"] == {"median": 172800, "p90": 779400}
    assert resolution["time_to_target"]["open_seconds"] == {"median": 64800, "p90": 163800}


def test_conformance_compensation() -> None:
    comp = report_doc()["groups"][0]["compensation"]
    # C-1001 capped 12000 -> 5000, R2 denied, R5b granted 4000, R5c refused (grant_count),
    # R5a capped 4000 -> 2000, R7 withdrawn, R8 granted 2000.
    assert comp["offers"] == 7
    assert comp["by_status"] == {
        "granted": 2,
        "capped": 2,
        "refused": 1,
        "denied": 1,
        "pending": 0,
        "withdrawn": 1,
    }
    assert comp["refused_by_reason"] == {
        "limit": 0,
        "grant_count": 1,
        "currency": 0,
        "missing_amount": 0,
        "missing_client": 0,
    }
    assert comp["granted"] == {"discount": {"USD": "13000.00 USD"}}
    assert comp["granted_total"] == {"USD": "13000.00 USD"}
    assert comp["granted_per_retained"] == {"USD": "2600.00 USD"}  # 13000 / 5 retained
    assert comp["capped"] == {
        "USD": {
            "offers": 2,
            "requested": "16000.00 USD",
            "granted": "7000.00 USD",
            "difference": "9000.00 USD",
        }
    }


def test_conformance_measures() -> None:
    measures = report_doc()["groups"][0]["measures"]
    # Surveys answered 5 (C-1001), 5 (R3), 3 (R5b), 4 (R5a): 3 of 4 satisfied.
    assert measures == {
        "csat": {
            "kind": "csat",
            "value": 75.0,
            "responses": 4,
            "satisfied": 3,
            "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 2},
        }
    }


def test_without_the_workflow_only_elapsed_time_and_number_measures() -> None:
    code, out, err = report_cli(str(RESULTS), "--format", "json")
    assert code == 0, err
    group = json.loads(out)["groups"][0]
    assert group["title"] == "reactive_retention"
    assert group["retention_rate"] == 55.6  # outcome kinds are in the records
    ttt = group["slas"]["first_response"]["time_to_target"]
    assert ttt["elapsed_seconds"] == {"median": 4500, "p90": 59400}
    assert ttt["open_seconds"] is None and ttt["calendars"] == []
    # Without the workflow the measure's kind is unknown: the language's default, number.
    assert group["measures"]["csat"] == {
        "kind": "number",
        "value": 4.25,
        "responses": 4,
        "mean": 4.25,
        "median": 4.5,
    }


def test_python_api_gives_the_same_report() -> None:
    records = read_results([RESULTS])
    report = build_report(records, [load_workflow_info(WORKFLOW)])
    code, out, _ = report_cli(str(RESULTS), "--workflow", str(WORKFLOW), "--format", "json")
    assert code == 0
    assert render_json(report) == out
    group = report.groups[0]
    assert str(group.retention_rate) == "55.6"
    assert str(group.measures["csat"].value) == "75.0"
    assert group.measures["csat"].responses == 4
    assert str(group.slas["first_response"].attainment) == "88.9"
    assert str(group.slas["resolution"].attainment) == "85.7"


# ---- grouping and filtering ----------------------------------------------------------------


def test_by_month() -> None:
    doc = report_doc("--by", "month")
    groups = by_key(doc)
    assert list(groups) == ["2026-03", "2026-04", None]
    march, april, unknown = groups["2026-03"], groups["2026-04"], groups[None]
    assert march["title"] == "March 2026"
    # March starts: C-1001, R2, R3 (03-30), R4, R5a, R5b, R5c; plus R6b (last input 03-11).
    assert march["instances"]["records"] == 8
    assert march["instances"]["started"] == 7
    assert march["instances"]["not_triggered"] == 1
    assert march["outcomes"]["by_kind"] == {"retained": 4, "churned": 3, "other": 0}
    assert march["retention_rate"] == 57.1
    assert april["outcomes"]["by_kind"] == {"retained": 1, "churned": 1, "other": 0}  # R8, R7
    assert april["retention_rate"] == 50.0
    # R7's resolution breached in April; R8's first response took 3h30m.
    assert april["slas"]["resolution"]["attainment"] == 50.0
    assert april["compensation"]["granted_total"] == {"USD": "2000.00 USD"}
    # R6a was rejected: no start, no clock, no month.
    assert unknown["title"] == "no start time"
    assert unknown["instances"]["error"] == 1
    assert unknown["retention_rate"] is None
    assert doc["total"]["instances"]["records"] == 11


def test_by_week_uses_iso_weeks() -> None:
    groups = by_key(report_doc("--by", "week"))
    # Weeks with a start (or R6b's last input, Wed 03-11); none in the week of 04-06.
    assert list(groups) == [
        "2026-W10",
        "2026-W11",
        "2026-W12",
        "2026-W13",
        "2026-W14",
        "2026-W16",
        None,
    ]
    assert groups["2026-W10"]["title"] == "week of 2026-03-02"  # C-1001
    assert groups["2026-W11"]["instances"]["not_triggered"] == 1  # R6b
    assert groups["2026-W13"]["instances"]["started"] == 3  # R5a, R5b (03-23), R5c (03-26)
    assert groups["2026-W14"]["instances"]["started"] == 1  # R3 (Mon 03-30)
    assert sum(g["instances"]["records"] for g in groups.values()) == 11


def test_by_client() -> None:
    groups = by_key(report_doc("--by", "client"))
    assert list(groups)[-1] is None  # the rejected case has no client: last
    wayne = groups["wayne"]
    assert wayne["instances"]["started"] == 3  # R5a, R5b, R5c
    assert wayne["retention_rate"] == 66.7
    assert wayne["compensation"]["by_status"]["refused"] == 1
    assert wayne["compensation"]["granted_total"] == {"USD": "6000.00 USD"}  # 2000 + 4000
    assert wayne["compensation"]["granted_per_retained"] == {"USD": "3000.00 USD"}
    assert groups["wonka"]["instances"]["not_triggered"] == 1
    assert groups["acme"]["measures"]["csat"]["value"] == 100.0
    assert groups["initech"]["slas"]["first_response"]["attainment"] == 0.0


def test_by_trigger() -> None:
    groups = by_key(report_doc("--by", "trigger"))
    assert list(groups) == ["at_risk", "complaint", None]
    assert groups["at_risk"]["instances"]["started"] == 8
    assert groups["at_risk"]["retention_rate"] == 62.5  # 5 of 8
    assert groups["complaint"]["outcomes"]["by_name"] == {"churned": 1, "retained": 0}
    assert groups[None]["title"] == "not triggered"
    assert groups[None]["instances"]["records"] == 2


def test_by_version() -> None:
    groups = by_key(report_doc("--by", "version"))
    assert list(groups) == ["reactive_retention@3"]


def test_from_and_to_filter_by_start() -> None:
    doc = report_doc("--from", "2026-04-01", "--to", "2026-04-30")
    assert doc["from"] == "2026-04-01T00:00:00Z"
    assert doc["to"] == "2026-05-01T00:00:00Z"  # --to includes its whole day
    assert doc["records"] == 2
    [group] = doc["groups"]
    assert group["instances"]["started"] == 2  # R7 and R8
    assert group["retention_rate"] == 50.0
    # A time bound is exact and --to excludes it: R8 started 2026-04-14T06:00:00Z.
    doc = report_doc("--from", "2026-04-14T06:00:00Z")
    assert doc["records"] == 1
    doc = report_doc("--from", "2026-04-13T00:00:00+00:00", "--to", "2026-04-14T06:00:00Z")
    assert doc["records"] == 1


def test_period_of_rejects_bad_bounds() -> None:
    assert period_of(None, None).bounded is False
    with pytest.raises(ValueError, match="--from"):
        period_of("March", None)
    with pytest.raises(ValueError, match="must end after"):
        period_of("2026-04-02", "2026-04-01")


# ---- formats and --out ---------------------------------------------------------------------


def test_text_report_fits_80_columns() -> None:
    for by in ("workflow", "client", "month", "week", "trigger", "version"):
        code, out, err = report_cli(str(RESULTS), "--workflow", str(WORKFLOW), "--by", by)
        assert code == 0, err
        assert max(len(line) for line in out.splitlines()) <= 80
    code, out, _ = report_cli(str(RESULTS), "--workflow", str(WORKFLOW))
    assert "retention rate 55.6%" in out
    assert "first_response    8         1          0        0       88.9%" in out
    assert "csat     csat  75.0%          4" in out
    assert "9,000.00 USD less than requested" in out


def test_out_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, err = report_cli(str(RESULTS), "--format", "json", "--out", str(target))
    assert code == 0, err
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == 1


def test_results_from_stdin_and_several_files(tmp_path: Path) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 11
    doc = {"results": [json.loads(line) for line in text.splitlines()], "summary": {}}
    copy = tmp_path / "run.json"
    copy.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    code, out, err = report_cli(str(RESULTS), str(copy), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["groups"][0]["instances"]["records"] == 22
