"""`retainflow lint` through the command line: formats, exit codes, file discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.cli import main

CLEAN = "workflow ok version 1\nstart a\nstep a { -> done }\noutcome done as retained\n"
BROKEN = "workflow bad version 1\nstart a\nstep a {\n  on timeout -> esclate\n}\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "nested").mkdir(parents=True)
    (tmp_path / "flows" / "ok.rflow").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "flows" / "nested" / "syntax.rflow").write_text(
        "workflow s version 1\nstep a {\n", encoding="utf-8"
    )
    (tmp_path / "flows" / "notes.txt").write_text("not a workflow", encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def test_clean_file_exits_zero(tree: Path) -> None:
    code, out, err = run("flows/ok.rflow")
    assert code == 0
    assert out == ""
    assert "1 file checked: no problems" in err


def test_directories_are_searched_recursively(tree: Path) -> None:
    code, out, _ = run("--format", "json", "flows")
    document = json.loads(out)
    assert code == 1
    assert document["version"] == 1
    assert document["files"] == 2
    [diag] = document["diagnostics"]
    assert diag["file"] == "flows/nested/syntax.rflow"
    assert (diag["code"], diag["name"], diag["severity"]) == ("RF001", "syntax-error", "error")
    assert diag["line"] == 2 and diag["end_line"] == 2


def test_json_has_the_documented_keys_in_order(tree: Path) -> None:
    Path("b.rflow").write_text("workflow b version 1\nconst c = 1.5h\n", encoding="utf-8")
    _, out, _ = run("--format", "json", "b.rflow")
    diag = json.loads(out)["diagnostics"][0]
    keys = ["file", "line", "column", "end_line", "end_column", "severity", "code", "name"]
    assert list(diag)[: len(keys) + 1] == [*keys, "message"]
    assert (diag["line"], diag["column"], diag["end_column"]) == (2, 11, 15)


def test_text_rendering_shows_source_and_caret(tree: Path) -> None:
    Path("b.rflow").write_text("workflow b version 1\nconst c = 1 < 2 < 3\n", encoding="utf-8")
    code, out, _ = run("b.rflow")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("b.rflow:2:17: error[RF001 syntax-error]: unexpected '<'")
    assert lines[2] == "2 | const c = 1 < 2 < 3"
    assert lines[3] == "  |                 ^ comparisons do not chain: join them with 'and'"


def test_no_files_is_zero(tree: Path) -> None:
    Path("empty").mkdir()
    code, out, _ = run("--format", "json", "empty")
    assert code == 0
    assert json.loads(out) == {"version": 1, "files": 0, "diagnostics": []}


def test_missing_path_is_two_and_others_still_checked(tree: Path) -> None:
    code, out, err = run("--format", "json", "nope.rflow", "flows/nested")
    assert code == 2
    assert "nope.rflow: no such file or directory" in err
    assert json.loads(out)["diagnostics"][0]["code"] == "RF001"


def test_non_utf8_file_is_two(tree: Path) -> None:
    Path("latin.rflow").write_bytes(b"workflow l version 1\n# caf\xe9\n")
    code, _, err = run("latin.rflow", "flows/ok.rflow")
    assert code == 2
    assert "latin.rflow: is not UTF-8 text" in err
    assert "Traceback" not in err


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "retainflow" in result.stdout


def test_out_writes_the_report_and_an_unwritable_out_is_two(tree: Path) -> None:
    code, out, _ = run("--format", "json", "--out", "report.json", "flows/ok.rflow")
    assert code == 0 and out == ""
    assert json.loads(Path("report.json").read_text())["files"] == 1
    code, _, err = run("--out", "missing/dir/report.txt", "flows/ok.rflow")
    assert code == 2
    assert "missing/dir/report.txt: cannot be written" in err
    assert "Traceback" not in err
