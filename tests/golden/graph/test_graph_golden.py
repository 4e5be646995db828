"""Golden files of the graph renderers: a workflow in, its Mermaid, DOT and JSON out.

Inputs: the complete example of the design (`shared/conformance/run/reactive_retention/`,
beside the project root) and every `.rflow` file in this folder. Expected outputs sit
here as `NAME.mmd`, `NAME.dot` and `NAME.json`. Regenerate them after a deliberate change
with `RETAINFLOW_REGENERATE=1 pytest tests/golden/graph` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.analysis import analyze_text
from retainflow.cli import main
from retainflow.graph import build_graph
from retainflow.render_graph import render

HERE = Path(__file__).resolve().parent
from tests.support import SHARED  # noqa: E402

REACTIVE = SHARED / "conformance" / "run" / "reactive_retention" / "reactive_retention.rflow"
REGENERATE = os.environ.get("RETAINFLOW_REGENERATE") == "1"
EXTENSIONS = {"mermaid": "mmd", "dot": "dot", "json": "json"}

INPUTS = {path.stem: path for path in sorted(HERE.glob("*.rflow"))}
INPUTS["reactive_retention"] = REACTIVE


def rendered(path: Path, output_format: str) -> str:
    analysis = analyze_text(path.read_text(encoding="utf-8"), path.name)
    assert analysis.workflow is not None, analysis.diagnostics
    graph = build_graph(analysis.workflow, analysis.source)
    return render(graph, output_format, analysis.workflow, analysis.source)


def check_golden(golden: Path, actual: str) -> None:
    if REGENERATE:
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(f"{golden.name} is missing: run with RETAINFLOW_REGENERATE=1")
    assert actual == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs: if the change is meant, regenerate with RETAINFLOW_REGENERATE=1"
    )


@pytest.mark.parametrize("output_format", sorted(EXTENSIONS))
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_golden(name: str, output_format: str) -> None:
    path = INPUTS[name]
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    golden = HERE / f"{name}.{EXTENSIONS[output_format]}"
    check_golden(golden, rendered(path, output_format))


@pytest.mark.parametrize("output_format", sorted(EXTENSIONS))
def test_cli_prints_the_golden_graph(output_format: str) -> None:
    if not REACTIVE.is_file():
        pytest.skip(f"{REACTIVE} is not there")
    result = CliRunner().invoke(main, ["graph", str(REACTIVE), "--format", output_format])
    assert result.exit_code == 0, result.stderr
    golden = HERE / f"reactive_retention.{EXTENSIONS[output_format]}"
    if not REGENERATE:
        assert result.stdout == golden.read_text(encoding="utf-8")
