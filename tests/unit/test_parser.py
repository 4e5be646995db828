"""Parser and lowering: the whole language parses into the typed AST with real values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from retainflow import nodes as n
from retainflow.analysis import analyze_text, parse_workflow
from retainflow.diagnostics import location
from retainflow.parser import grammar_text
from retainflow.source import SourceFile
from retainflow.values import Duration, Money, Percent
from tests.support import COMPLETE_EXAMPLE, require_conformance


def parse(text: str) -> n.Workflow:
    workflow, diagnostics = parse_workflow(SourceFile("t.rflow", text))
    assert workflow is not None, diagnostics
    assert not diagnostics, diagnostics
    return workflow


def const_expr(expr: str) -> n.Expr:
    return parse(f"workflow t version 1\nconst x = {expr}\n").of(n.Const)[0].value


def first_syntax_error(text: str) -> tuple[int, int, str]:
    analysis = analyze_text(text)
    assert [d.code for d in analysis.diagnostics] == ["RF001"], analysis.diagnostics
    diag = analysis.diagnostics[0]
    loc = location(analysis.source, diag.span)
    return loc["line"], loc["column"], diag.message


def test_complete_example_parses() -> None:
    require_conformance()
    workflow = parse(COMPLETE_EXAMPLE.read_text(encoding="utf-8"))
    assert workflow.name == "reactive_retention"
    assert workflow.version == 3
    assert [s.name.text for s in workflow.steps] == [
        "listen",
        "apologize",
        "solve",
        "waiting_on_client",
        "compensate",
        "root_cause",
        "follow_up",
        "check_in",
        "escalate",
    ]
    assert [(o.name.text, o.kind_text) for o in workflow.outcomes] == [
        ("retained", "retained"),
        ("churned", "churned"),
    ]
    assert workflow.comments[0].text.startswith("# Reactive retention")
    assert workflow.comments[0].own_line


def test_literals_become_values() -> None:
    assert const_expr("1200.50 EUR") == n.MoneyLit(Money(Decimal("1200.50"), "EUR"))
    assert const_expr("15%") == n.PercentLit(Percent(Decimal(15)))
    assert const_expr("4.5") == n.Number(Decimal("4.5"))
    assert const_expr("30d") == n.DurationLit(Duration(30, "d"))
    assert const_expr('"a \\"b\\" \\\\ c\\n"') == n.String('a "b" \\ c\n')
    assert const_expr("none") == n.NoneLit()
    assert const_expr("[true, false]") == n.ListExpr((n.Bool(True), n.Bool(False)))


def test_calendar_values() -> None:
    workflow = parse(
        "workflow t version 1\n"
        "calendar c {\n"
        '  timezone "Asia/Manila"\n'
        "  hours mon-fri 09:00-12:00, 13:00-18:00\n"
        "  hours sun 22:00-06:00; hours sat 09:00-24:00\n"
        '  holidays "PH"\n'
        "  holidays 2026-12-24, 2026-12-31\n"
        "  open 2026-04-03\n"
        "}\n"
    )
    calendar = workflow.of(n.Calendar)[0]
    kinds = [type(item).__name__ for item in calendar.items]
    assert kinds == [
        "CalTimezone",
        "CalHours",
        "CalHours",
        "CalHours",
        "CalHolidaysCountry",
        "CalHolidaysDates",
        "CalOpen",
    ]
    hours = calendar.items[1]
    assert isinstance(hours, n.CalHours)
    assert [(i.open.minutes, i.close.minutes) for i in hours.intervals] == [(540, 720), (780, 1080)]
    assert calendar.items[3].intervals[0].close.minutes == 1440  # type: ignore[union-attr]
    dates = calendar.items[5]
    assert isinstance(dates, n.CalHolidaysDates)
    assert [d.value for d in dates.dates] == [dt.date(2026, 12, 24), dt.date(2026, 12, 31)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1 + 2 * 3",
            n.Arith(
                "+", n.Number(Decimal(1)), n.Arith("*", n.Number(Decimal(2)), n.Number(Decimal(3)))
            ),
        ),
        ("not a == b", n.Not(n.Compare("==", n.ConstRef(n.Name("a")), n.ConstRef(n.Name("b"))))),
        (
            "a or b and c",
            n.BoolOp(
                "or",
                n.ConstRef(n.Name("a")),
                n.BoolOp("and", n.ConstRef(n.Name("b")), n.ConstRef(n.Name("c"))),
            ),
        ),
        (
            "10% of 20% of m",
            n.Of(
                n.PercentLit(Percent(Decimal(10))),
                n.Of(n.PercentLit(Percent(Decimal(20))), n.ConstRef(n.Name("m"))),
            ),
        ),
        ("-1 - 2", n.Arith("-", n.Negate(n.Number(Decimal(1))), n.Number(Decimal(2)))),
        (
            "a not in [1]",
            n.Compare("not in", n.ConstRef(n.Name("a")), n.ListExpr((n.Number(Decimal(1)),))),
        ),
        ("a is not none", n.IsNone(n.ConstRef(n.Name("a")), negated=True)),
        (
            "if a then 1 else 2",
            n.IfExpr(n.ConstRef(n.Name("a")), n.Number(Decimal(1)), n.Number(Decimal(2))),
        ),
        (
            "min(1, 2 + 3)",
            n.Call(
                n.Name("min"),
                (n.Number(Decimal(1)), n.Arith("+", n.Number(Decimal(2)), n.Number(Decimal(3)))),
            ),
        ),
    ],
)
def test_precedence(text: str, expected: n.Expr) -> None:
    assert const_expr(text) == expected


def test_equality_ignores_spans_and_layout() -> None:
    one = parse("workflow t version 1\nstep a { -> done }\noutcome done\nstart a")
    two = parse(
        "# comment\n\nworkflow  t  version 1;step a {\n\n  -> done  # go\n}\noutcome done;start a\n"
    )
    assert one == two


def test_free_names_after_dots_and_in_arguments() -> None:
    workflow = parse(
        "workflow t version 1\n"
        "event e { outcome: text }\n"
        "step a {\n  do create_rca(within: 10d, in: 1)\n"
        '  on e when event.outcome == "x" -> done\n}\n'
        "outcome done\nstart a\n"
    )
    step = workflow.steps[0]
    do = step.statements(n.Do)[0]
    assert [arg.name.text for arg in do.args] == ["within", "in"]
    assert step.handlers[0].guard == n.Compare("==", n.EventRef(n.Name("outcome")), n.String("x"))


def test_arguments_span_lines() -> None:
    workflow = parse(
        'workflow t version 1\nstep a {\n  do notify(\n    role: "x",\n'
        "    level: 2\n  )\n  -> done\n}\noutcome done\n"
    )
    assert len(workflow.steps[0].statements(n.Do)[0].args) == 2


def test_spans_point_at_names() -> None:
    text = "workflow t version 1\nstep listen {\n  on timeout -> esclate\n}\n"
    workflow = parse(text)
    target = workflow.steps[0].handlers[0].target
    assert text[target.span.start : target.span.end] == "esclate"


def test_chained_comparison_is_a_syntax_error() -> None:
    line, column, message = first_syntax_error("workflow t version 1\nconst x = 1 < 2 < 3\n")
    assert (line, column) == (2, 17)
    assert "expected" in message


def test_fractional_duration_is_rf001() -> None:
    line, column, message = first_syntax_error("workflow t version 1\nstep a {\n  due 1.5h\n}\n")
    assert (line, column) == (3, 7)
    assert "1.5h" in message


def test_reserved_word_names_nothing() -> None:
    line, column, message = first_syntax_error("workflow t version 1\nstep timeout { }\n")
    assert (line, column) == (2, 6)
    assert "reserved" in message


def test_missing_brace_says_what_was_expected() -> None:
    line, _, message = first_syntax_error("workflow t version 1\nstep a {\n  -> b\n")
    assert line == 3
    assert "'}'" in message


def test_grammar_ships_with_the_package() -> None:
    assert "workflow" in grammar_text()


def test_a_line_that_ends_too_early_says_so() -> None:
    analysis = analyze_text("workflow w version 1\nstart a\nstep a { on x ->\n}\noutcome done\n")
    (diag,) = [d for d in analysis.diagnostics if d.code == "RF001"]
    assert diag.message == "the line ends here: expected a name"
    where = location(analysis.source, diag.span)
    assert (where["line"], where["column"]) == (3, 17)
