"""The formatter, construct by construct, and `retainflow fmt` through the command line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from retainflow import exprs, formatter
from retainflow import nodes as n
from retainflow.analysis import analyze_text, parse_workflow
from retainflow.cli import main
from retainflow.formatter import MAX_WIDTH, FormatError, canonical, format_text, format_workflow
from retainflow.lint import LintConfig, apply_configuration
from retainflow.source import SourceFile

HEAD = "workflow w version 1\n"


def fmt(text: str) -> str:
    result = format_text(text)
    assert format_text(result) == result, "not idempotent"
    return result


def body(text: str) -> str:
    """The formatted text after the header and its blank line."""
    result = fmt(HEAD + text)
    assert result.startswith(HEAD + "\n"), result
    return result[len(HEAD) + 1 :]


def block(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def parse(text: str) -> n.Workflow:
    workflow, diagnostics = parse_workflow(SourceFile("t.rflow", text))
    assert workflow is not None, diagnostics
    return workflow


def expr_text(source: str) -> str:
    """How the formatter writes an expression (as the value of a constant)."""
    out = body(f"const x = {source}\n")
    assert out.startswith("const x = ") and out.count("\n") == 1, out
    return out[len("const x = ") : -1]


# ---- header, title, declarations and blank lines ---------------------------------------


def test_header_and_title_stay_together() -> None:
    assert fmt('workflow   w  version 01\n\n\ntitle   "T"\nstart a') == (
        'workflow w version 1\ntitle "T"\n\nstart a\n'
    )


def test_declarations_keep_source_order_with_one_blank_line_between_kinds() -> None:
    source = "workflow w version 1;outcome done;start a;const x = 1;step a { -> done };const y = 2"
    assert fmt(source) == block(
        """
        workflow w version 1

        outcome done

        start a

        const x = 1

        step a {
          -> done
        }

        const y = 2
        """
    )


def test_one_line_declarations_of_a_kind_stay_grouped() -> None:
    source = block(
        """
        workflow w version 1
        trigger a on e1
        trigger b on e2
        limit compensation per case 5 USD
        limit grants per client 2 over 90d
        approve compensation above 2 USD by "lead"
        sla s 4h until done
        measure m from e1.score
        on e3 -> done
        on e4 -> done
        outcome done
        outcome lost as churned
        """
    )
    assert fmt(source) == block(
        """
        workflow w version 1

        trigger a on e1
        trigger b on e2

        limit compensation per case 5 USD
        limit grants per client 2 over 90d
        approve compensation above 2 USD by "lead"

        sla s 4h until done

        measure m from e1.score

        on e3 -> done
        on e4 -> done

        outcome done
        outcome lost as churned
        """
    )


def test_blank_lines_inside_a_group_are_kept_as_at_most_one() -> None:
    assert body("const a = 1\n\n\n\nconst b = 2\nconst c = 3\n") == (
        "const a = 1\n\nconst b = 2\nconst c = 3\n"
    )


def test_events_and_actions_on_one_line_when_short() -> None:
    source = block(
        """
        workflow w version 1
        event a {}
        event b { x: number }
        event c {
          x: number
          y: text?
        }
        action d {x:text;y:text;z:text}
        event e
        """
    )
    assert fmt(source) == block(
        """
        workflow w version 1

        event a
        event b { x: number }
        event c { x: number; y: text? }

        action d {
          x: text
          y: text
          z: text
        }

        event e
        """
    )


def test_a_long_event_goes_on_several_lines() -> None:
    name = "a_very_long_field_name_" * 3
    out = body(f"event e {{ {name}1: text; {name}2: text }}\n")
    assert out == f"event e {{\n  {name}1: text\n  {name}2: text\n}}\n"


def test_case_schema_and_types() -> None:
    source = "case { client:text; tier : enum( a,b ) ; arr:money( USD ); tags: list(text)? }\n"
    assert body(source) == block(
        """
        case {
          client: text
          tier: enum(a, b)
          arr: money(USD)
          tags: list(text)?
        }
        """
    )
    assert body("case {}\n") == "case {}\n"


def test_calendar() -> None:
    source = (
        'calendar c { timezone "Asia/Manila"; hours mon , wed - fri 09:00 - 12:00 ,13:00-18:00;'
        ' holidays "PH"; holidays 2026-12-24 ,2026-12-31; open 2026-04-03 }\n'
    )
    assert body(source) == block(
        """
        calendar c {
          timezone "Asia/Manila"
          hours mon,wed-fri 09:00-12:00, 13:00-18:00
          holidays "PH"
          holidays 2026-12-24, 2026-12-31
          open 2026-04-03
        }
        """
    )


def test_triggers() -> None:
    source = block(
        """
        trigger a on  complaint   when event.score<=2 cooldown 30d
        trigger b when case.x   or case.y
        trigger c at case.renewal-30d when case.tier=="gold" cooldown grace
        """
    )
    assert body(source) == block(
        """
        trigger a on complaint when event.score <= 2 cooldown 30d
        trigger b when case.x or case.y
        trigger c at case.renewal - 30d when case.tier == "gold" cooldown grace
        """
    )


def test_sla_measure_start_outcome() -> None:
    source = block(
        """
        sla s 5d in support from listen until outcome warn 1h before pause in a ,b breach -> esc
        measure m from survey.score as csat
        """
    )
    assert body(source) == block(
        """
        sla s 5d in support from listen until outcome warn 1h before pause in a, b breach -> esc

        measure m from survey.score as csat
        """
    )


# ---- steps -------------------------------------------------------------------------------


def test_step_statements_are_written_in_the_table_order() -> None:
    source = block(
        """
        step s "Title" {
          on timeout -> t
          on b -> t
          -> u
          when case.x -> v
          due 2d in cal
          on a when event.ok -> t
          every 1d up to 3
          offer discount 10% of case.arr label "l"
          do first
          wait 1h
          do second(k: 1)
        }
        """
    )
    assert body(source) == block(
        """
        step s "Title" {
          wait 1h
          offer discount 10% of case.arr label "l"
          do first
          do second(k: 1)
          every 1d up to 3
          due 2d in cal
          -> u
          when case.x -> v
          on b -> t
          on a when event.ok -> t
          on timeout -> t
        }
        """
    )


def test_reordering_keeps_meaning() -> None:
    source = HEAD + "step s { on timeout -> t; on b -> t; -> u; when case.x -> v; due 2d; do a }\n"
    before, after = parse(source), parse(fmt(source))
    assert after != before  # the statements moved...
    assert after == canonical(before)  # ...each group in its source order
    step = after.steps[0]
    assert [type(s).__name__ for s in step.body] == ["Do", "Due", "Goto", "When", "On", "On"]


def test_one_line_and_empty_steps() -> None:
    assert body("step a { do x(); -> b }; step c {}\n") == block(
        """
        step a {
          do x
          -> b
        }

        step c {}
        """
    )


def test_do_arguments_and_lists() -> None:
    assert body('step a { do call( client :case.client , tags:["a","b"] ) }\n') == block(
        """
        step a {
          do call(client: case.client, tags: ["a", "b"])
        }
        """
    )


# ---- expressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1+2*3", "1 + 2 * 3"),
        ("(1 + 2) * 3", "(1 + 2) * 3"),
        ("1 - (2 - 3)", "1 - (2 - 3)"),
        ("(1 - 2) - 3", "1 - 2 - 3"),
        ("a or (b and c)", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("a and (b and c)", "a and (b and c)"),
        ("not (a == b)", "not a == b"),
        ("not (a and b)", "not (a and b)"),
        ("(not a) == b", "(not a) == b"),
        ("10% of (5% of case.arr)", "10% of 5% of case.arr"),
        ("(10% of 5%) of case.arr", "(10% of 5%) of case.arr"),
        ("-(a + b)", "-(a + b)"),
        ("- (-a)", "- -a"),
        ("(if a then 1 else 2) + 3", "(if a then 1 else 2) + 3"),
        ("if a then 1 else if b then 2 else 3", "if a then 1 else if b then 2 else 3"),
        ("case.x  is  not  none", "case.x is not none"),
        ("case.t not  in [ 'x' ]".replace("'", '"'), 'case.t not in ["x"]'),
        ("min( 1 ,2, max(3,4) )", "min(1, 2, max(3, 4))"),
        ("(a < b) == true", "(a < b) == true"),
        (
            "trigger == 'a' and elapsed > 2d and now > case.t".replace("'", '"'),
            'trigger == "a" and elapsed > 2d and now > case.t',
        ),
        ("offer.status in []", "offer.status in []"),
    ],
)
def test_expressions_get_spaces_and_minimal_parentheses(source: str, expected: str) -> None:
    assert expr_text(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "4.50",  # numbers as written
        "1200.50 EUR",
        "5 ABC",  # an unknown currency stays wrong (RF002), never becomes another code
        "12.5%",
        '"say \\"hi\\"\\nthen go"',
        '"\\q"',  # an unknown escape (RF002) is kept as written
        "[true, false, none]",
    ],
)
def test_literals_are_kept_as_written(source: str) -> None:
    assert expr_text(source) == source


def test_wrong_calendar_literals_are_kept_as_written() -> None:
    source = "calendar c {\n  hours mon 25:00-26:00\n  holidays 2026-13-01\n}\n"
    assert body(source) == source


@pytest.mark.parametrize("count", ["3", "1.5", "-1", "0", "2.0"])
def test_every_counts_are_kept_as_written(count: str) -> None:
    # a count that is RF002 (`up to 1.5`) must not be rewritten into a valid one
    source = f"step s {{\n  every 1h up to {count}\n  -> done\n}}\n"
    assert body(source) == source


def test_money_gets_one_space_before_its_currency() -> None:
    assert expr_text("1200.50 \t  EUR") == "1200.50 EUR"


@pytest.mark.parametrize(
    "source",
    [
        "a or b and not c",
        "(a or b) and c",
        "1 - (2 - 3) * -4",
        "10% of 5% of case.arr + 3 USD",
        "if a then (if b then 1 else 2) else 3",
        "case.t in ['a', 'b'] or case.n is not none".replace("'", '"'),
        "min(1, 2) / (3 * 4)",
    ],
)
def test_the_same_parentheses_as_exprs_render(source: str) -> None:
    value = parse(f"{HEAD}const x = {source}\n").of(n.Const)[0].value
    assert expr_text(source) == exprs.render(value)


# ---- long lines ------------------------------------------------------------------------------


def test_long_do_arguments_go_one_per_line() -> None:
    source = (
        'step a { do notify(role: "retention_director", template: "escalation_notice",'
        " client: case.client, urgency: 3) }\n"
    )
    assert body(source) == block(
        """
        step a {
          do notify(
            role: "retention_director",
            template: "escalation_notice",
            client: case.client,
            urgency: 3
          )
        }
        """
    )


def test_long_conditions_break_at_and_or_inside_parentheses() -> None:
    source = (
        'step a { on e when event.score >= 4 and (case.tier == "gold" or case.tier =='
        ' "platinum") and case.open_tickets < 3 -> b }\n'
    )
    assert body(source) == block(
        """
        step a {
          on e when (
            event.score >= 4
            and (case.tier == "gold" or case.tier == "platinum")
            and case.open_tickets < 3
          ) -> b
        }
        """
    )


def test_nested_chains_break_again_when_still_too_long() -> None:
    long_or = " or ".join(f'case.reason == "reason_number_{i}"' for i in range(4))
    out = body(f"const c = case.active and ({long_or})\n")
    assert out == block(
        """
        const c = (
          case.active
          and (
            case.reason == "reason_number_0"
            or case.reason == "reason_number_1"
            or case.reason == "reason_number_2"
            or case.reason == "reason_number_3"
          )
        )
        """
    )
    assert all(len(line) <= MAX_WIDTH for line in out.splitlines())


def test_long_lists_ifs_and_sums_break_too() -> None:
    items = ", ".join(f'"segment_{i}"' for i in range(12))
    out = body(f"trigger t when case.segment in [{items}]\n")
    assert out.startswith('trigger t when case.segment in [\n  "segment_0",\n')
    assert out.endswith('  "segment_11"\n]\n')
    out = body(
        "const p = if case.annual_recurring_revenue >= very_important_client_threshold"
        ' then "urgent" else "normal"\n'
    )
    assert out == block(
        """
        const p = (
          if case.annual_recurring_revenue >= very_important_client_threshold
          then "urgent"
          else "normal"
        )
        """
    )
    out = body("const s = " + " + ".join(f"case.amount_of_item_{i}" for i in range(5)) + "\n")
    assert out.splitlines()[1:3] == ["  case.amount_of_item_0", "  + case.amount_of_item_1"]


def test_short_enough_lines_are_not_broken() -> None:
    line = "const c = " + " and ".join(["case.abcdefgh"] * 5)
    assert len(line) <= MAX_WIDTH
    assert body(line + "\n") == line + "\n"


# ---- comments ----------------------------------------------------------------------------------


def test_comments_stay_where_they_were() -> None:
    source = block(
        """

        # top of the file

        # second paragraph
        workflow w version 1   # the header
        # before the case
        case {# opening
          client: text   # who
          # the end of the case
        }    # after the case
        start a
        step a { # first step
          # before the action
          do call(client: case.client)   # at the end
          -> b
          # before the closing brace
        }
        outcome b
        # at the end of the file
        """
    )
    assert fmt(source) == block(
        """
        # top of the file

        # second paragraph
        workflow w version 1  # the header

        # before the case
        case {  # opening
          client: text  # who
          # the end of the case
        }  # after the case

        start a

        step a {  # first step
          # before the action
          do call(client: case.client)  # at the end
          -> b
          # before the closing brace
        }

        outcome b
        # at the end of the file
        """
    )


def test_comments_travel_with_reordered_statements() -> None:
    source = "step a {\n  on timeout -> b  # late\n  # the deadline\n  due 2d\n}\n"
    assert body(source) == "step a {\n  # the deadline\n  due 2d\n  on timeout -> b  # late\n}\n"


def test_comments_inside_arguments_keep_their_argument() -> None:
    source = block(
        """
        step a {
          do call(  # who and why
            client: case.client,  # the account
            # the reason
            reason: "churn risk")
        }
        """
    )
    assert body(source) == block(
        """
        step a {
          do call(  # who and why
            client: case.client,  # the account
            # the reason
            reason: "churn risk"
          )
        }
        """
    )


def test_comments_inside_conditions_keep_their_operand() -> None:
    source = "step a {\n  when (case.a  # first\n    or case.b) -> c\n}\n"
    assert body(source) == "step a {\n  when (\n    case.a  # first\n    or case.b\n  ) -> c\n}\n"


def test_a_comment_with_no_place_inside_goes_before_its_line() -> None:
    source = "const c = min(1,\n  10% of  # the share\n  case.arr)\n"
    assert body(source) == "const c = min(\n  1,\n  # the share\n  10% of case.arr\n)\n"


def test_a_second_comment_after_a_semicolon_gets_its_own_line() -> None:
    source = "step a {\n  do x  # one\n  ; # two\n  -> b\n}\n"
    assert body(source) == "step a {\n  do x  # one\n  # two\n  -> b\n}\n"


def test_comment_text_is_kept_without_trailing_blanks() -> None:
    assert body("const a = 1 #  spaced   \n") == "const a = 1  #  spaced\n"


def test_suppression_comments_stay_on_their_line() -> None:
    source = "step a {\n  do x\n  -> b  # rflow: ignore[RF206]\n  -> c\n}\n"
    assert "  -> b  # rflow: ignore[RF206]\n" in body(source)


def test_a_line_with_a_suppression_is_not_broken() -> None:
    guard = " and ".join(f"case.some_long_field_{i} > {i}" for i in range(4))
    for source in (
        f"const c = {guard}  # rflow: ignore[RF601]\n",
        f"# rflow: ignore[RF601]\nconst c = {guard}\n",
    ):
        assert body(source) == source
    assert body(f"const c = {guard}  # a plain comment\n").count("\n") > 1


def test_the_end_comment_of_a_one_line_block_goes_to_its_opening_line() -> None:
    source = "step a { do x; -> b }  # a note\nstep b {\n  -> a\n}  # b ends\n"
    assert body(source) == block(
        """
        step a {  # a note
          do x
          -> b
        }

        step b {
          -> a
        }  # b ends
        """
    )


# ---- suppressions: a suppressed line is never split -----------------------------------------

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.rflow"))


def lint_codes(text: str) -> list[str]:
    """The codes `retainflow lint` reports for a text (suppressions and RF901 applied)."""
    report = apply_configuration(analyze_text(text, "t.rflow"), LintConfig())
    return sorted(d.code for d in report.diagnostics)


def same_lint(source: str, expected: str) -> None:
    """fmt(source) is `expected`, idempotent, means the same and lints the same."""
    result = fmt(source)
    assert result == expected
    assert parse(result) == canonical(parse(source))
    assert sorted(c.text for c in parse(result).comments) == sorted(
        c.text.rstrip() for c in parse(source).comments
    )
    assert lint_codes(result) == lint_codes(source)


def test_statements_sharing_a_suppressed_line_stay_on_it() -> None:
    source = block(
        """
        workflow s1 version 1
        start s
        step s {
          due 1h; do a  # rflow: ignore[RF402]
          on e1 -> done
        }
        outcome done
        """
    )
    assert lint_codes(source) == []
    same_lint(
        source,
        block(
            """
            workflow s1 version 1

            start s

            step s {
              do a; due 1h  # rflow: ignore[RF402]
              on e1 -> done
            }

            outcome done
            """
        ),
    )
    # The same after a suppression standing alone on the line before.
    alone = source.replace(
        "  due 1h; do a  # rflow: ignore[RF402]", "  # rflow: ignore[RF402]\n  due 1h; do a"
    )
    same_lint(
        alone,
        fmt(source).replace(
            "  do a; due 1h  # rflow: ignore[RF402]", "  # rflow: ignore[RF402]\n  do a; due 1h"
        ),
    )
    # Without a suppression the line is split as always.
    plain = source.replace("# rflow: ignore[RF402]", "# note")
    assert "  do a  # note\n  due 1h\n" in fmt(plain)


CALENDAR = (
    'calendar cal { timezone "Mars/Olympus"; hours mon-fri 09:00-17:00 }  # rflow: ignore[RF002]'
)


def test_a_one_line_block_with_a_suppression_stays_on_one_line() -> None:
    source = block(
        """
        workflow s3 version 1
        case { client: text; tier: enum(a, b) }
        CALENDAR
        start s
        step s { do x(y: case.tier == "zz") ; on e -> done }  # rflow: ignore[RF104]
        outcome done
        """
    ).replace("CALENDAR", CALENDAR)
    assert not {"RF002", "RF104", "RF901"} & set(lint_codes(source))
    same_lint(
        source,
        block(
            """
            workflow s3 version 1

            case {
              client: text
              tier: enum(a, b)
            }

            CALENDAR

            start s

            step s { do x(y: case.tier == "zz"); on e -> done }  # rflow: ignore[RF104]

            outcome done
            """
        ).replace("CALENDAR", CALENDAR),
    )


def test_one_line_steps_after_or_under_a_suppression_keep_their_line() -> None:
    source = block(
        """
        workflow s4 version 1
        start t
        step t { on e1 -> done; on e1 -> s }  # rflow: ignore[RF206]
        # rflow: ignore[RF402]
        step s {due 1h;on e1 -> done}
        outcome done
        """
    )
    assert lint_codes(source) == []
    same_lint(
        source,
        block(
            """
            workflow s4 version 1

            start t

            step t { on e1 -> done; on e1 -> s }  # rflow: ignore[RF206]

            # rflow: ignore[RF402]
            step s { due 1h; on e1 -> done }

            outcome done
            """
        ),
    )


def test_one_line_blocks_under_a_suppression_take_the_canonical_one_line_form() -> None:
    source = (
        "case {client:text;tier:enum(a,b); arr: money(USD)}  # rflow: ignore[RF105]\n"
        "event e { a: number; b: text; c: bool }  # rflow: ignore[RF105]\n"
        "step s { on e -> s; wait 1h; due 2h in c; on timeout -> s }  # rflow: ignore[RF202]\n"
    )
    assert body(source) == (
        "case { client: text; tier: enum(a, b); arr: money(USD) }  # rflow: ignore[RF105]\n\n"
        "event e { a: number; b: text; c: bool }  # rflow: ignore[RF105]\n\n"
        "step s { wait 1h; due 2h in c; on e -> s; on timeout -> s }  # rflow: ignore[RF202]\n"
    )
    long = "do notify(" + ", ".join(f"argument_{i}: case.field_{i}" for i in range(6)) + ")"
    source = f"step s {{ {long}; -> s }}  # rflow: ignore[RF202]\n"
    assert body(source) == source


def test_items_and_declarations_sharing_a_suppressed_line_stay_on_it() -> None:
    source = "case {\n  client: text; tier: enum(a, b)  # rflow: ignore[RF002]\n  arr: number\n}\n"
    assert body(source) == source
    source = "start s; outcome done  # rflow: ignore[RF202]\n"
    assert body(source) == source
    assert body("start s; outcome done  # note\n") == "start s\n\noutcome done  # note\n"


def test_statements_between_those_of_a_suppressed_line_join_it() -> None:
    """A step keeps the table order: the `do` between the line's `do` and `->` joins the
    line; if it cannot (it has a comment), the line is split as it would be without."""
    source = "step s {\n  do a; -> s  # rflow: ignore[RF206]\n  do b\n}\n"
    assert body(source) == "step s {\n  do a; do b; -> s  # rflow: ignore[RF206]\n}\n"
    source = "step s {\n  do a; -> s  # rflow: ignore[RF206]\n  do b  # mine\n}\n"
    assert body(source) == "step s {\n  do a\n  do b  # mine\n  -> s  # rflow: ignore[RF206]\n}\n"


def one_line_variants(text: str) -> list[str]:
    """The file with its comment-free blocks written on one line with a suppression at the
    end; with a suppression standing alone before them; with the first two lines of each
    joined by `;` under a suppression; and the same with those two swapped."""
    lines = text.split("\n")
    spans: list[tuple[int, int]] = []
    for decl in parse(text).declarations:
        first = text.count("\n", 0, decl.span.start)
        last = text.count("\n", 0, decl.span.end)
        inner = lines[first + 1 : last]
        if (
            last - first >= 3
            and lines[first].endswith("{")
            and lines[last] == "}"
            and not any("#" in line for line in lines[first : last + 1])
            and all(line.startswith("  ") and line[2] != " " for line in inner)
        ):
            spans.append((first, last))
    assert spans
    variants: list[list[str]] = [[], [], [], []]
    at = 0
    for first, last in spans:
        for variant in variants:
            variant.extend(lines[at:first])
        inner = [line.strip() for line in lines[first + 1 : last]]
        one = f"{lines[first]} {'; '.join(inner)} }}"
        variants[0].append(f"{one}  # rflow: ignore[RF402]")
        variants[1].extend(["# rflow: ignore[RF402]", one])
        for variant, pair in ((variants[2], inner[:2]), (variants[3], inner[1::-1])):
            variant.extend([lines[first], f"  {'; '.join(pair)}  # rflow: ignore[RF206]"])
            variant.extend(lines[first + 3 : last + 1])
        at = last + 1
    for variant in variants:
        variant.extend(lines[at:])
    return ["\n".join(variant) for variant in variants]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_suppressed_lines_of_the_shipped_workflows_stay_whole(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for index, variant in enumerate(one_line_variants(text)):
        result = fmt(variant)
        if index < 3:
            assert result == variant
        assert parse(result) == canonical(parse(variant))
        assert lint_codes(result) == lint_codes(variant)


# ---- input forms and errors -----------------------------------------------------------------


def test_windows_line_endings_and_tabs() -> None:
    source = "workflow w version 1\r\n\tstart a  # go\r\n\r\n\tstep a {\r\n\t\t-> a\r\n\t}\r\n"
    assert fmt(source) == "workflow w version 1\n\nstart a  # go\n\nstep a {\n  -> a\n}\n"


def test_format_workflow_takes_a_parsed_tree() -> None:
    text = HEAD + "const   a=1"
    assert format_workflow(parse(text), text) == HEAD + "\nconst a = 1\n"


def test_a_syntax_error_raises_format_error_with_its_rf001() -> None:
    with pytest.raises(FormatError) as caught:
        format_text("workflow w version 1\nstep a {\n", "bad.rflow")
    error = caught.value
    assert error.diagnostic.code == "RF001"
    assert str(error).startswith("bad.rflow:2:")
    assert "error[RF001 syntax-error]" in error.render()


def test_a_reserved_name_is_a_format_error() -> None:
    with pytest.raises(FormatError) as caught:
        format_text("workflow w version 1\nstep timeout {}\n")
    assert "reserved" in caught.value.diagnostic.message


def test_long_chains_format_like_lint_reads_them() -> None:
    chain = " or ".join(f"case.f{i} > {i}" for i in range(2000))
    out = fmt(f"{HEAD}const a = {chain}\n")
    assert out.count("\n  or case.f") == 1999


def test_too_deep_nesting_is_a_format_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatter, "_RECURSION_LIMIT", 100)  # Python's default then
    deep = " or ".join(f"case.f{i} > {i}" for i in range(2000))
    with pytest.raises(FormatError) as caught:
        format_text(f"{HEAD}const a = {deep}\n")
    assert caught.value.diagnostic.code == "RF003"


# ---- retainflow fmt ------------------------------------------------------------------------------

MESSY = "workflow w version 1;start a;step a { -> done };outcome done"
CLEAN = format_text(MESSY)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "nested").mkdir(parents=True)
    (tmp_path / "flows" / "messy.rflow").write_text(MESSY, encoding="utf-8")
    (tmp_path / "flows" / "nested" / "clean.rflow").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "flows" / "notes.txt").write_text("not a workflow", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.rflow").write_text(MESSY, encoding="utf-8")
    return tmp_path


def fmt_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["fmt", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fmt_rewrites_files_in_place(tree: Path) -> None:
    clean = tree / "flows" / "nested" / "clean.rflow"
    before = clean.stat().st_mtime_ns
    code, out, err = fmt_cli()
    assert code == 0
    assert out == ""
    assert "reformatted flows/messy.rflow" in err
    assert "1 file reformatted, 1 file left unchanged" in err
    assert (tree / "flows" / "messy.rflow").read_text(encoding="utf-8") == CLEAN
    assert clean.stat().st_mtime_ns == before  # unchanged files are not written
    assert (tree / ".hidden" / "skip.rflow").read_text(encoding="utf-8") == MESSY
    assert (tree / "flows" / "notes.txt").read_text(encoding="utf-8") == "not a workflow"


def test_fmt_check_reports_and_writes_nothing(tree: Path) -> None:
    code, out, err = fmt_cli("--check", "flows")
    assert code == 1
    assert out == "would reformat flows/messy.rflow\n"
    assert "1 file would be reformatted, 1 file already formatted" in err
    assert (tree / "flows" / "messy.rflow").read_text(encoding="utf-8") == MESSY
    code, out, _ = fmt_cli("--check", "flows/nested")
    assert (code, out) == (0, "")


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tree: Path) -> None:
    code, out, err = fmt_cli("--diff", "flows")
    assert code == 0
    assert out.startswith("--- flows/messy.rflow\n+++ flows/messy.rflow\n@@ ")
    assert "-workflow w version 1;start a;step a { -> done };outcome done\n" in out
    assert "\\ No newline at end of file\n" in out
    assert "+step a {\n" in out
    assert (tree / "flows" / "messy.rflow").read_text(encoding="utf-8") == MESSY
    code, out, err = fmt_cli("--diff", "--check", "flows")
    assert code == 1
    assert out.startswith("--- flows/messy.rflow")
    assert "would reformat flows/messy.rflow" in err


def test_fmt_leaves_a_file_that_does_not_parse_untouched(tree: Path) -> None:
    broken = tree / "flows" / "broken.rflow"
    broken.write_text("workflow b version 1\nstep a {\n", encoding="utf-8")
    code, _, err = fmt_cli("flows")
    assert code == 1
    assert "flows/broken.rflow:2:9: error[RF001 syntax-error]" in err
    assert "1 file not parsed (left as is)" in err
    assert broken.read_text(encoding="utf-8") == "workflow b version 1\nstep a {\n"
    assert (tree / "flows" / "messy.rflow").read_text(encoding="utf-8") == CLEAN


def test_fmt_unreadable_files_and_missing_paths_exit_2(tree: Path) -> None:
    (tree / "flows" / "latin1.rflow").write_bytes("# caf\xe9\n".encode("latin-1") + b"x")
    (tree / "flows" / "broken.rflow").write_text("workflow", encoding="utf-8")
    code, _, err = fmt_cli("flows", "nowhere")
    assert code == 2  # the highest applicable wins over the syntax error's 1
    assert "retainflow: flows/latin1.rflow: is not UTF-8 text" in err
    assert "retainflow: nowhere: no such file or directory" in err
    assert "Traceback" not in err
    assert (tree / "flows" / "messy.rflow").read_text(encoding="utf-8") == CLEAN


def test_fmt_with_no_files_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = fmt_cli()
    assert (code, out) == (0, "")
    assert "0 files reformatted, 0 files left unchanged" in err


def test_fmt_help_names_the_options() -> None:
    result = CliRunner().invoke(main, ["fmt", "--help"])
    assert result.exit_code == 0
    assert "--check" in result.stdout and "--diff" in result.stdout
