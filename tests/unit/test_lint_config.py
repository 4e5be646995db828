"""Lint for CI: suppressions, configuration, selection, SARIF and GitHub output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from retainflow.cli import main
from tests.support import SHARED

# Lowering reports these without any semantic check: RF405 (zero duration) and RF002
# (unknown currency), so these tests stand on their own.
ZERO_DUE = (
    "workflow z version 1\nstart a\nstep a {\n  due 0h\n  on timeout -> done\n}\noutcome done\n"
)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def codes(out: str) -> list[tuple[str, int]]:
    return [(d["code"], d["line"]) for d in json.loads(out)["diagnostics"]]


def test_ignore_comment_on_the_line(here: Path) -> None:
    Path("a.rflow").write_text(ZERO_DUE.replace("due 0h", "due 0h  # rflow: ignore[RF405]"))
    code, out, _ = lint("--format", "json", "a.rflow")
    assert codes(out) == []
    assert code == 0


def test_ignore_comment_on_the_line_above(here: Path) -> None:
    Path("a.rflow").write_text(ZERO_DUE.replace("  due 0h", "  # rflow: ignore[RF405]\n  due 0h"))
    assert codes(lint("--format", "json", "a.rflow")[1]) == []


def test_ignore_file(here: Path) -> None:
    Path("a.rflow").write_text("# rflow: ignore-file[RF405]\n" + ZERO_DUE)
    assert codes(lint("--format", "json", "a.rflow")[1]) == []
    Path("b.rflow").write_text("# rflow: ignore-file[RF405, RF002]\n" + ZERO_DUE)
    assert codes(lint("--format", "json", "b.rflow")[1]) == [("RF901", 1)]


def test_unused_suppression_is_rf901_at_the_comment(here: Path) -> None:
    Path("a.rflow").write_text(ZERO_DUE.replace("start a", "start a  # rflow: ignore[RF405]"))
    code, out, _ = lint("--format", "json", "a.rflow")
    diags = json.loads(out)["diagnostics"]
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [
        ("RF901", 2, 10),
        ("RF405", 4, 7),
    ]
    assert "suppresses nothing" in diags[0]["message"]
    assert code == 1


def test_suppressing_a_deselected_code_is_not_rf901(here: Path) -> None:
    Path("pyproject.toml").write_text('[tool.retainflow.lint]\nignore = ["RF405"]\n')
    Path("a.rflow").write_text(ZERO_DUE.replace("due 0h", "due 0h  # rflow: ignore[RF405]"))
    assert codes(lint("--format", "json", "a.rflow")[1]) == []


def test_syntax_errors_cannot_be_suppressed(here: Path) -> None:
    Path("a.rflow").write_text("# rflow: ignore-file[RF001]\nworkflow a version 1\nstep {\n")
    assert [c for c, _ in codes(lint("--format", "json", "a.rflow")[1])] == ["RF001"]


def test_config_severity_and_select(here: Path) -> None:
    Path("pyproject.toml").write_text(
        '[tool.retainflow.lint]\nselect = ["RF4"]\nseverity = {RF405 = "warning"}\n'
    )
    Path("a.rflow").write_text(ZERO_DUE.replace("version 1", "version 1\nconst c = 5 ABC"))
    code, out, _ = lint("--format", "json", "a.rflow")
    diags = json.loads(out)["diagnostics"]
    assert [(d["code"], d["severity"]) for d in diags] == [("RF405", "warning")]
    assert code == 0
    assert lint("--strict", "a.rflow")[0] == 1


def test_nearest_pyproject_wins(here: Path) -> None:
    Path("pyproject.toml").write_text('[tool.retainflow.lint]\nignore = ["RF405"]\n')
    for folder, table in (
        ("own", "[tool.retainflow.lint]\nselect = ['RF4']\n"),
        ("plain", "[project]\nname = 'x'\n"),
    ):
        Path(folder).mkdir()
        Path(folder, "pyproject.toml").write_text(table)
        Path(folder, "a.rflow").write_text(ZERO_DUE)
    Path("b.rflow").write_text(ZERO_DUE)
    out = lint("--format", "json", ".")[1]
    # `own` has its own table; `plain` has none, so the root's applies there too.
    assert [d["file"] for d in json.loads(out)["diagnostics"]] == ["own/a.rflow"]


def test_cli_select_and_ignore(here: Path) -> None:
    Path("a.rflow").write_text(ZERO_DUE.replace("version 1", "version 1\nconst c = 5 ABC"))
    ignored = lint("--format", "json", "--ignore", "RF405,RF105", "a.rflow")[1]
    assert [c for c, _ in codes(ignored)] == ["RF002"]
    assert [c for c, _ in codes(lint("--format", "json", "--select", "RF4", "a.rflow")[1])] == [
        "RF405"
    ]


def test_bad_configuration_is_a_usage_error(here: Path) -> None:
    Path("pyproject.toml").write_text('[tool.retainflow.lint]\nseverity = {RF001 = "warning"}\n')
    Path("a.rflow").write_text(ZERO_DUE)
    code, _, err = lint("a.rflow")
    assert code == 2
    assert "RF001" in err and "cannot be demoted" in err
    assert lint("--select", "XX9", "a.rflow")[0] == 2


def test_sarif_validates_against_the_official_schema(here: Path) -> None:
    schema_path = SHARED / "data" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip("the SARIF schema is not in shared/data")
    Path("flows").mkdir()
    Path("flows/a.rflow").write_text(ZERO_DUE.replace("version 1", "version 1\nconst c = 5 ABC"))
    code, out, _ = lint("--format", "sarif", "--select", "RF0,RF4", "flows")
    log = json.loads(out)
    jsonschema.validate(log, json.loads(schema_path.read_text(encoding="utf-8")))
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) >= 31
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["RF002", "RF405"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "flows/a.rflow", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 7, "endLine": 5, "endColumn": 9}
    assert all(rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])
    assert code == 1


def test_github_annotations_are_escaped_and_summarized(here: Path) -> None:
    Path("a,b.rflow").write_text("workflow a version 1\nconst c = 100 ABC\n")
    code, out, _ = lint("--format", "github", "--select", "RF002", "a,b.rflow")
    lines = out.splitlines()
    assert lines[0].startswith("::error file=a%2Cb.rflow,line=2,col=15,endLine=2,endColumn=18,")
    assert "title=RF002 invalid-literal::unknown currency code 'ABC'" in lines[0]
    assert lines[-1] == "::notice title=retainflow lint::1 error and 0 warnings in 1 file"
    assert code == 1


def test_many_files_are_linted_in_parallel_with_the_same_result(here: Path) -> None:
    Path("many").mkdir()
    for index in range(60):
        text = ZERO_DUE if index % 2 else ZERO_DUE.replace("0h", "2h")
        Path(f"many/f{index:02}.rflow").write_text(text)
    code, out, _ = lint("--format", "json", "many")
    document = json.loads(out)
    assert document["files"] == 60
    assert len(document["diagnostics"]) == 30
    assert [d["file"] for d in document["diagnostics"]] == sorted(
        d["file"] for d in document["diagnostics"]
    )
    assert code == 1
