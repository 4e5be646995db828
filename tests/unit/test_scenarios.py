"""`retainflow test`: scenario files through the CLI and the Python API.

Expectations and their failures (expected, actual, the step where the run parted),
partial offer and action matching, values compared as values, coverage of a small
workflow, the json and junit formats, and scenario files that are broken in every way
(reported as data, never a traceback).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from retainflow.scenarios import Edge, TestRun, run_paths, same_value

ROOT = Path(__file__).resolve().parents[2]

MINI = """workflow mini version 1
case { client: text; arr: money(USD) }
event answered { score: number }
trigger opened on open
limit compensation per case 100 USD
approve compensation above 50 USD by "lead"
sla reply 2h until talk breach -> boss
on quit -> lost
start greet
step greet {
  do hello(client: case.client)
  due 1h
  on ready -> talk
  on timeout -> talk
}
step talk {
  offer credit 10% of case.arr label "sorry"
  when offer.status in ["granted", "capped"] -> done
  -> boss
}
step boss {
  due 1d
  on answered when event.score >= 3 -> done
  on timeout -> lost
}
outcome done as retained
outcome lost as churned
"""

# arr 400 USD: 40 USD, granted on the spot (not above 50) -> done.
HAPPY = """
  - name: ready in time and a credit granted
    case: {id: M1, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      outcome: done
      path: [greet, talk, done]
      offers: [{kind: credit, amount: 40 USD, status: granted}]
      actions_include: [{name: hello, args: {client: acme}}, {name: grant}]
      slas: {reply: met}
"""


def write(tmp_path: Path, scenarios: str, *, workflow: str = MINI, name: str = "mini") -> Path:
    (tmp_path / "mini.rflow").write_text(workflow, encoding="utf-8")
    path = tmp_path / f"{name}.rflow-test.yaml"
    path.write_text("workflow: mini.rflow\nscenarios:" + scenarios, encoding="utf-8")
    return path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["test", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = cli(*args, "--format", "json")
    return code, json.loads(out)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ---- the reference scenarios --------------------------------------------------------------


def test_the_reference_scenarios_pass_through_the_cli() -> None:
    code, out, _ = cli(str(ROOT / "tests" / "scenarios"))
    assert code == 0, out
    assert "0 failed, 0 errors" in out
    for workflow in (
        "reactive_retention",
        "complaint_loyalty",
        "crisis_response",
        "account_checkins",
        "sla_recovery",
    ):
        assert f"  {workflow} (" in out


def test_a_passing_file_exits_0_with_pass_lines_and_coverage(tmp_path: Path) -> None:
    write(tmp_path, HAPPY)
    code, out, _ = cli()
    assert code == 0
    assert "PASS mini.rflow-test.yaml::ready in time and a credit granted" in out
    assert "1 scenario in 1 file: 1 passed, 0 failed, 0 errors" in out
    assert "Coverage" in out and "mini (mini.rflow)" in out


# ---- failures: expected, actual and where the run parted ------------------------------------

WRONG = """
  - name: wrong outcome and wrong path
    case: {id: M2, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      outcome: lost
      path: [greet, talk, boss, lost]
"""


def test_a_wrong_outcome_and_path_fail_with_expected_actual_and_step(tmp_path: Path) -> None:
    write(tmp_path, WRONG)
    code, out, _ = cli()
    assert code == 1
    assert "FAIL mini.rflow-test.yaml::wrong outcome and wrong path" in out
    assert "outcome: expected lost, actual done" in out
    assert "the run ended in done from step talk" in out
    assert (
        "path: the run parted from the expected path after talk: at path[2] "
        "expected boss, the run went to done" in out
    )
    assert 'when offer.status in ["granted", "capped"]' in out  # what the run did instead
    assert "expected: [greet, talk, boss, lost]" in out
    assert "actual:   [greet, talk, done]" in out
    assert "step:     talk" in out


def test_failures_in_json_carry_key_expected_actual_step(tmp_path: Path) -> None:
    write(tmp_path, WRONG)
    code, document = as_json()
    assert code == 1
    (scenario,) = document["scenarios"]
    assert scenario["status"] == "fail"
    by_key = {f["key"]: f for f in scenario["failures"]}
    assert by_key["outcome"]["expected"] == "lost"
    assert by_key["outcome"]["actual"] == "done"
    assert by_key["outcome"]["step"] == "talk"
    assert by_key["path"]["expected"] == ["greet", "talk", "boss", "lost"]
    assert by_key["path"]["actual"] == ["greet", "talk", "done"]
    assert by_key["path"]["step"] == "talk"
    assert "parted" in by_key["path"]["message"]


def test_a_shorter_run_says_where_it_stopped(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: still waiting
    until: 2026-03-02T09:10:00Z
    case: {id: M3, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events: [{type: open, at: 2026-03-02T09:00:00Z}]
    expect:
      status: waiting
      path: [greet, talk, done]
""",
    )
    _, document = as_json()
    (failure,) = document["scenarios"][0]["failures"]
    assert failure["key"] == "path"
    assert failure["step"] == "greet"
    assert "stopped in greet (status waiting)" in failure["message"]


def test_sla_and_offer_failures_name_their_step(tmp_path: Path) -> None:
    # greet times out after 1h -> talk meets `reply`; arr 900 USD: 90 USD needs the
    # lead's approval, which never comes: the offer is still pending in talk at the end.
    write(
        tmp_path,
        """
  - name: sla expectation wrong
    case: {id: M4, at: 2026-03-02T09:00:00Z, client: acme, arr: 900 USD}
    events: [{type: open, at: 2026-03-02T09:00:00Z}]
    expect:
      slas: {reply: breached}
      offers: [{status: granted}]
""",
    )
    _, document = as_json()
    failures = {f["key"]: f for f in document["scenarios"][0]["failures"]}
    assert failures["slas"]["expected"] == {"reply": "breached"}
    assert failures["slas"]["actual"] == {"reply": "met"}
    assert failures["slas"]["step"] == "talk"  # met when the instance entered talk
    assert failures["offers"]["step"] == "talk"
    assert "status: expected granted, actual pending" in failures["offers"]["message"]


# ---- partial matching and values ----------------------------------------------------------


def test_offers_and_actions_match_only_the_keys_given(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: partial records
    case: {id: M5, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{status: granted}]
      actions_include:
        - {name: grant, args: {label: sorry}, step: talk}
        - {name: hello}
  - name: partial records, the other keys
    case: {id: M5, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{kind: credit, label: sorry, step: talk}]
      actions_include: [{args: {amount: 40 USD}, name: grant}]
""",
    )
    code, out, _ = cli()
    assert code == 0, out


def test_each_expected_action_needs_its_own_match(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: two hellos expected, one sent
    case: {id: M6, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      actions_include: [{name: hello}, {name: hello}, {name: call}]
""",
    )
    _, document = as_json()
    failures = document["scenarios"][0]["failures"]
    assert [f["key"] for f in failures] == ["actions_include", "actions_include"]
    assert "the run emitted hello 1 time" in failures[0]["message"]
    assert failures[0]["step"] == "greet"
    assert "no action call was emitted; the run emitted: hello, grant" in failures[1]["message"]


def test_wrong_offer_amount_shows_both_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: wrong amount
    case: {id: M7, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{amount: 45 USD}]
""",
    )
    _, document = as_json()
    (failure,) = document["scenarios"][0]["failures"]
    assert "amount: expected 45 USD, actual 40.00 USD" in failure["message"]
    assert failure["actual"] == [{"amount": "40.00 USD"}]
    assert failure["step"] == "talk"


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("5000 USD", "5000.00 USD"),
        ("0 USD", "0.00 USD"),
        ("1d", "24h"),
        ("2026-03-02T09:15:00+08:00", "2026-03-02T01:15:00Z"),
        ("15%", "15.0%"),
        ("5", 5),
        ("4.50", 4.5),
        ("null", None),
        ("true", True),
        ({"kind": "discount"}, {"kind": "discount", "amount": "1.00 USD"}),
        (["a", "b"], ["a", "b"]),
    ],
)
def test_values_compare_as_values(expected: Any, actual: Any) -> None:
    assert same_value(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("5000 USD", "5000.00 EUR"),
        ("5000 USD", "5000.01 USD"),
        ("1d", "23h"),
        ("true", False),
        ("5", "five"),
        ("null", "x"),
        ({"kind": "credit"}, {"kind": "discount"}),
        ({"missing": 1}, {}),
        (["a"], ["a", "b"]),
        ("text", None),
    ],
)
def test_different_values_do_not_match(expected: Any, actual: Any) -> None:
    assert not same_value(expected, actual)


def test_money_in_a_scenario_compares_as_a_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: money written three ways
    case: {id: M8, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{requested: 40 USD, amount: "40.00 USD"}]
      actions_include: [{name: grant, args: {amount: 40.0 USD}}]
""",
    )
    code, out, _ = cli()
    assert code == 0, out


# ---- coverage -----------------------------------------------------------------------------


def test_coverage_of_a_small_workflow_with_known_missed_edges(tmp_path: Path) -> None:
    write(tmp_path, HAPPY)
    _, document = as_json()
    coverage = document["coverage"]["mini"]
    steps = coverage["steps"]
    assert steps["covered"] == ["greet", "talk", "done"]
    assert steps["missed"] == ["boss", "lost"]
    assert steps["percent"] == 60.0
    transitions = coverage["transitions"]
    assert transitions["total"] == 11
    covered = [(e["source"], e["target"], e["kind"]) for e in transitions["covered"]]
    assert covered == [("greet", "talk", "event"), ("talk", "done", "immediate")]
    assert transitions["percent"] == 18.2
    # talk meets `reply`, so its breach edge can never be taken: 2 of the 10 others.
    never = transitions["never_takeable"]
    assert [(e["source"], e["kind"], e["sla"]) for e in never] == [("talk", "breach", "reply")]
    assert "cannot be pending" in never[0]["reason"]
    assert transitions["takeable"] == 10
    assert transitions["percent_takeable"] == 20.0
    missed = {(e["source"], e["target"], e["kind"], e["event"]) for e in transitions["missed"]}
    assert ("greet", "talk", "timeout", None) in missed
    assert ("greet", "lost", "global", "quit") in missed


def test_a_timeout_is_credited_to_the_timeout_edge_not_the_event_edge(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: greet times out
    case: {id: M9, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events: [{type: open, at: 2026-03-02T09:00:00Z}]
    expect: {path: [greet, talk, done]}
""",
    )
    run = run_paths(["."])
    assert run.exit_code == 0
    cov = run.coverage["mini"]
    assert Edge("greet", "talk", "timeout") in cov.covered_edges
    assert Edge("greet", "talk", "event", "ready") not in cov.covered_edges
    assert not cov.ambiguous


def test_breach_and_global_edges_are_told_apart(tmp_path: Path) -> None:
    # A workflow where the breach and a timeout lead to the same step.
    workflow = MINI.replace("sla reply 2h until talk", "sla reply 30m until talk")
    write(
        tmp_path,
        """
  - name: reply breaches in greet, then the client quits
    case: {id: M10, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: quit, at: 2026-03-02T10:00:00Z}
    expect:
      path: [greet, boss, lost]
      slas: {reply: breached}
      actions_include: [{name: sla_breached, args: {sla: reply}, step: greet}]
""",
        workflow=workflow,
    )
    run = run_paths(["."])
    assert run.exit_code == 0, [f.message for r in run.results for f in r.failures]
    cov = run.coverage["mini"]
    assert Edge("greet", "boss", "breach", sla="reply") in cov.covered_edges
    assert Edge("boss", "lost", "global", "quit") in cov.covered_edges
    assert Edge("boss", "lost", "timeout") not in cov.covered_edges


def test_edges_from_a_step_that_never_rests_are_never_takeable(tmp_path: Path) -> None:
    workflow = """workflow w version 1
trigger t on go
on quit -> lost
start a
step a { do hi; -> b }
step b { due 1h; on timeout -> done }
outcome done
outcome lost
"""
    write(
        tmp_path,
        """
  - name: straight through
    case: {id: W1, at: 2026-03-02T09:00:00Z}
    events: [{type: go, at: 2026-03-02T09:00:00Z}]
    expect: {outcome: done, path: [a, b, done]}
""",
        workflow=workflow,
    )
    _, document = as_json()
    transitions = document["coverage"]["w"]["transitions"]
    never = [(e["source"], e["kind"], e["reason"]) for e in transitions["never_takeable"]]
    assert never == [("a", "global", "a never rests (it always moves on at once)")]
    assert transitions["percent_takeable"] == 66.7  # b -> lost (global) was not taken


# ---- formats ------------------------------------------------------------------------------


def test_json_document_shape(tmp_path: Path) -> None:
    write(tmp_path, HAPPY + WRONG)
    code, document = as_json()
    assert code == 1
    assert document["version"] == 1
    assert document["files"] == 1
    assert [s["status"] for s in document["scenarios"]] == ["pass", "fail"]
    assert set(document["scenarios"][0]) == {"file", "name", "status", "failures"}
    assert document["summary"] == {
        "files": 1,
        "scenarios": 2,
        "passed": 1,
        "failed": 1,
        "errors": 0,
        "unreadable": 0,
    }
    failure = document["scenarios"][1]["failures"][0]
    assert set(failure) >= {"key", "expected", "actual", "step", "message"}
    assert set(document["coverage"]["mini"]) == {"file", "steps", "transitions"}


def test_junit_is_valid_xml_with_failures_and_escaped_text(tmp_path: Path) -> None:
    odd = """
  - name: "odd <name> & \\"quotes\\" \\x01"
    case: {id: M11, at: 2026-03-02T09:00:00Z, client: "a<b>&c", arr: 400 USD}
    events: [{type: open, at: 2026-03-02T09:00:00Z}]
    expect:
      actions_include: [{name: hello, args: {client: "x<y>&z"}}]
"""
    write(tmp_path, HAPPY + WRONG + odd)
    code, out, _ = cli("--format", "junit", "--out", "report.xml")
    assert code == 1
    assert out == ""
    root = ET.parse(tmp_path / "report.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "mini.rflow-test.yaml"
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["mini", "mini", "mini"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("outcome: expected lost, actual done")
    assert "expected: [greet, talk, boss, lost]" in (failure.text or "")
    assert cases[2].get("name") == 'odd <name> & "quotes" \\x01'
    odd_failure = cases[2].find("failure")
    assert odd_failure is not None and "x<y>&z" in (odd_failure.text or "")
    out_text = suite.find("system-out")
    assert out_text is not None and "mini (mini.rflow)" in (out_text.text or "")


def test_errors_are_junit_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.rflow-test.yaml").write_text("workflow: [unclosed\n", encoding="utf-8")
    code, out, _ = cli("--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("type") == "yaml"


# ---- errors are data ----------------------------------------------------------------------


def only_failure(document: dict[str, Any]) -> dict[str, Any]:
    (scenario,) = document["scenarios"]
    assert scenario["status"] == "error"
    (failure,) = scenario["failures"]
    assert isinstance(failure, dict)
    return failure


def test_invalid_yaml_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.rflow-test.yaml").write_text(
        "workflow: mini.rflow\nscenarios: [\n", encoding="utf-8"
    )
    code, document = as_json()
    assert code == 1
    failure = only_failure(document)
    assert failure["key"] == "yaml"
    assert "invalid YAML" in failure["message"]


def test_a_file_without_workflow_or_scenarios(tmp_path: Path) -> None:
    (tmp_path / "a.rflow-test.yaml").write_text("scenarios: [{name: x}]\n", encoding="utf-8")
    (tmp_path / "b.rflow-test.yaml").write_text("workflow: mini.rflow\n", encoding="utf-8")
    code, document = as_json()
    assert code == 1
    first, second = document["scenarios"]
    assert first["name"] == "x"
    assert first["failures"][0]["key"] == "workflow"
    assert "`workflow:` is required" in first["failures"][0]["message"]
    assert second["name"] is None
    assert second["failures"][0]["key"] == "scenarios"


def test_a_workflow_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "t.rflow-test.yaml").write_text(
        "workflow: nowhere.rflow\nscenarios: [{name: one}, {name: two}]\n", encoding="utf-8"
    )
    code, document = as_json()
    assert code == 1
    assert [s["name"] for s in document["scenarios"]] == ["one", "two"]
    failure = document["scenarios"][0]["failures"][0]
    assert failure["key"] == "workflow"
    assert "nowhere.rflow: no such file" in failure["message"]


def test_a_workflow_that_does_not_compile_prints_its_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, HAPPY, workflow=MINI.replace("-> boss\n}", "-> bos\n}"))
    code, out, _ = cli()
    assert code == 1
    assert "ERROR mini.rflow-test.yaml::ready in time and a credit granted" in out
    assert "does not compile (1 error)" in out
    assert "error[RF101 undefined-target]: step 'bos' is not defined" in out


def test_rejected_case_data_names_the_scenario_and_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: euros for a dollar field
    case: {id: M12, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 EUR}
  - name: an event before the case
    case: {id: M13, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events: [{type: open, at: 2026-03-01T09:00:00Z}]
  - name: a bad payload
    case: {id: M14, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events: [{type: answered, at: 2026-03-02T09:00:00Z, score: many}]
""",
    )
    code, document = as_json()
    assert code == 1
    results = {s["name"]: s for s in document["scenarios"]}
    euros = results["euros for a dollar field"]["failures"][0]
    assert (euros["key"], euros["field"]) == ("case", "arr")
    assert "case M12: field arr:" in euros["message"]
    early = results["an event before the case"]["failures"][0]
    assert (early["key"], early["field"]) == ("events", "events[1].at")
    payload = results["a bad payload"]["failures"][0]
    assert payload["field"] == "events[1].score"
    assert all(s["status"] == "error" for s in document["scenarios"])


def test_bad_ledger_until_and_expect_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: bad ledger
    case: {id: M15, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    ledger: [{client: acme, kind: credit, at: 2026-01-01T00:00:00Z}]
  - name: bad until
    case: {id: M16, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    until: tomorrow
  - name: until before the case
    case: {id: M16, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    until: 2026-03-01T09:00:00Z
  - name: typo in expect
    case: {id: M17, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    expect: {outcom: done}
  - name: unknown step in the path
    case: {id: M18, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    expect: {path: [greet, tlak]}
  - name: typo in a scenario key
    case: {id: M19, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    expected: {outcome: done}
  - name: bad ledger
    case: {id: M20, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
""",
    )
    code, document = as_json()
    assert code == 1
    messages = [
        (s["failures"][0]["key"], s["failures"][0]["message"]) for s in document["scenarios"]
    ]
    assert messages[0] == ("ledger", "ledger[1]: missing amount")
    assert messages[1][0] == "until"
    assert messages[2] == (
        "until",
        "until 2026-03-01T09:00:00Z is before the case's at 2026-03-02T09:00:00Z",
    )
    assert messages[3] == ("expect", "expect: unknown key 'outcom' (did you mean 'outcome'?)")
    assert messages[4][1] == "expect.path[1]: mini has no 'tlak' (did you mean 'talk'?)"
    assert messages[5] == ("scenarios", "unknown key 'expected' (did you mean 'expect'?)")
    assert messages[6] == ("name", "scenario #7: the name 'bad ledger' is used twice")


def test_expected_values_no_record_can_hold_are_reported_before_running(
    tmp_path: Path,
) -> None:
    case = "case: {id: M30, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}"
    bad = {
        "status: finished": "expect.status: 'finished' is not one of ended, waiting, "
        "cancelled, error, not_triggered",
        "trigger: openned": "expect.trigger: mini has no 'openned' (did you mean 'opened'?)",
        "slas: {reply: mett}": "expect.slas.reply: 'mett' is not one of not_started, "
        "pending, met, breached, cancelled (did you mean 'met'?)",
        "slas: {reply: {due: soon}}": "expect.slas.reply.due: expected a time like",
        "offers: [{status: grnted}]": "expect.offers[0].status: 'grnted' is not one of",
        "offers: [{at: yesterday}]": "expect.offers[0].at: expected a time like",
        "measures: {}": None,
    }
    body = "".join(
        f"\n  - name: s{i}\n    {case}\n    expect: {{{text}}}" for i, text in enumerate(bad)
    )
    write(tmp_path, body)
    _, document = as_json()
    for (text, wanted), result in zip(bad.items(), document["scenarios"], strict=True):
        if wanted is None:
            assert result["status"] != "error", text
            continue
        (failure,) = result["failures"]
        assert failure["key"] == "expect" and failure["message"].startswith(wanted), text


def test_missing_paths_and_unreadable_files_exit_2(tmp_path: Path) -> None:
    write(tmp_path, HAPPY)
    (tmp_path / "latin1.rflow-test.yaml").write_bytes(b"workflow: caf\xe9\n")
    code, out, err = cli(".", "no/such/dir")
    assert code == 2
    assert "retainflow: no/such/dir: no such file or directory" in err
    assert "retainflow: latin1.rflow-test.yaml: is not UTF-8 text" in err
    assert "PASS mini.rflow-test.yaml::ready in time and a credit granted" in out
    code, document = as_json(".", "no/such/dir")
    assert code == 2
    assert document["unreadable"] == [
        {"path": "no/such/dir", "problem": "no such file or directory"},
        {"path": "latin1.rflow-test.yaml", "problem": "is not UTF-8 text"},
    ]
    assert document["summary"]["unreadable"] == 2


def test_no_scenario_files_is_0_with_a_note(tmp_path: Path) -> None:
    code, document = as_json()
    assert code == 0
    assert document["files"] == 0 and document["scenarios"] == []
    _, _, err = cli()
    assert "no *.rflow-test.yaml files found" in err


def test_usage_errors_exit_2() -> None:
    code, _, err = cli("--format", "xml")
    assert code == 2
    assert "Invalid value for '--format'" in err


# ---- the Python API and the rest of the format ---------------------------------------------


def test_ledger_preload_makes_a_per_case_limit_bite(tmp_path: Path) -> None:
    workflow = MINI.replace(
        "limit compensation per case 100 USD", "limit compensation per client 100 USD over 30d"
    )
    write(
        tmp_path,
        """
  - name: an earlier grant leaves 20 USD
    case: {id: M21, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    ledger: [{client: acme, kind: credit, amount: 80 USD, at: 2026-02-20T00:00:00Z}]
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{requested: 40 USD, amount: 20 USD, status: capped}]
  - name: a grant older than the window does not count
    case: {id: M22, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    ledger: [{client: acme, kind: credit, amount: 80 USD, at: 2026-01-20T00:00:00Z}]
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: ready, at: 2026-03-02T09:30:00Z}
    expect:
      offers: [{requested: 40 USD, amount: 40 USD, status: granted}]
""",
        workflow=workflow,
    )
    run = run_paths([tmp_path])
    assert isinstance(run, TestRun)
    assert [r.status for r in run.results] == ["pass", "pass"]
    assert run.results[0].record is not None
    assert run.results[0].record["offers"][0]["amount"] == "20.00 USD"


def test_instance_selects_a_later_instance(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: two complaints, two instances
    case: {id: M23, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: quit, at: 2026-03-02T09:10:00Z}
      - {type: open, at: 2026-03-03T09:00:00Z}
      - {type: ready, at: 2026-03-03T09:05:00Z}
    expect:
      instance: 2
      outcome: done
      path: [greet, talk, done]
  - name: the first one
    case: {id: M23, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events:
      - {type: open, at: 2026-03-02T09:00:00Z}
      - {type: quit, at: 2026-03-02T09:10:00Z}
      - {type: open, at: 2026-03-03T09:00:00Z}
    expect:
      instance: 3
""",
    )
    run = run_paths(["."])
    assert run.results[0].status == "pass"
    (failure,) = run.results[1].failures
    assert failure.key == "instance"
    assert failure.message == (
        "expected instance 3, the case started 2 instances; instance 2 ended in done from step talk"
    )
    assert (failure.expected, failure.actual, failure.step) == (3, 2, "talk")


def test_not_triggered_and_measures(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
  - name: never opened
    case: {id: M24, at: 2026-03-02T09:00:00Z, client: acme, arr: 400 USD}
    events: [{type: ready, at: 2026-03-02T09:30:00Z}]
    expect: {status: not_triggered, outcome: null, path: [], offers: []}
""",
    )
    code, out, _ = cli()
    assert code == 0, out


def test_text_output_has_no_color_when_captured(tmp_path: Path) -> None:
    write(tmp_path, HAPPY)
    _, out, _ = cli()
    assert "\x1b[" not in out


def test_out_writes_the_report_to_a_file(tmp_path: Path) -> None:
    write(tmp_path, HAPPY)
    code, out, _ = cli("--out", "report.txt")
    assert code == 0 and out == ""
    assert "PASS mini.rflow-test.yaml::" in (tmp_path / "report.txt").read_text(encoding="utf-8")


def test_directories_are_searched_recursively_and_hidden_ones_skipped(tmp_path: Path) -> None:
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    write(sub, HAPPY)
    hidden = tmp_path / ".hidden"
    hidden.mkdir()
    write(hidden, WRONG)
    (tmp_path / "other.yaml").write_text("not: a scenario file\n", encoding="utf-8")
    code, document = as_json()
    assert code == 0
    assert [s["file"] for s in document["scenarios"]] == ["deep/er/mini.rflow-test.yaml"]


def test_a_broken_workflow_is_reported_once_per_file_in_text(tmp_path: Path) -> None:
    write(tmp_path, HAPPY + WRONG, workflow=MINI.replace("-> boss\n}", "-> bos\n}"))
    code, out, _ = cli()
    assert code == 1
    assert out.count("RF101") == 1
    assert "    workflow: as above" in out
    _, document = as_json()
    assert all("RF101" in s["failures"][0]["message"] for s in document["scenarios"])


def test_an_empty_or_missing_scenario_list_says_which(tmp_path: Path) -> None:
    (tmp_path / "mini.rflow").write_text(MINI, encoding="utf-8")
    (tmp_path / "empty.rflow-test.yaml").write_text(
        "workflow: mini.rflow\nscenarios: []\n", encoding="utf-8"
    )
    (tmp_path / "none.rflow-test.yaml").write_text("workflow: mini.rflow\n", encoding="utf-8")
    code, out, _ = cli(".")
    assert code == 1
    assert "empty.rflow-test.yaml: `scenarios:` is empty (give at least one scenario)" in out
    assert "none.rflow-test.yaml: `scenarios:` is required (a list of scenarios)" in out
