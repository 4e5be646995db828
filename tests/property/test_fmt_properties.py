"""Properties of the formatter: any parsable text in, canonical text out.

For the complete example of the design (`shared/` beside the project root), every file
in `workflows/`, and workflows generated at random from the grammar (random steps,
handlers, expressions of mixed precedence, comments at line ends and on their own lines,
random whitespace, blank lines and `;` separators):

- formatting is idempotent: fmt(fmt(x)) == fmt(x);
- it never changes meaning: the tree of fmt(x) equals the tree of x, with each step's
  statements in formatter order (`canonical`; spans are ignored by node equality);
- every comment survives: the same multiset of comment texts (trailing blanks aside);
- the output is tidy: 2-space indents, no tabs, no trailing blanks, one final newline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retainflow import nodes as n
from retainflow.analysis import parse_workflow
from retainflow.formatter import canonical, format_text
from retainflow.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
from tests.support import SHARED  # noqa: E402

COMPLETE_EXAMPLE = (
    SHARED / "conformance" / "run" / "reactive_retention" / "reactive_retention.rflow"
)
WORKFLOWS = sorted((ROOT / "workflows").glob("*.rflow")) if (ROOT / "workflows").is_dir() else []
GOLDEN_INPUTS = sorted(
    p for p in (ROOT / "tests" / "golden" / "fmt").glob("*.rflow") if ".expected" not in p.name
)

Draw = Callable[[st.SearchStrategy[Any]], Any]


def parse(text: str) -> n.Workflow:
    workflow, diagnostics = parse_workflow(SourceFile("t.rflow", text))
    assert workflow is not None, (diagnostics, text)
    return workflow


def comment_texts(workflow: n.Workflow) -> Counter[str]:
    return Counter(c.text.rstrip() for c in workflow.comments)


def check_properties(text: str) -> str:
    before = parse(text)
    formatted = format_text(text)
    after = parse(formatted)
    assert after == canonical(before), formatted
    assert comment_texts(after) == comment_texts(before), formatted
    assert format_text(formatted) == formatted, formatted
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    for line in formatted.split("\n"):
        assert line == line.rstrip(), repr(line)
        assert "\t" not in line[: len(line) - len(line.lstrip())], repr(line)
        assert (len(line) - len(line.lstrip(" "))) % 2 == 0, repr(line)
    return formatted


# ---- the files we ship and the design's example ---------------------------------------


def test_complete_example() -> None:
    if not COMPLETE_EXAMPLE.is_file():
        pytest.skip(f"{COMPLETE_EXAMPLE} is not there")
    text = COMPLETE_EXAMPLE.read_text(encoding="utf-8")
    # The design's example is already in canonical form.
    assert check_properties(text) == text


@pytest.mark.parametrize("path", WORKFLOWS + GOLDEN_INPUTS, ids=lambda p: p.name)
def test_shipped_workflows(path: Path) -> None:
    check_properties(path.read_text(encoding="utf-8"))


# ---- generated workflows ---------------------------------------------------------------

STEPS = ["listen", "solve", "escalate", "follow_up", "s1"]
OUTCOMES = ["retained", "churned", "lost"]
TARGETS = STEPS + OUTCOMES
EVENTS = ["call_logged", "resolved", "survey_answered", "client_replied"]
FIELDS = ["client", "tier", "arr", "score", "outcome", "timeout", "keep", "days_since_last_contact"]
CONSTS = ["vip_arr", "grace", "limit_pct", "very_important_client_threshold"]
CALENDARS = ["support", "office"]
FUNCTIONS = ["min", "max", "abs", "round", "len", "lower", "contains", "days", "f"]
WORDS = [
    "",
    "note",
    "why: x",
    "TODO(ops)",
    "a # b",
    "keep -> me",
    "{ not code }",
    "  spaced  ",
    " rflow: ignore[RF601]",
]

# Precedence levels of the grammar, loosest first (as in retainflow.exprs).
OR, AND, NOT, CMP, SUM, PRODUCT, OF, UNARY, ATOM = range(1, 10)


def comment(draw: Draw) -> str:
    return "#" + str(draw(st.sampled_from(WORDS))) + str(draw(st.integers(0, 99)))


def indentation(draw: Draw, most: int) -> str:
    return str(draw(st.sampled_from(["", " ", "  ", "\t", " \t ", "    "][: most + 1])))


def end(draw: Draw) -> str:
    return str(draw(st.sampled_from(["\n", "\n", "\n", "\r\n"])))


def newline(draw: Draw) -> str:
    """A line break: maybe a comment first, own-line comments and blank lines after."""
    out = ""
    if draw(st.booleans()):
        out += indentation(draw, 3) + comment(draw)
    out += end(draw)
    for _ in range(int(draw(st.integers(0, 2)))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            out += indentation(draw, 2) + end(draw)
        else:
            out += indentation(draw, 5) + comment(draw) + end(draw)
    return out + indentation(draw, 5)


def sep(draw: Draw) -> str:
    """Between items of a block or of the top level: `;` and/or a line break."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return ";"
    if kind == 1:
        return " ; "
    if kind == 2:
        return ";" + newline(draw)
    return newline(draw)


def gap(draw: Draw, inside: bool) -> str:
    """Space between tokens; inside ( ) or [ ] it may break the line, with comments."""
    if inside and draw(st.integers(0, 5)) == 0:
        return newline(draw)
    return " " * int(draw(st.integers(0, 2)))


def space(draw: Draw, inside: bool) -> str:
    """At least one space (or a line break inside brackets)."""
    text = gap(draw, inside)
    return text if text else " "


def pick(draw: Draw, items: list[str]) -> str:
    return str(draw(st.sampled_from(items)))


def atom(draw: Draw) -> str:
    kind = draw(st.integers(0, 13))
    options: list[Callable[[], str]] = [
        lambda: pick(draw, ["0", "2", "12", "4.50", "100000"]),
        lambda: pick(draw, ["500 USD", "1200.50  EUR", "5000 USD", "0.5 PHP"]),
        lambda: pick(draw, ["15%", "10%", "2.5%"]),
        lambda: pick(draw, ["4h", "30d", "1w", "15m", "90s"]),
        lambda: pick(draw, ['"gold"', '"a \\"quoted\\" word"', '"two\\nlines"', '""', '"#x"']),
        lambda: pick(draw, ["true", "false", "none"]),
        lambda: "case." + pick(draw, FIELDS),
        lambda: "event." + pick(draw, FIELDS),
        lambda: "offer." + pick(draw, ["status", "amount"]),
        lambda: pick(draw, ["trigger", "elapsed", "now"]),
        lambda: pick(draw, CONSTS),
        lambda: "case." + pick(draw, FIELDS),
        lambda: "event." + pick(draw, FIELDS),
        lambda: pick(draw, ["1", "3"]),
    ]
    return options[int(kind)]()


def expr(draw: Draw, depth: int, inside: bool) -> tuple[str, int]:
    """Random expression text and its precedence level."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return atom(draw), ATOM
    kind = int(draw(st.integers(0, 12)))
    sub = depth - 1
    if kind == 0:
        return wrap(draw, sub, OR, inside) + space(draw, inside) + "or " + wrap(
            draw, sub, AND, inside
        ), OR
    if kind == 1:
        return wrap(draw, sub, AND, inside) + space(draw, inside) + "and " + wrap(
            draw, sub, NOT, inside
        ), AND
    if kind == 2:
        return "not " + wrap(draw, sub, NOT, inside), NOT
    if kind == 3:
        op = pick(draw, ["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
        left = wrap(draw, sub, SUM, inside)
        return left + space(draw, inside) + op + " " + wrap(draw, sub, SUM, inside), CMP
    if kind == 4:
        suffix = pick(draw, ["is none", "is not none"])
        return wrap(draw, sub, SUM, inside) + " " + suffix, CMP
    if kind in (5, 6):
        op = pick(draw, ["+", "-"] if kind == 5 else ["*", "/"])
        level = SUM if kind == 5 else PRODUCT
        left = wrap(draw, sub, level, inside)
        return left + space(draw, inside) + op + " " + wrap(draw, sub, level + 1, inside), level
    if kind == 7:
        return wrap(draw, sub, UNARY, inside) + " of " + wrap(draw, sub, OF, inside), OF
    if kind == 8:
        operand = wrap(draw, sub, UNARY, inside)
        return ("- " if operand.startswith("-") else "-") + operand, UNARY
    if kind == 9:
        cond = wrap(draw, sub, OR, inside)
        then = wrap(draw, sub, OR, inside)
        return f"if {cond} then {then} else {wrap(draw, sub, 0, inside)}", 0
    if kind == 10:
        items = [wrap(draw, sub, 0, True) for _ in range(int(draw(st.integers(0, 3))))]
        return "[" + gap(draw, True) + ("," + gap(draw, True)).join(items) + gap(
            draw, True
        ) + "]", ATOM
    if kind == 11:
        args = [wrap(draw, sub, 0, True) for _ in range(int(draw(st.integers(0, 3))))]
        body = ("," + gap(draw, True)).join(args)
        return pick(draw, FUNCTIONS) + "(" + gap(draw, True) + body + gap(draw, True) + ")", ATOM
    return atom(draw), ATOM


def wrap(draw: Draw, depth: int, level: int, inside: bool) -> str:
    """An operand at `level`: parenthesized when it must be, and sometimes when not."""
    extra = draw(st.integers(0, 6)) == 0
    text, precedence = expr(draw, depth, inside or extra)
    if precedence < level or extra:
        return "(" + gap(draw, True) + text + gap(draw, True) + ")"
    return text


def top_expr(draw: Draw, depth: int = 3) -> str:
    """An expression in statement position (not inside brackets): no line breaks."""
    if draw(st.integers(0, 3)) == 0:
        text, _ = expr(draw, depth, True)
        return "(" + gap(draw, True) + text + gap(draw, True) + ")"
    return expr(draw, depth, False)[0]


def duration(draw: Draw) -> str:
    return pick(draw, ["4h", "2d", "1w", "30m", "grace"])


def timing(draw: Draw) -> str:
    text = duration(draw)
    if draw(st.booleans()):
        text += " in " + pick(draw, CALENDARS)
    return text


def statement(draw: Draw) -> str:
    kind = int(draw(st.integers(0, 9)))
    if kind == 0:
        return "wait " + timing(draw)
    if kind in (1, 2):
        text = "do " + pick(draw, ["call", "notify", "send", "survey"])
        if draw(st.integers(0, 3)):
            names = draw(
                st.lists(st.sampled_from(["client", "role", "within", "kind"]), unique=True)
            )
            args = [
                f"{name}{gap(draw, True)}:{space(draw, True)}{wrap(draw, 2, 0, True)}"
                for name in names
            ]
            text += (
                "(" + gap(draw, True) + ("," + gap(draw, True)).join(args) + gap(draw, True) + ")"
            )
        return text
    if kind == 3:
        text = "offer " + pick(draw, ["discount", "credit", "service"]) + " " + top_expr(draw, 2)
        if draw(st.booleans()):
            text += ' label "loyalty"'
        return text
    if kind == 4:
        return f"every {timing(draw)} up to {draw(st.integers(1, 5))}"
    if kind == 5:
        return "due " + timing(draw)
    if kind == 6:
        return f"when {top_expr(draw)} -> {pick(draw, TARGETS)}"
    if kind == 7:
        return "-> " + pick(draw, TARGETS)
    if kind == 8:
        return "on timeout -> " + pick(draw, TARGETS)
    return handler(draw)


def handler(draw: Draw) -> str:
    text = "on " + pick(draw, EVENTS)
    if draw(st.booleans()):
        text += " when " + top_expr(draw)
    return text + " -> " + pick(draw, TARGETS)


def block(draw: Draw, items: list[str]) -> str:
    """`{ ... }` with random separators, on one line or many."""
    out = "{" + pick(draw, ["", " "])
    if draw(st.booleans()):
        out += newline(draw)
    for index, item in enumerate(items):
        if index:
            out += sep(draw)
        out += item
    if items and draw(st.booleans()):
        out += sep(draw)
    if draw(st.booleans()):
        out += newline(draw)
    return out + pick(draw, ["", " "]) + "}"


def field(draw: Draw, name: str) -> str:
    kind = pick(draw, ["text", "number", "bool", "money(USD)", "enum(bronze, gold)", "list(text)"])
    if draw(st.booleans()):
        kind += "?"
    return name + pick(draw, [":", " :", ": ", ":  "]) + kind


def fields(draw: Draw) -> list[str]:
    names = draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True))
    return [field(draw, name) for name in names]


def declaration(draw: Draw, index: int) -> str:
    kind = int(draw(st.integers(0, 16)))
    if kind == 0:
        return 'title "A title"'
    if kind == 1:
        items = [
            'timezone "Asia/Manila"',
            "hours "
            + pick(draw, ["mon-fri", "mon - fri", "sat,sun", "mon, wed"])
            + " "
            + pick(draw, ["09:00-18:00", "09:00 - 12:00, 13:00-18:00"]),
            pick(draw, ['holidays "PH"', "holidays 2026-12-24, 2026-12-31", "open 2026-04-03"]),
        ]
        return f"calendar {pick(draw, CALENDARS)} " + block(draw, items)
    if kind == 2:
        return "case " + block(draw, fields(draw))
    if kind in (3, 4):
        word = "event" if kind == 3 else "action"
        text = f"{word} {pick(draw, EVENTS)}{index}"
        return text + (" " + block(draw, fields(draw)) if draw(st.integers(0, 3)) else "")
    if kind == 5:
        return f"const {pick(draw, CONSTS)} = {top_expr(draw)}"
    if kind == 6:
        mode = int(draw(st.integers(0, 2)))
        text = f"trigger t{index} "
        if mode == 0:
            text += "on " + pick(draw, EVENTS)
            if draw(st.booleans()):
                text += " when " + top_expr(draw)
        elif mode == 1:
            text += "when " + top_expr(draw)
        else:
            text += "at " + top_expr(draw, 2)
            if draw(st.booleans()):
                text += " when " + top_expr(draw)
        if draw(st.booleans()):
            text += " cooldown " + duration(draw)
        return text
    if kind == 7:
        what = pick(draw, ["compensation", "discount", "grants"])
        amount = "2" if what == "grants" else top_expr(draw, 2)
        text = f"limit {what} per {pick(draw, ['case', 'client'])} {amount}"
        return text + (" over 365d" if draw(st.booleans()) else "")
    if kind == 8:
        return f'approve compensation above {top_expr(draw, 2)} by "director"'
    if kind == 9:
        text = f"sla s{index} {duration(draw)}"
        if draw(st.booleans()):
            text += " in support"
        if draw(st.booleans()):
            text += " from listen"
        text += " until " + pick(draw, [*TARGETS, "outcome"])
        if draw(st.booleans()):
            text += " warn 1h before"
        if draw(st.booleans()):
            text += " pause in " + pick(draw, ["solve", "solve, escalate", "solve ,escalate"])
        if draw(st.booleans()):
            text += " breach -> escalate"
        return text
    if kind == 10:
        return f"measure m{index} from survey_answered.score" + pick(draw, ["", " as csat"])
    if kind == 11:
        return handler(draw)
    if kind == 12:
        return "start " + pick(draw, STEPS)
    if kind in (13, 14, 15):
        title = pick(draw, ["", ' "A step"'])
        count = int(draw(st.integers(0, 6)))
        return f"step {pick(draw, STEPS)}{index}{title} " + block(
            draw, [statement(draw) for _ in range(count)]
        )
    return "outcome " + pick(draw, OUTCOMES) + pick(draw, ["", " as retained", " as churned"])


@st.composite
def workflows(draw: Draw) -> str:
    text = ""
    for _ in range(int(draw(st.integers(0, 2)))):
        text += comment(draw) + "\n" + pick(draw, ["", "\n"])
    text += pick(draw, ["", "  "]) + "workflow generated version 1"
    for index in range(int(draw(st.integers(0, 8)))):
        text += sep(draw) + declaration(draw, index)
    if draw(st.booleans()):
        text += sep(draw)
    if draw(st.booleans()):
        text += "\n" + comment(draw)
    return text + pick(draw, ["", "\n", "\n\n"])


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(workflows())
def test_generated_workflows(text: str) -> None:
    check_properties(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
def test_indentation_does_not_matter(text: str) -> None:
    """Indentation is insignificant: the formatted text with every line dedented (or
    indented with tabs) formats back to the same text."""
    formatted = format_text(text)
    lines = formatted.split("\n")
    assert format_text("\n".join(line.lstrip() for line in lines)) == formatted
    assert format_text("\n".join("\t" + line for line in lines)) == formatted
