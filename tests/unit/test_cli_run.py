"""`retainflow run` through the command line: formats, --until, --ledger, --out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.cli import main

WORKFLOW = """workflow w version 1
case { client: text; arr: money(USD) }
trigger t on open
limit compensation per client 100 USD
start give
step give {
  offer credit 10% of case.arr
  due 1d
  on ok -> done
  on timeout -> lost
}
outcome done as retained
outcome lost as churned
"""

CASES = """
- id: A
  at: 2026-03-02T09:00:00Z
  client: acme
  arr: 500 USD
  events:
    - {type: open, at: 2026-03-02T09:00:00Z}
    - {type: ok, at: 2026-03-02T10:00:00Z}
- id: B
  at: 2026-03-02T09:00:00Z
  client: acme
  arr: 900 USD
  events:
    - {type: open, at: 2026-03-02T11:00:00Z}
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.rflow").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "cases.yaml").write_text(CASES, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["run", *args])
    return result.exit_code, result.stdout, result.stderr


def test_jsonl_one_line_per_instance_and_exit_0(files: Path) -> None:
    code, out, _ = run("w.rflow", "cases.yaml")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["case"], r["outcome"]) for r in records] == [("A", "done"), ("B", "lost")]
    assert records[1]["offers"][0]["amount"] == "50.00 USD"  # 100 - 50 left for acme
    assert records[1]["ended_at"] == "2026-03-03T11:00:00Z"


def test_until_stops_the_timeline(files: Path) -> None:
    code, out, _ = run("w.rflow", "cases.yaml", "--until", "2026-03-02T12:00:00Z")
    assert code == 0
    b = json.loads(out.splitlines()[1])
    assert (b["status"], b["clock"]) == ("waiting", "2026-03-02T11:00:00Z")
    code, _, err = run("w.rflow", "cases.yaml", "--until", "2026-03-02T12:00:00")
    assert code == 2 and "--until" in err


def test_ledger_seed_counts(files: Path) -> None:
    (files / "ledger.yaml").write_text(
        "- {client: acme, kind: credit, amount: 80 USD, at: 2026-03-01T00:00:00Z}\n",
        encoding="utf-8",
    )
    code, out, _ = run("w.rflow", "cases.yaml", "--ledger", "ledger.yaml")
    a, b = (json.loads(line) for line in out.splitlines())
    assert a["offers"][0]["amount"] == "20.00 USD"
    assert (b["offers"][0]["status"], b["offers"][0]["reason"]) == ("refused", "limit")
    (files / "bad.yaml").write_text("- {client: acme}\n", encoding="utf-8")
    code, _, err = run("w.rflow", "cases.yaml", "--ledger", "bad.yaml")
    assert code == 2 and "ledger entry 1" in err


def test_json_and_text_formats_and_out(files: Path) -> None:
    code, out, _ = run("w.rflow", "cases.yaml", "--format", "json")
    document = json.loads(out)
    assert code == 0 and list(document) == ["results", "summary"]
    assert document["summary"]["retention_rate"] == 50.0
    code, out, _ = run("w.rflow", "cases.yaml", "--format", "text")
    assert "retention rate: 50%" in out
    assert "offers: 1 granted (50.00 USD), 1 capped (50.00 USD), 0 refused, 0 denied" in out
    code, out, _ = run("w.rflow", "cases.yaml", "--out", "results.jsonl")
    assert code == 0 and out == ""
    assert len((files / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_bad_case_is_reported_and_exits_1(files: Path) -> None:
    (files / "cases.yaml").write_text(
        CASES + "- {id: C, at: 2026-03-02T09:00:00Z, client: x, arr: 5 EUR}\n", encoding="utf-8"
    )
    code, out, _ = run("w.rflow", "cases.yaml")
    assert code == 1
    last = json.loads(out.splitlines()[-1])
    assert last["status"] == "error" and last["error"].startswith("case C: field arr: ")
    assert len(out.splitlines()) == 3  # the other cases still ran


def test_compile_errors_exit_1_with_diagnostics(files: Path) -> None:
    (files / "broken.rflow").write_text(
        "workflow b version 1\nstart a\nstep a {\n  on timeout -> nowhere\n}\n", encoding="utf-8"
    )
    code, out, err = run("broken.rflow", "cases.yaml")
    assert code == 1 and out == ""
    assert "RF101" in err


def test_unreadable_inputs_exit_2_without_traceback(files: Path) -> None:
    code, _, err = run("missing.rflow", "cases.yaml")
    assert code == 2 and "cannot be read" in err and "Traceback" not in err
    code, _, err = run("w.rflow", "missing.yaml")
    assert code == 2 and "cannot be read" in err
    (files / "broken.json").write_text("{", encoding="utf-8")
    code, _, err = run("w.rflow", "broken.json")
    assert code == 2 and "invalid JSON" in err
    code, _, _ = run("w.rflow")
    assert code == 2


def test_one_timeline_across_cases_in_file_order(files: Path) -> None:
    (files / "cases.yaml").write_text(
        """
- {id: late, at: 2026-03-02T10:00:00Z, client: acme, arr: 1000 USD,
   events: [{type: open, at: 2026-03-02T10:00:00Z}]}
- {id: early, at: 2026-03-02T09:00:00Z, client: acme, arr: 1000 USD,
   events: [{type: open, at: 2026-03-02T10:00:00Z}]}
""",
        encoding="utf-8",
    )
    _, out, _ = run("w.rflow", "cases.yaml")
    late, early = (json.loads(line) for line in out.splitlines())
    # same instant: file order decides, so `late` takes the whole per-client limit
    assert late["offers"][0]["amount"] == "100.00 USD"
    assert (early["offers"][0]["status"], early["offers"][0]["reason"]) == ("refused", "limit")


def test_a_case_submitted_after_until_gets_a_not_triggered_record(files: Path) -> None:
    code, out, _ = run("w.rflow", "cases.yaml", "--until", "2026-03-01T00:00:00Z")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["case"], r["status"], r["clock"]) for r in records] == [
        ("A", "not_triggered", None),
        ("B", "not_triggered", None),
    ]


def test_run_tunes_the_collector_for_the_batch_and_restores_it(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import retainflow.runtime.batch as batch

    seen: list[tuple[tuple[int, int, int], int]] = []
    original = batch.run_entries

    def spy(*args: object, **kwargs: object) -> object:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "run_entries", spy)
    before = gc.get_threshold()
    for extra in ([], ["--store", "s.db"]):
        code, out, err = run("w.rflow", "cases.yaml", *extra)
        assert code == 0 and out, err
    assert [threshold[0] for threshold, _ in seen] == [10_000, 10_000]
    assert all(frozen > 0 for _, frozen in seen)  # what was loaded is set aside
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
