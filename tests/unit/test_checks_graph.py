"""Graph and timing checks (RF202-RF206, RF208, RF403, RF404) on small workflows."""

from __future__ import annotations

from retainflow.analysis import parse_workflow
from retainflow.checks.graphs import check_graph
from retainflow.checks.sla_timing import check_sla_timing
from retainflow.diagnostics import Diagnostic, location
from retainflow.source import SourceFile
from tests.support import COMPLETE_EXAMPLE, require_conformance


def run(text: str, check: object = check_graph) -> list[tuple[str, int, int, str]]:
    source = SourceFile("w.rflow", text)
    workflow, problems = parse_workflow(source)
    assert workflow is not None, problems
    diags: list[Diagnostic] = check(workflow)  # type: ignore[operator]
    out = []
    for diag in sorted(diags, key=lambda d: (d.span.start, d.code)):
        loc = location(source, diag.span)
        out.append((diag.code, loc["line"], loc["column"], diag.message))
    return out


def codes(text: str, check: object = check_graph) -> list[tuple[str, int, int]]:
    return [(code, line, col) for code, line, col, _ in run(text, check)]


def test_unreachable_step_and_outcome() -> None:
    text = (
        "workflow w version 1\nstart a\n"
        "step a { -> done }\n"
        "step lonely { -> done }\n"
        "outcome done\noutcome never\n"
    )
    found = run(text)
    assert [(c, line, col) for c, line, col, _ in found] == [("RF202", 4, 6), ("RF202", 6, 9)]
    assert found[0][3] == "step 'lonely' cannot be reached from the start step 'a'"


def test_dead_end() -> None:
    text = "workflow w version 1\nstart a\nstep a { -> b }\nstep b { do x }\noutcome done\n"
    assert ("RF203", 4, 6) in codes(text)


def test_global_handler_is_a_way_out() -> None:
    text = (
        "workflow w version 1\nstart a\non cancel -> done\n"
        "step a { -> b }\nstep b { do x }\noutcome done\n"
    )
    assert codes(text) == []


def test_no_path_to_outcome() -> None:
    text = (
        "workflow w version 1\nstart a\n"
        "step a { on e -> b\n  on f -> done }\n"
        "step b { wait 1d\n  -> c }\n"
        "step c { on e -> b }\n"
        "outcome done\n"
    )
    assert codes(text) == [("RF204", 5, 6), ("RF204", 7, 6)]


def test_instant_loop_one_diagnostic_at_first_transition() -> None:
    text = (
        "workflow w version 1\nstart a\n"
        "step a { when case.x -> b\n  on e -> done }\n"
        "step b { -> c }\n"
        "step c { -> a }\n"
        "outcome done\n"
    )
    found = run(text)
    assert [(c, line, col) for c, line, col, _ in found] == [("RF205", 3, 10)]
    assert "a -> b -> c -> a" in found[0][3]


def test_instant_loops_one_diagnostic_per_elementary_cycle() -> None:
    text = (
        "workflow w version 1\ncase { vip: bool\n  csat: number }\nstart a\n"
        "step a { when case.vip -> b\n  when case.csat > 3 -> c\n  -> done }\n"
        "step b { -> a }\n"
        "step c { -> a }\n"
        "outcome done\n"
    )
    found = [d for d in run(text) if d[0] == "RF205"]
    assert [(c, line, col) for c, line, col, _ in found] == [("RF205", 5, 10), ("RF205", 6, 3)]
    assert found[0][3].endswith(": a -> b -> a")
    assert found[1][3].endswith(": a -> c -> a")


def test_instant_loop_named_from_its_first_transition_in_source_order() -> None:
    # the cycle's earliest transition is b's, so the loop is named from b
    text = (
        "workflow w version 1\nstart a\n"
        "step b { -> c }\n"
        "step a { -> b }\n"
        "step c { when case.x -> a\n  -> done }\n"
        "outcome done\n"
    )
    found = [d for d in run(text) if d[0] == "RF205"]
    assert [(c, line, col) for c, line, col, _ in found] == [("RF205", 3, 10)]
    assert found[0][3].endswith(": b -> c -> a -> b")


def test_instant_self_loop() -> None:
    text = "workflow w version 1\nstart a\nstep a { when case.x -> a\n  -> done }\noutcome done\n"
    found = run(text)
    assert [(c, line, col) for c, line, col, _ in found] == [("RF205", 3, 10)]
    assert found[0][3].endswith(": a -> a")


def test_instant_loops_are_bounded() -> None:
    # 9 steps each going to every other: far more than 100 elementary cycles
    names = [f"s{i}" for i in range(9)]
    steps = "".join(
        "step "
        + name
        + " {\n"
        + "".join(f"  when case.x -> {other}\n" for other in names if other != name)
        + "  -> done\n}\n"
        for name in names
    )
    text = f"workflow w version 1\nstart s0\n{steps}outcome done\n"
    found = [d for d in run(text) if d[0] == "RF205"]
    assert len(found) == 101
    assert sum("only the first 100 are reported" in d[3] for d in found) == 1


def test_a_wait_breaks_the_loop() -> None:
    text = (
        "workflow w version 1\nstart a\n"
        "step a { -> b }\nstep b { wait 1h\n  when case.x -> a\n  -> done }\noutcome done\n"
    )
    assert codes(text) == []


def test_shadowed_transitions() -> None:
    text = (
        "workflow w version 1\ncase { score: number }\nstart a\n"
        "step a {\n"
        "  on e -> done\n"
        "  on e when case.score > 3 -> done\n"
        "  on f when case.score > 3 -> done\n"
        "  on f when case.score > 3 -> a\n"
        "  -> done\n"
        "  when case.score > 1 -> done\n"
        "}\noutcome done\n"
    )
    assert codes(text) == [("RF206", 6, 3), ("RF206", 8, 3), ("RF206", 10, 3)]


def test_always_true_guard_shadows() -> None:
    text = (
        "workflow w version 1\ncase { ok: bool }\nstart a\n"
        "step a {\n  when case.ok or not case.ok -> done\n  -> done\n}\noutcome done\n"
    )
    assert codes(text) == [("RF206", 6, 3)]


def test_may_stall() -> None:
    text = (
        "workflow w version 1\ncase { ok: bool }\nstart a\n"
        "step a {\n  when case.ok -> done\n  when not case.ok -> done\n}\noutcome done\n"
    )
    assert codes(text) == [("RF208", 4, 6)]


def test_graph_checks_skipped_without_start() -> None:
    assert codes("workflow w version 1\nstep a { do x }\noutcome done\n") == []


SLA_HEAD = (
    "workflow w version 1\n"
    'calendar biz {\n  timezone "Europe/London"\n  hours mon-fri 09:00-17:00\n}\n'
)


def test_sla_target_unreachable() -> None:
    text = SLA_HEAD + (
        "sla reply 4h until answered\nstart a\n"
        "step a { on e -> done }\nstep answered { -> done }\noutcome done\n"
    )
    found = run(text, check_sla_timing)
    assert [(c, line, col) for c, line, col, _ in found] == [("RF403", 6, 5)]
    assert "no path from 'a' reaches 'answered'" in found[0][3]


def test_sla_certain_breach_sums_uncuttable_waits() -> None:
    text = SLA_HEAD + (
        "sla reply 4h until answered\nstart a\n"
        "step a {\n  wait 2h\n  -> b\n}\n"
        "step b {\n  due 3h\n  on timeout -> answered\n}\n"
        "step answered { -> done }\noutcome done\n"
    )
    found = run(text, check_sla_timing)
    assert [(c, line, col) for c, line, col, _ in found] == [("RF404", 6, 5)]
    assert "waits at least 5h" in found[0][3]


def test_waits_that_events_cut_short_do_not_count() -> None:
    text = SLA_HEAD + (
        "sla reply 4h until answered\nstart a\n"
        "step a {\n  wait 2h\n  on call -> answered\n  -> b\n}\n"
        "step b {\n  due 3h\n  on call -> answered\n  on timeout -> answered\n}\n"
        "step answered { -> done }\noutcome done\n"
    )
    assert codes(text, check_sla_timing) == []


def test_other_calendars_and_pauses_do_not_count() -> None:
    text = SLA_HEAD + (
        "sla reply 1d in biz until outcome pause in hold\nstart a\n"
        "step a {\n  wait 3d\n  -> hold\n}\n"
        "step hold {\n  due 9d in biz\n  on timeout -> done\n}\noutcome done\n"
    )
    assert codes(text, check_sla_timing) == []


def test_complete_example_is_clean() -> None:
    require_conformance()
    text = COMPLETE_EXAMPLE.read_text(encoding="utf-8")
    assert codes(text) == []
    assert codes(text, check_sla_timing) == []
