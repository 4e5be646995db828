"""The state graph: `graph.build_graph` on small and broken workflows and on the complete
example, the renderers of `render_graph`, and `retainflow graph` through the command line.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner

from retainflow import graph as graph_module
from retainflow import nodes
from retainflow import render_graph as render_module
from retainflow.analysis import Analysis, analyze_text
from retainflow.cli import main
from retainflow.exprs import render
from retainflow.graph import build_graph, ordered_edges
from retainflow.render_graph import (
    dot_string,
    edge_label,
    mermaid_id,
    mermaid_text,
    node_link_data,
    to_dot,
    to_json,
    to_mermaid,
)
from retainflow.source import Span
from tests.support import SHARED

REACTIVE = SHARED / "conformance" / "run" / "reactive_retention" / "reactive_retention.rflow"


def analyzed(text: str) -> Analysis:
    analysis = analyze_text(text, "test.rflow")
    assert analysis.workflow is not None, analysis.diagnostics
    return analysis


def graph_of(text: str, **options: Any) -> nx.MultiDiGraph:
    analysis = analyzed(text)
    assert analysis.workflow is not None
    return build_graph(analysis.workflow, analysis.source, **options)


def edges(g: nx.MultiDiGraph, node: str) -> list[tuple[str, str, str]]:
    """(target, kind, label) of a node's edges in engine order."""
    return [(v, d["kind"], edge_label(d)) for _, v, d in ordered_edges(g, node)]


@pytest.fixture(scope="module")
def reactive() -> tuple[Analysis, nx.MultiDiGraph]:
    if not REACTIVE.is_file():
        pytest.skip(f"the conformance example is not at {REACTIVE}")
    analysis = analyze_text(REACTIVE.read_text(encoding="utf-8"), "reactive_retention.rflow")
    assert analysis.workflow is not None
    return analysis, build_graph(analysis.workflow, analysis.source)


# ---- small workflows ----------------------------------------------------------------

KINDS = """\
workflow kinds version 4
title "Edge kinds"
on cancelled -> lost
on escalated when case.vip -> b
start a
step a "First step" {
  due 1d
  on timeout -> lost
  on reply when event.ok -> b
  when case.ready -> b
  on reply -> won
  -> b
}
step b {
  wait 2d
  on ping -> a
}
outcome won as retained
outcome lost as churned
outcome moved
"""


def test_nodes_have_kind_title_outcome_kind_start_and_order() -> None:
    g = graph_of(KINDS)
    assert list(g.nodes) == ["a", "b", "won", "lost", "moved"]
    assert g.graph == {"workflow": "kinds", "version": 4, "title": "Edge kinds", "start": "a"}
    a, b = g.nodes["a"], g.nodes["b"]
    assert (a["kind"], a["title"], a["start"], a["has_wait"], a["has_due"]) == (
        "step",
        "First step",
        True,
        False,
        True,
    )
    assert (b["kind"], b["title"], b["start"], b["has_wait"], b["has_due"]) == (
        "step",
        None,
        False,
        True,
        False,
    )
    assert [g.nodes[n]["outcome_kind"] for n in ("a", "won", "lost", "moved")] == [
        None,
        "retained",
        "churned",
        "other",
    ]
    assert [g.nodes[n]["order"] for n in g.nodes] == [0, 1, 2, 3, 4]
    assert all(g.nodes[n]["kind"] == "outcome" for n in ("won", "lost", "moved"))
    assert isinstance(a["definition"], nodes.Step)
    assert isinstance(g.nodes["won"]["definition"], nodes.Outcome)


def test_node_span_is_the_defining_name() -> None:
    analysis = analyzed(KINDS)
    g = build_graph(analysis.workflow)  # type: ignore[arg-type]
    for name in g.nodes:
        assert analysis.source.snippet(g.nodes[name]["span"]) == name


def test_edge_order_immediates_then_handlers_then_globals() -> None:
    g = graph_of(KINDS)
    assert edges(g, "a") == [
        ("b", "immediate", "[case.ready]"),
        ("b", "immediate", ""),
        ("lost", "timeout", "timeout"),
        ("b", "event", "reply [event.ok]"),
        ("won", "event", "reply"),
        ("lost", "global", "cancelled"),
        ("b", "global", "escalated [case.vip]"),
    ]
    assert [d["order"] for _, _, d in ordered_edges(g, "a")] == list(range(7))
    # The edge key is the order, so (source, target, key) names one edge for good.
    assert {(u, v, k) for u, v, k in g.out_edges("a", keys=True)} == {
        (u, v, d["order"]) for u, v, d in ordered_edges(g, "a")
    }


def test_edge_attributes() -> None:
    analysis = analyzed(KINDS)
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    by_order = {d["order"]: d for _, _, d in ordered_edges(g, "a")}
    reply = by_order[3]
    assert (reply["event"], reply["guard"], reply["sla"]) == ("reply", "event.ok", None)
    assert isinstance(reply["statement"], nodes.On)
    assert analysis.source.snippet(reply["span"]) == "on reply when event.ok -> b"
    assert analysis.source.snippet(reply["target_span"]) == "b"
    goto = by_order[1]
    assert (goto["event"], goto["guard"]) == (None, None)
    assert isinstance(goto["statement"], nodes.Goto)
    timeout = by_order[2]
    assert (timeout["event"], timeout["guard"]) == (None, None)
    glob = by_order[6]
    assert analysis.source.snippet(glob["span"]) == "on escalated when case.vip -> b"
    assert isinstance(by_order[0]["statement"], nodes.When)
    expected = {"kind", "event", "guard", "sla", "order", "span", "target_span", "statement"}
    assert all(set(d) == expected for _, _, d in g.edges(data=True))


def test_global_handlers_expand_onto_every_step_not_onto_outcomes() -> None:
    g = graph_of(KINDS)
    globals_ = [(u, v, d["event"]) for u, v, d in g.edges(data=True) if d["kind"] == "global"]
    assert sorted(globals_) == [
        ("a", "b", "escalated"),
        ("a", "lost", "cancelled"),
        ("b", "b", "escalated"),
        ("b", "lost", "cancelled"),
    ]
    assert edges(g, "b") == [
        ("a", "event", "ping"),
        ("lost", "global", "cancelled"),
        ("b", "global", "escalated [case.vip]"),
    ]
    for outcome in ("won", "lost", "moved"):
        assert g.out_degree(outcome) == 0


SLAS = """\
workflow slas version 1
sla quick 1h until c breach -> b
sla slow 2d until outcome pause in c breach -> fixer
sla plain 3d until done
start a
step a { -> b }
step b { -> c }
step c { on go -> done }
outcome done
"""


def test_breach_edges_leave_every_step_but_the_target_and_pause_steps() -> None:
    g = graph_of(SLAS)
    breaches = [(u, v, d["sla"]) for u, v, d in g.edges(data=True) if d["kind"] == "breach"]
    assert sorted(breaches) == [
        ("a", "b", "quick"),
        ("a", "fixer", "slow"),
        ("b", "fixer", "slow"),
        ("c", "b", "quick"),
    ]
    # Breach edges come last, in SLA source order.
    assert edges(g, "a") == [
        ("b", "immediate", ""),
        ("b", "breach", "breach quick"),
        ("fixer", "breach", "breach slow"),
    ]
    data = next(d for _, _, d in ordered_edges(g, "a") if d["kind"] == "breach")
    assert isinstance(data["statement"], nodes.Sla)
    assert (data["event"], data["guard"]) == (None, None)
    # A breach target that names nothing is an undefined node, like any other.
    assert g.nodes["fixer"]["kind"] == "undefined"
    assert g.out_degree("done") == 0


BROKEN = """\
workflow broken version 1
start ghost
step a "First" {
  on x -> nowhere
  -> b
}
step b { -> elsewhere }
step a "Second" { -> b }
step c { on y -> nowhere }
outcome b
"""


def test_undefined_targets_become_undefined_nodes() -> None:
    analysis = analyzed(BROKEN)
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    assert list(g.nodes) == ["a", "b", "c", "ghost", "nowhere", "elsewhere"]
    # Ordered after every definition, in the order of their first reference in the text.
    assert [g.nodes[n]["order"] for n in g.nodes] == [0, 1, 2, 3, 4, 5]
    for name in ("ghost", "nowhere", "elsewhere"):
        node = g.nodes[name]
        assert node["kind"] == "undefined"
        assert (node["title"], node["outcome_kind"], node["definition"]) == (None, None, None)
        assert analysis.source.snippet(node["span"]) == name
    # Its span is its first reference: the one in step a, not the one in step c.
    assert analysis.source.position(g.nodes["nowhere"]["span"].start).line == 4
    assert g.nodes["ghost"]["start"] is True
    assert g.graph["start"] == "ghost"


def test_first_definition_wins() -> None:
    g = graph_of(BROKEN)
    assert g.nodes["a"]["title"] == "First"
    assert edges(g, "a") == [("b", "immediate", ""), ("nowhere", "event", "x")]
    # `step b` comes before `outcome b`: b is a step.
    assert g.nodes["b"]["kind"] == "step"
    assert edges(g, "b") == [("elsewhere", "immediate", "")]


def test_missing_start_and_no_steps() -> None:
    g = graph_of("workflow w version 1\nstep a { -> done }\noutcome done\n")
    assert g.graph["start"] is None
    assert not any(g.nodes[n]["start"] for n in g.nodes)
    empty = graph_of("workflow w version 1\n")
    assert empty.number_of_nodes() == 0
    assert empty.graph == {"workflow": "w", "version": 1, "title": None, "start": None}


def test_start_on_an_outcome_marks_the_outcome() -> None:
    g = graph_of("workflow w version 1\nstart done\noutcome done\n")
    assert g.nodes["done"]["start"] is True
    assert g.nodes["done"]["kind"] == "outcome"


def test_self_loop_and_parallel_edges() -> None:
    g = graph_of(
        "workflow w version 1\nstart a\n"
        "step a {\n  due 1h\n  on poke -> a\n  on poke -> done\n  on timeout -> done\n}\n"
        "outcome done\n"
    )
    assert g.number_of_edges("a", "a") == 1
    assert g.number_of_edges("a", "done") == 2
    assert edges(g, "a") == [
        ("a", "event", "poke"),
        ("done", "event", "poke"),
        ("done", "timeout", "timeout"),
    ]


# ---- guard text ---------------------------------------------------------------------

GUARDS = """\
workflow guards version 1
start a
step a {
  when case.tier in ["gold",   "platinum"] and (not (case.count > 3)
    or case.vip) -> done
  when (case.a  +  case.b) * 2 >= 10% of case.c -> done
  on e when if case.x then event.y else false -> done
  -> done
}
outcome done
"""


def guards(g: nx.MultiDiGraph) -> list[str | None]:
    return [d["guard"] for _, _, d in ordered_edges(g, "a")]


def test_guard_text_from_source_folds_line_breaks() -> None:
    g = graph_of(GUARDS, guard_text="source")
    assert guards(g) == [
        'case.tier in ["gold",   "platinum"] and (not (case.count > 3) or case.vip)',
        "(case.a  +  case.b) * 2 >= 10% of case.c",
        None,  # `-> done`: immediates come before the `on` handler
        "if case.x then event.y else false",
    ]


def test_guard_text_is_the_canonical_render() -> None:
    analysis = analyzed(GUARDS)
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    statements = [d["statement"] for _, _, d in ordered_edges(g, "a")]
    assert guards(g) == [
        render(s.guard) if getattr(s, "guard", None) is not None else None for s in statements
    ]
    # Without the source the render still gives every guard.
    assert guards(build_graph(analysis.workflow)) == guards(g)  # type: ignore[arg-type]


# ---- the complete example -------------------------------------------------------------


def test_reactive_retention_nodes(reactive: tuple[Analysis, nx.MultiDiGraph]) -> None:
    _, g = reactive
    steps = [
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
    assert list(g.nodes) == [*steps, "retained", "churned"]
    assert [n for n in g.nodes if g.nodes[n]["start"]] == ["listen"]
    assert g.nodes["listen"]["title"] == "Listen to the client's concerns"
    assert g.nodes["retained"]["outcome_kind"] == "retained"
    assert g.nodes["churned"]["outcome_kind"] == "churned"
    assert [n for n in steps if g.nodes[n]["has_wait"]] == ["follow_up"]
    assert [n for n in steps if not g.nodes[n]["has_due"]] == [
        "apologize",
        "compensate",
        "root_cause",
    ]
    assert not any(g.nodes[n]["kind"] == "undefined" for n in g.nodes)


def test_reactive_retention_edges(reactive: tuple[Analysis, nx.MultiDiGraph]) -> None:
    _, g = reactive
    kinds: dict[str, int] = {}
    for _, _, d in g.edges(data=True):
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    # 9 steps: 9 global edges; the resolution SLA breaches everywhere but escalate (its
    # target) and waiting_on_client (its pause step).
    assert kinds == {"immediate": 4, "event": 11, "timeout": 6, "global": 9, "breach": 7}
    assert edges(g, "solve") == [
        ("root_cause", "event", "resolved [event.accepted]"),
        ("compensate", "event", "resolved"),
        ("waiting_on_client", "event", "client_unavailable"),
        ("escalate", "timeout", "timeout"),
        ("churned", "global", "cancellation_confirmed"),
        ("escalate", "breach", "breach resolution"),
    ]
    assert edges(g, "compensate")[0] == (
        "root_cause",
        "immediate",
        '[offer.status in ["granted", "capped"]]',
    )
    assert edges(g, "follow_up")[:2] == [
        ("retained", "event", "survey_answered [event.score >= 4]"),
        ("escalate", "event", "survey_answered [event.score <= 2]"),
    ]
    breach_sources = {u for u, _, d in g.edges(data=True) if d["kind"] == "breach"}
    assert "escalate" not in breach_sources
    assert "waiting_on_client" not in breach_sources
    assert all(d["sla"] == "resolution" for _, _, d in g.edges(data=True) if d["kind"] == "breach")


def test_reactive_retention_every_outcome_reachable(
    reactive: tuple[Analysis, nx.MultiDiGraph],
) -> None:
    _, g = reactive
    assert nx.descendants(g, "listen") >= {"retained", "churned"}
    for step in (n for n in g.nodes if g.nodes[n]["kind"] == "step"):
        assert nx.descendants(g, step) & {"retained", "churned"}


# ---- renderers ----------------------------------------------------------------------


def test_mermaid_text_escapes_everything_that_could_end_a_label() -> None:
    assert mermaid_text("a b_c.d, e'f!g?h=i+j:k") == "a b_c.d, e'f!g?h=i+j:k"
    assert mermaid_text('"|[]{}()<>;#%&-\\') == (
        "#34;#124;#91;#93;#123;#125;#40;#41;#60;#62;#59;#35;#37;#38;#45;#92;"
    )
    assert mermaid_text("café") == "café"
    assert mermaid_text("a\nb") == "a#10;b"


def test_mermaid_ids_are_prefixed_and_safe() -> None:
    assert mermaid_id("end", "step") == "s_end"
    assert mermaid_id("end", "outcome") == "t_end"
    assert mermaid_id("o", "undefined") == "u_o"
    assert mermaid_id("é", "step") == "s__e9_"


def test_mermaid_shapes_classes_and_edge_styles() -> None:
    g = graph_of(KINDS + "step c { -> nowhere }\n")
    text = to_mermaid(g)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  s_a("First step")' in lines
    assert '  t_won(["won"])' in lines
    assert '  u_nowhere{{"nowhere #40;undefined#41;"}}' in lines
    assert "  start_ --> s_a" in lines
    assert "  s_a -.->|timeout| t_lost" in lines
    assert "  s_a -->|reply #91;event.ok#93;| s_b" in lines
    assert "  s_a --> s_b" in lines
    assert "  class t_won retained" in lines
    assert "  class t_lost churned" in lines
    assert "  class t_moved other" in lines
    assert "  class u_nowhere undefined" in lines
    assert any(line.startswith("  classDef retained fill:") for line in lines)
    edge_lines = [line for line in lines if "-->" in line or "-.->" in line or "==>" in line]
    global_indexes = [
        i for i, line in enumerate(edge_lines) if "cancelled" in line or "escalated" in line
    ]
    assert f"  linkStyle {','.join(map(str, global_indexes))} stroke:#9e9e9e,color:#9e9e9e" in lines


def test_mermaid_breach_edges_are_thick() -> None:
    lines = to_mermaid(graph_of(SLAS)).splitlines()
    assert "  s_a ==>|breach quick| s_b" in lines
    assert any(line.startswith("  linkStyle ") and "#c62828" in line for line in lines)


def test_dot_strings_and_styles() -> None:
    assert dot_string('say "hi" \\ now\nthen') == '"say \\"hi\\" \\\\ now\\nthen"'
    text = to_dot(graph_of(KINDS + "step c { -> nowhere }\n"))
    assert text.startswith('digraph "kinds" {\n')
    assert text.endswith("}\n")
    assert '"a" -> "lost" [label="timeout", style="dashed"];' in text
    assert '"a" -> "b" [label="reply [event.ok]"];' in text
    assert '"a" -> "lost" [label="cancelled", color="#9e9e9e", fontcolor="#9e9e9e"];' in text
    assert '"won" [label="won", shape="ellipse", style="filled", fillcolor="#d4edda"' in text
    assert '"nowhere" [label="nowhere (undefined)", shape="octagon"' in text
    assert '"(start)" -> "a";' in text
    breach = to_dot(graph_of(SLAS))
    assert '"a" -> "b" [label="breach quick", style="bold", color="#c62828"' in breach


def test_json_is_node_link_data_without_ast_objects() -> None:
    analysis = analyzed(SLAS)
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    data = json.loads(to_json(g, source=analysis.source))
    assert (data["directed"], data["multigraph"]) == (True, True)
    assert data["graph"]["workflow"] == "slas"
    assert [n["id"] for n in data["nodes"]] == ["a", "b", "c", "done", "fixer"]
    first = data["nodes"][0]
    assert list(first) == [
        "id",
        "kind",
        "title",
        "outcome_kind",
        "start",
        "has_wait",
        "has_due",
        "span",
        "order",
    ]
    assert first["span"] == {
        "start": first["span"]["start"],
        "end": first["span"]["start"] + 1,
        "line": 6,
        "column": 6,
        "end_line": 6,
        "end_column": 7,
    }
    edge = data["edges"][0]
    assert list(edge) == [
        "source",
        "target",
        "key",
        "kind",
        "event",
        "guard",
        "sla",
        "order",
        "span",
        "target_span",
    ]
    assert (edge["source"], edge["target"], edge["key"], edge["kind"]) == ("a", "b", 0, "immediate")
    assert "statement" not in json.dumps(data) and "definition" not in json.dumps(data)
    # Without the source, spans are offsets only.
    bare = node_link_data(g)
    assert set(bare["nodes"][0]["span"]) == {"start", "end"}


def test_json_reads_back_with_networkx() -> None:
    g = graph_of(KINDS)
    back = nx.node_link_graph(json.loads(to_json(g)), edges="edges")
    assert back.is_multigraph() and back.is_directed()
    assert list(back.nodes) == list(g.nodes)
    assert sorted(back.edges(keys=True)) == sorted(g.edges(keys=True))
    assert back.nodes["a"]["title"] == "First step"
    assert back.edges["a", "lost", 2]["kind"] == "timeout"


def test_span_json_counts_like_diagnostics() -> None:
    analysis = analyzed('workflow w version 1\nstart a\nstep a "café ✓" { -> x }\n')
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    span = render_module.span_json(g.nodes["x"]["span"], analysis.source)
    # Columns count code points: `step a "café ✓" { -> ` is 21 of them.
    assert (span["line"], span["column"], span["end_line"], span["end_column"]) == (3, 22, 3, 23)
    assert render_module.span_json(Span(0, 8)) == {"start": 0, "end": 8}


def test_render_dispatches_by_format() -> None:
    g = graph_of(KINDS)
    assert set(render_module.FORMATS) == {"mermaid", "dot", "json"}
    assert render_module.render(g, "dot") == to_dot(g)
    with pytest.raises(KeyError):
        render_module.render(g, "svg")


def test_module_examples() -> None:
    for module in (graph_module, render_module):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


# ---- command line -------------------------------------------------------------------

GOOD = "workflow ok version 1\nstart a\nstep a {\n  on e when event.x -> done\n}\noutcome done\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["graph", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "ok.rflow"
    path.write_text(GOOD, encoding="utf-8")
    return path


def test_cli_prints_mermaid_by_default(good: Path) -> None:
    code, out, err = invoke(str(good))
    assert (code, err) == (0, "")
    assert out.startswith("flowchart TD\n")
    assert "s_a -->|e #91;event.x#93;| t_done" in out


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_cli_formats_match_the_library(good: Path, fmt: str) -> None:
    code, out, _ = invoke(str(good), "--format", fmt)
    analysis = analyzed(GOOD)
    g = build_graph(analysis.workflow, analysis.source)  # type: ignore[arg-type]
    assert code == 0
    assert out == render_module.render(g, fmt, analysis.workflow, analysis.source)


def test_cli_out_writes_a_file(good: Path, tmp_path: Path) -> None:
    target = tmp_path / "graph.dot"
    code, out, _ = invoke(str(good), "--format", "dot", "--out", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8").startswith('digraph "ok" {')


def test_cli_out_unwritable_is_exit_2(good: Path, tmp_path: Path) -> None:
    code, _, err = invoke(str(good), "--out", str(tmp_path / "missing" / "graph.mmd"))
    assert code == 2
    assert "cannot be written" in err and "Traceback" not in err


def test_cli_compile_errors_exit_1_with_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "bad.rflow"
    path.write_text("workflow bad version 1\nstep a {\n", encoding="utf-8")
    code, out, err = invoke(str(path))
    assert (code, out) == (1, "")
    assert "error[RF001 syntax-error]" in err
    assert "no graph: 1 compile error" in err


def test_cli_invalid_literal_is_a_compile_error(tmp_path: Path) -> None:
    path = tmp_path / "literal.rflow"
    path.write_text(
        "workflow bad version 1\nstart a\nstep a {\n  due 1.5h\n  on timeout -> done\n}\n"
        "outcome done\n",
        encoding="utf-8",
    )
    code, out, err = invoke(str(path))
    assert (code, out) == (1, "")
    assert "RF001" in err or "RF002" in err


def test_cli_missing_file_is_exit_2(tmp_path: Path) -> None:
    code, out, err = invoke(str(tmp_path / "nope.rflow"))
    assert (code, out) == (2, "")
    assert "nope.rflow: cannot be read (No such file or directory)" in err
    assert "Traceback" not in err


def test_cli_directory_is_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke(str(tmp_path))
    assert code == 2
    assert "cannot be read" in err


def test_cli_non_utf8_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.rflow"
    path.write_bytes('workflow w version 1\ntitle "caf\xe9"\n'.encode("latin-1"))
    code, _, err = invoke(str(path))
    assert code == 2
    assert "is not UTF-8 text" in err


def test_cli_unknown_format_is_a_usage_error(good: Path) -> None:
    code, _, err = invoke(str(good), "--format", "pdf")
    assert code == 2
    assert "--format" in err
