"""`retainflow graph --format svg|png` through Graphviz, and the message when it is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow.cli import main
from tests.support import COMPLETE_EXAMPLE, require_conformance

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


@needs_dot
def test_svg_is_drawn(tmp_path: Path) -> None:
    require_conformance()
    out = tmp_path / "flow.svg"
    result = CliRunner().invoke(
        main, ["graph", str(COMPLETE_EXAMPLE), "--format", "svg", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg
    for label in ("Listen to the client", "retained", "churned", "breach resolution"):
        assert label in svg


@needs_dot
def test_png_to_stdout_is_binary() -> None:
    require_conformance()
    result = CliRunner().invoke(main, ["graph", str(COMPLETE_EXAMPLE), "--format", "png"])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\x89PNG")


def test_missing_graphviz_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    require_conformance()
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(main, ["graph", str(COMPLETE_EXAMPLE), "--format", "svg"])
    assert result.exit_code == 2
    assert "install the `graphviz` package" in result.stderr
    assert "Traceback" not in result.stderr
