"""The linter never raises: any text, and any mutation of a valid workflow, gives a list
of diagnostics (tools.md: problems are data, reported, never thrown)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retainflow.analysis import analyze_text
from retainflow.diagnostics import CATALOG, FileDiagnostics, render_text
from tests.support import COMPLETE_EXAMPLE

EXAMPLE = (
    COMPLETE_EXAMPLE.read_text(encoding="utf-8")
    if COMPLETE_EXAMPLE.is_file()
    else ("workflow ok version 1\nstart a\nstep a { -> done }\noutcome done as retained\n")
)
TOKENS = re.findall(r"\s+|\w+|[^\w\s]", EXAMPLE)
# Words and symbols worth splicing in: they reach checks a plain deletion does not.
SPLICES = [
    "none",
    "true",
    "0h",
    "-",
    "1w",
    "5 EUR",
    "case.nope",
    "event.x",
    "offer.amount",
    "trigger",
    "elapsed",
    "now",
    "in",
    "of",
    "not",
    "(",
    ")",
    "[",
    "]",
    ",",
    "timeout",
    "outcome",
    "grant",
    "support",
    "vip_arr",
    "\n",
    "{",
    "}",
    "->",
    "==",
    "+",
    "*",
]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    analysis = analyze_text(text, "fuzz.rflow")
    assert all(d.code in CATALOG for d in analysis.diagnostics)
    if any(d.code == "RF001" for d in analysis.diagnostics):
        assert [d.code for d in analysis.diagnostics] == ["RF001"]
    render_text(FileDiagnostics.of(analysis.source, analysis.diagnostics))


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    check(text)


@SETTINGS
@given(st.text(alphabet='workflw vesion1\n{}()[]:;,.-><="#% stepcaedUSD0h', max_size=300))
def test_text_in_the_alphabet_of_rflow(text: str) -> None:
    check("workflow w version 1\n" + text)


mutation = st.tuples(
    st.sampled_from(["delete", "duplicate", "swap", "splice", "char"]),
    st.integers(min_value=0, max_value=len(TOKENS) - 1),
    st.integers(min_value=0, max_value=len(TOKENS) - 1),
    st.sampled_from(SPLICES),
)


def mutate(tokens: list[str], edits: list[tuple[str, int, int, str]]) -> str:
    for kind, i, j, word in edits:
        i, j = i % len(tokens), j % len(tokens)
        if kind == "delete" and len(tokens) > 1:
            del tokens[i]
        elif kind == "duplicate":
            tokens.insert(i, tokens[j])
        elif kind == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "splice":
            tokens.insert(i, " " + word + " ")
        elif kind == "char" and tokens[i]:
            text = tokens[i]
            position = j % len(text)
            tokens[i] = text[:position] + text[position + 1 :]
    return "".join(tokens)


@SETTINGS
@given(st.lists(mutation, min_size=1, max_size=6))
def test_mutated_complete_example(edits: list[tuple[str, int, int, str]]) -> None:
    check(mutate(list(TOKENS), edits))
