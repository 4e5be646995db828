"""Golden files of the formatter: a messy workflow in, its canonical text out.

Each `NAME.rflow` here is a deliberately messy input (bad indentation, `;`-separated
items, statements out of order, comments everywhere, long expressions, one-line steps,
odd literals); `NAME.expected.rflow` is what `retainflow fmt` makes of it. Regenerate the
expected files after a deliberate change with
`RETAINFLOW_REGENERATE=1 pytest tests/golden/fmt` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow import nodes as n
from retainflow.analysis import parse_workflow
from retainflow.cli import main
from retainflow.formatter import canonical, format_text
from retainflow.source import SourceFile

HERE = Path(__file__).resolve().parent
REGENERATE = os.environ.get("RETAINFLOW_REGENERATE") == "1"
SUFFIX = ".expected.rflow"
INPUTS = sorted(p for p in HERE.glob("*.rflow") if not p.name.endswith(SUFFIX))


def expected_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(".rflow")] + SUFFIX)


def parse(text: str) -> n.Workflow:
    workflow, diagnostics = parse_workflow(SourceFile("t.rflow", text))
    assert workflow is not None, diagnostics
    return workflow


def test_there_are_enough_messy_inputs() -> None:
    assert len(INPUTS) >= 6


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    actual = format_text(source, path.name)
    golden = expected_path(path)
    if REGENERATE:
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(f"{golden.name} is missing: run with RETAINFLOW_REGENERATE=1")
    assert actual == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs: if the change is meant, regenerate with RETAINFLOW_REGENERATE=1"
    )


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_expected_output_is_a_fixed_point_with_the_same_meaning(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    golden = expected_path(path)
    if not golden.is_file():
        pytest.skip(f"{golden.name} is missing")
    expected = golden.read_text(encoding="utf-8")
    assert format_text(expected) == expected
    before, after = parse(source), parse(expected)
    assert after == canonical(before)
    assert Counter(c.text.rstrip() for c in after.comments) == Counter(
        c.text.rstrip() for c in before.comments
    )


def test_cli_rewrites_the_messy_inputs_into_the_expected_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in INPUTS:
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.chdir(tmp_path)
    check = CliRunner().invoke(main, ["fmt", "--check", "."])
    assert check.exit_code == 1
    assert sorted(check.stdout.split("\n")[:-1]) == sorted(
        f"would reformat {p.name}" for p in INPUTS
    )
    result = CliRunner().invoke(main, ["fmt", "."])
    assert result.exit_code == 0, result.stderr
    for path in INPUTS:
        golden = expected_path(path)
        if golden.is_file():
            assert (tmp_path / path.name).read_text(encoding="utf-8") == golden.read_text(
                encoding="utf-8"
            )
    assert CliRunner().invoke(main, ["fmt", "--check", "."]).exit_code == 0
