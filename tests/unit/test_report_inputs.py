"""`retainflow report` inputs: bad results files and lines (exit 1), bad options (exit 2),
workflows, and the client books behind the client retention rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from retainflow.report import (
    ResultsError,
    client_retention,
    read_clients,
    read_clients_text,
    read_results,
    read_results_text,
)
from retainflow.report.clients import ClientRow, parse_instant

GOOD = {
    "case": "C-1",
    "client": "acme",
    "instance": 1,
    "workflow": "w",
    "version": 1,
    "status": "ended",
    "trigger": "t",
    "outcome": "kept",
    "outcome_kind": "retained",
    "started_at": "2026-03-02T01:15:00Z",
    "offers": [],
    "slas": {},
    "measures": {},
}
GOOD_LINE = json.dumps(GOOD)


def report_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


# ---- exit 1: results that cannot be read ---------------------------------------------------


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(f"{GOOD_LINE}\n{{not json\n\n{GOOD_LINE}\n", encoding="utf-8")
    code, out, err = report_cli(str(path))
    assert code == 1
    assert out == ""
    assert f"{path}:2: not valid JSON" in err
    assert "Traceback" not in err


def test_bad_record_field(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    bad_status = json.dumps({**GOOD, "status": "done"})
    bad_money = json.dumps(
        {**GOOD, "offers": [{"kind": "credit", "status": "granted", "amount": 5}]}
    )
    path.write_text(f"{bad_status}\n[1]\n{bad_money}\n", encoding="utf-8")
    code, _, err = report_cli(str(path))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:1: field status: 'done' is not one of ended")
    assert lines[1] == f"{path}:2: a result must be a JSON object, got a list"
    assert lines[2].startswith(f"{path}:3: field offers[0].amount: expected money")


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    code, _, err = report_cli(str(missing), str(binary))
    assert code == 1
    assert f"{missing}: cannot be read (No such file or directory)" in err
    assert f"{binary}: is not UTF-8 text" in err
    assert "Traceback" not in err


def test_json_document_problems_carry_the_line_of_the_record(tmp_path: Path) -> None:
    records = [GOOD, {**GOOD, "started_at": "2026-03-02T01:15:00"}]
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"results": records, "summary": {}}, indent=2), encoding="utf-8")
    with pytest.raises(ResultsError) as caught:
        read_results([path])
    [problem] = caught.value.problems
    text = path.read_text(encoding="utf-8").splitlines()
    assert text[problem.line - 1].strip() == "{"
    assert problem.line > 10  # the second record, not the first
    assert "started_at" in problem.message and "no UTC offset" in problem.message
    broken = tmp_path / "broken.json"
    broken.write_text('{"results": [\n  {"case": }\n]}', encoding="utf-8")
    code, _, err = report_cli(str(broken))
    assert code == 1
    assert f"{broken}:2: not valid JSON" in err


def test_many_bad_lines_are_summed_up(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("nonsense\n" * 30, encoding="utf-8")
    code, _, err = report_cli(str(path))
    assert code == 1
    assert len(err.splitlines()) == 11
    assert err.splitlines()[-1] == f"{path}: ... and 20 more bad lines"


def test_lenient_about_fields_the_report_does_not_use() -> None:
    records, problems = read_results_text(
        json.dumps({"case": "X", "workflow": "w", "status": "waiting"}), "x.jsonl"
    )
    assert problems == []
    [record] = records
    assert record.version is None and record.offers == () and not record.started
    assert record.source == "x.jsonl:1"


def test_a_broken_workflow_is_refused(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text(GOOD_LINE + "\n", encoding="utf-8")
    flow = tmp_path / "bad.rflow"
    flow.write_text("workflow bad version 1\nstart a\nstep a {\n", encoding="utf-8")
    code, out, err = report_cli(str(results), "--workflow", str(flow))
    assert code == 1
    assert out == ""
    assert "cannot be used for the report" in err
    code, _, err = report_cli(str(results), "--workflow", str(tmp_path / "missing.rflow"))
    assert code == 1
    assert "missing.rflow: cannot be read" in err


# ---- exit 2: usage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "year"], "Invalid value for '--by'"),
        (["--format", "pdf"], "Invalid value for '--format'"),
        (["--from", "yesterday"], "Invalid value for --from"),
        (["--to", "2026-03-02T10:00:00"], "no UTC offset"),
        (["--from", "2026-04-02", "--to", "2026-04-01"], "must end after --from"),
        (["--store", "state.db"], "not both"),
        (["--clients", "clients.csv"], "--clients needs --from and --to"),
        (["--frm", "2026-01-01"], "No such option"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text(GOOD_LINE + "\n", encoding="utf-8")
    code, out, err = report_cli(str(results), *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_no_results_is_a_usage_error() -> None:
    code, _, err = report_cli()
    assert code == 2
    assert "RESULTS" in err


# ---- clients -------------------------------------------------------------------------------


def _books(tmp_path: Path) -> Path:
    """domain.md's example: S 200, N 40, E 220 over 2026."""
    lines = ["client,since,until"]
    lines += [f"keep{i},2024-05-01," for i in range(180)]
    lines += [f"lost{i},2025-01-01,2026-06-01" for i in range(20)]
    lines += [f"new{i},2026-03-01," for i in range(40)]
    lines += ["gone,2020-01-01,2025-12-31", "future,2027-01-01,"]
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_client_retention_rate_of_domain_example(tmp_path: Path) -> None:
    rows = read_clients(_books(tmp_path))
    m = client_retention(rows, parse_instant("2026-01-01"), parse_instant("2027-01-01"))
    assert (m.start, m.new, m.end, m.lost, m.clients) == (200, 40, 220, 20, 242)
    assert str(m.retention_rate) == "90.0"  # (220 - 40) / 200
    assert str(m.churn_rate) == "10.0"  # 20 lost of 200


def test_clients_through_the_cli(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text(GOOD_LINE + "\n", encoding="utf-8")
    books = _books(tmp_path)
    code, out, err = report_cli(
        str(results),
        "--clients",
        str(books),
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["clients"] == {
        "from": "2026-01-01T00:00:00Z",
        "to": "2027-01-01T00:00:00Z",
        "clients": 242,
        "start": 200,
        "new": 40,
        "end": 220,
        "lost": 20,
        "retention_rate": 90.0,
        "churn_rate": 10.0,
        "simple_retention_rate": 110.0,  # E / S: counts the 40 new clients as kept
    }
    code, out, err = report_cli(
        str(results), "--clients", str(books), "--from", "2026-01-01", "--to", "2026-12-31"
    )
    assert code == 0, err
    assert "     200       40         220    20      90.0%  10.0%" in out


def test_client_boundaries_fall_in_exactly_one_period() -> None:
    jan, feb, mar = (parse_instant(d) for d in ("2026-01-01", "2026-02-01", "2026-03-01"))
    rows = [
        ClientRow("joins-at-feb", feb, None),
        ClientRow("leaves-at-feb", jan, feb),
        ClientRow("joins-and-leaves", parse_instant("2026-02-10"), parse_instant("2026-02-20")),
    ]
    january = client_retention(rows, jan, feb)
    february = client_retention(rows, feb, mar)
    # Leaving exactly when February starts is a loss of February, joining then is new in it.
    assert (january.start, january.new, january.end, january.lost) == (0, 1, 1, 0)
    assert (february.start, february.new, february.end, february.lost) == (1, 2, 1, 1)
    assert str(february.retention_rate) == "-100.0"  # (1 - 2) / 1: the formula as written
    assert client_retention([], jan, feb).retention_rate is None


def test_clients_yaml_and_bad_rows(tmp_path: Path) -> None:
    rows = read_clients_text(
        "clients:\n  - {client: a, since: 2025-01-01}\n"
        "  - {client: b, since: '2025-02-01T09:00:00+08:00', until: null}\n",
        "books.yaml",
    )
    assert [r.client for r in rows] == ["a", "b"]
    assert rows[1].since.isoformat() == "2025-02-01T01:00:00+00:00"
    with pytest.raises(ResultsError) as caught:
        read_clients_text(
            "client,since,until\na,2025-01-01,\nb,,\nc,2025-05-01,2025-01-01\n", "b.csv"
        )
    assert [str(p) for p in caught.value.problems] == [
        "b.csv:3: client b: a row needs since (when the client joined)",
        "b.csv:4: client c: until 2025-01-01 is before since 2025-05-01",
    ]
    with pytest.raises(ResultsError, match="header row"):
        read_clients_text("name,start\na,2025-01-01\n", "c.csv")
    with pytest.raises(ResultsError, match=r"b\.yaml:2: a row must be a mapping"):
        read_clients_text("- {client: a, since: 2025-01-01}\n- just text\n", "b.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {client: a\n", encoding="utf-8")
    results = tmp_path / "r.jsonl"
    results.write_text(GOOD_LINE + "\n", encoding="utf-8")
    code, _, err = report_cli(
        str(results), "--clients", str(bad), "--from", "2026-01-01", "--to", "2026-02-01"
    )
    assert code == 1
    assert f"{bad}:2: not valid YAML" in err


def test_json_lines_in_a_json_file_and_a_list_document(tmp_path: Path) -> None:
    lines = tmp_path / "results.json"
    lines.write_text(f"{GOOD_LINE}\n{GOOD_LINE}\n", encoding="utf-8")
    assert len(read_results([lines])) == 2
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([GOOD, GOOD, GOOD]), encoding="utf-8")
    assert len(read_results([listed])) == 3
    one = tmp_path / "one.jsonl"
    one.write_text(GOOD_LINE, encoding="utf-8")  # one record, no newline: still a line
    assert len(read_results([one])) == 1


def test_cli_choices_match_the_package() -> None:
    from retainflow import cli, report

    assert cli._REPORT_GROUPINGS == report.GROUPINGS
    assert cli._REPORT_FORMATS == report.FORMATS
