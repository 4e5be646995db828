"""`retainflow report --store FILE`: every instance of a store, with its own workflows."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from retainflow.cli import main
from tests.support import CONFORMANCE, require_conformance


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_report_over_a_store_equals_the_report_over_its_results(tmp_path: Path) -> None:
    require_conformance()
    example = CONFORMANCE / "run" / "reactive_retention"
    flow, cases = example / "reactive_retention.rflow", example / "cases.yaml"
    store, results = tmp_path / "s.db", tmp_path / "r.jsonl"
    code, _, _ = invoke(
        "run",
        str(flow),
        str(cases),
        "--store",
        str(store),
        "--until",
        "2027-05-04T03:00:00Z",
        "--format",
        "jsonl",
        "--out",
        str(results),
    )
    assert code == 1  # R6a has bad data
    # The rejected case never reaches the store: leave it out of the file report too.
    kept = [line for line in results.read_text().splitlines() if '"status": "error"' not in line]
    results.write_text("\n".join(kept) + "\n")
    code, from_store, err = invoke("report", "--store", str(store), "--format", "json")
    assert code == 0, err
    code, from_file, _ = invoke("report", str(results), "--workflow", str(flow), "--format", "json")
    assert code == 0
    store_group = json.loads(from_store)["groups"][0]
    file_group = json.loads(from_file)["groups"][0]
    for key in ("instances", "outcomes", "retention_rate", "slas", "compensation", "measures"):
        assert store_group[key] == file_group[key], key
    assert store_group["retention_rate"] == 55.6


def test_store_and_results_together_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("report", "x.jsonl", "--store", str(tmp_path / "s.db"))
    assert code == 2
    assert "not both" in err


def test_missing_store_is_unreadable_input(tmp_path: Path) -> None:
    code, _, err = invoke("report", "--store", str(tmp_path / "nope.db"))
    assert code == 1
    assert "no such store file" in err
    assert "Traceback" not in err
