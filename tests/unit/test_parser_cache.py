"""The built parser is kept in the user's cache folder between processes, and a missing,
damaged or unwritable cache only costs the time to build it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from retainflow.parser import _parser_cache, grammar_text
from tests.support import ROOT

PARSE = (
    "from retainflow.parser import parse\n"
    "result = parse('workflow w version 1\\nstart a\\nstep a { -> done } # note\\n"
    "outcome done\\n')\n"
    "assert result.error is None and result.tree is not None, result.error\n"
    "assert [c.text for c in result.comments] == ['# note'], result.comments\n"
    "print('parsed')\n"
)


def parse_in_a_new_process(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PARSE],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stdout == "parsed\n", result.stderr
    assert result.stderr == ""


def test_the_parser_is_cached_in_the_user_cache_folder_and_survives_damage(
    tmp_path: Path,
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path), "RETAINFLOW_PARSER_CACHE": "1"}
    parse_in_a_new_process(env)
    (cached,) = (tmp_path / "retainflow").iterdir()
    assert cached.name.startswith("parser-") and cached.stat().st_size > 10_000
    assert (tmp_path / "retainflow").stat().st_mode & 0o777 == 0o700
    built = cached.read_bytes()
    parse_in_a_new_process(env)  # loaded from the file: the same parser, same results
    assert cached.read_bytes() == built
    cached.write_bytes(b"not a parser\n" + built[:100])  # damaged (a killed writer)
    parse_in_a_new_process(env)
    rebuilt = cached.read_bytes()  # built again and rewritten (its hash line first)
    assert rebuilt.split(b"\n")[0] == built.split(b"\n")[0] and len(rebuilt) > 10_000


def test_no_cache_when_turned_off_or_the_folder_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAINFLOW_PARSER_CACHE", "0")
    assert _parser_cache(grammar_text()) is False
    monkeypatch.setenv("RETAINFLOW_PARSER_CACHE", "1")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where a folder should be
    assert _parser_cache(grammar_text()) is False
    parse_in_a_new_process({"XDG_CACHE_HOME": str(blocker)})  # still parses


def test_the_cache_file_is_named_by_the_grammar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("RETAINFLOW_PARSER_CACHE", raising=False)
    first = _parser_cache(grammar_text())
    assert isinstance(first, str) and Path(first).parent == tmp_path / "retainflow"
    assert _parser_cache(grammar_text() + "\n") != first
