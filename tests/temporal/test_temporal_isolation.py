"""The core package never needs the `temporal` extra: importing retainflow (its API, engine,
CLI and batch runner, and even the `retainflow.temporal` package, which loads its modules
on first use) leaves temporalio unimported. Runs with and without the extra."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT


def test_importing_retainflow_does_not_import_temporalio() -> None:
    code = (
        "import sys, retainflow, retainflow.engine, retainflow.cli, retainflow.runtime.batch\n"
        "import retainflow.temporal\n"  # the package itself loads its modules lazily
        "assert 'temporalio' not in sys.modules, sorted(m for m in sys.modules if 'temporal' in m)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
