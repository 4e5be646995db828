"""Graph checks: the state graph of `graph.build_graph` in, RF202-RF206 and RF208 out.

They ignore guards (tools.md): every transition a step could take is an edge, global
handlers are edges of every step, and SLA `breach ->` adds edges. An undefined target
(RF101 elsewhere) counts as reaching an outcome. The checks are skipped for a workflow
without `start` or without an outcome (RF201/RF207 say what is wrong there).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import networkx as nx

from retainflow import nodes as n
from retainflow.checks.conditions import GuardAnalyzer
from retainflow.diagnostics import Diagnostic
from retainflow.graph import all_edges_in_order, build_graph, nodes_in_order, ordered_edges
from retainflow.source import Span

_ENDS = ("outcome", "undefined")


def graph_is_checkable(workflow: n.Workflow, graph: nx.MultiDiGraph) -> bool:
    has_start = any(data["start"] for _, data in graph.nodes(data=True))
    return has_start and bool(workflow.steps) and bool(workflow.outcomes)


def _start_node(graph: nx.MultiDiGraph) -> str:
    return str(next(node for node, data in graph.nodes(data=True) if data["start"]))


def _defined(graph: nx.MultiDiGraph, kinds: Iterable[str]) -> list[str]:
    wanted = set(kinds)
    ordered = sorted(graph.nodes(data=True), key=lambda item: item[1]["order"])
    return [node for node, data in ordered if data["kind"] in wanted]


def check_graph(workflow: n.Workflow, graph: nx.MultiDiGraph | None = None) -> list[Diagnostic]:
    graph = graph if graph is not None else build_graph(workflow)
    found = shadowed_transitions(workflow)
    if not graph_is_checkable(workflow, graph):
        return found
    start = _start_node(graph)
    if graph.nodes[start]["kind"] == "undefined":
        return found  # RF101 names the missing start; every step would look unreachable
    reachable = {start} | nx.descendants(graph, start)
    ends = [node for node, data in graph.nodes(data=True) if data["kind"] in _ENDS]
    reaches_end = set(ends).union(*(nx.ancestors(graph, end) for end in ends))
    for node in _defined(graph, ("step", "outcome")):
        data = graph.nodes[node]
        what = "step" if data["kind"] == "step" else "outcome"
        if node not in reachable:
            found.append(
                Diagnostic(
                    "RF202",
                    data["span"],
                    f"{what} '{node}' cannot be reached from the start step '{start}'",
                    label="no transition leads here: add one, or remove it",
                )
            )
        if data["kind"] != "step":
            continue
        if graph.out_degree(node) == 0:
            found.append(
                Diagnostic(
                    "RF203",
                    data["span"],
                    f"step '{node}' has no way out: a case entering it stays there forever",
                    label="add a transition (`-> STEP`, `on EVENT -> STEP` or `on timeout`)",
                )
            )
        elif node in reachable and node not in reaches_end:
            found.append(
                Diagnostic(
                    "RF204",
                    data["span"],
                    f"no outcome can be reached from step '{node}'",
                    label="every way out of here loops back: add a path to an outcome",
                )
            )
        edges = ordered_edges(graph, node)
        if edges and all(d["kind"] == "immediate" and d["guard"] for _, _, d in edges):
            found.append(
                Diagnostic(
                    "RF208",
                    data["span"],
                    f"step '{node}' may stall: its only ways out are guarded `when` transitions",
                    label="when no guard holds the case waits for a case_updated; add a "
                    "final `-> STEP`, a handler or a `due`",
                )
            )
    found.extend(_instant_loops(graph))
    return found


# At most this many RF205 diagnostics per workflow: the elementary cycles of a dense graph
# of immediate transitions grow exponentially, and lint must not hang on them.
MAX_INSTANT_LOOPS = 100


def _instant_loops(graph: nx.MultiDiGraph) -> list[Diagnostic]:
    """RF205: one diagnostic per elementary cycle of immediate transitions through steps
    without `wait`, at the cycle's first immediate transition in source order, naming its
    steps from that transition's step (at most `MAX_INSTANT_LOOPS`, then one saying more
    exist)."""
    instant = nx.DiGraph()
    instant.add_nodes_from(nodes_in_order(graph))  # a deterministic enumeration order
    for source, target, data in all_edges_in_order(graph):
        if data["kind"] != "immediate":
            continue
        if graph.nodes[source]["has_wait"] or graph.nodes[target].get("kind") != "step":
            continue
        if graph.nodes[target]["has_wait"]:
            continue
        previous = instant.get_edge_data(source, target)
        if previous is None or data["span"].start < previous["span"].start:
            instant.add_edge(source, target, span=data["span"])
    cycles = list(itertools.islice(nx.simple_cycles(instant), MAX_INSTANT_LOOPS + 1))
    found = []
    for cycle in cycles[:MAX_INSTANT_LOOPS]:
        first, steps = _first_transition(instant, cycle)
        path = " -> ".join([*steps, steps[0]])
        found.append(
            Diagnostic(
                "RF205",
                first,
                f"these immediate transitions loop without waiting: {path}",
                label="a case would run around this loop at once: add a `wait`, an event "
                "or a guard that changes",
            )
        )
    if len(cycles) > MAX_INSTANT_LOOPS:
        first, _ = _first_transition(instant, cycles[MAX_INSTANT_LOOPS])
        found.append(
            Diagnostic(
                "RF205",
                first,
                f"more loops of immediate transitions pass here: only the first "
                f"{MAX_INSTANT_LOOPS} are reported",
                label="add `wait`s to the steps of these loops, then lint again",
            )
        )
    return found


def _first_transition(instant: nx.DiGraph, cycle: list[str]) -> tuple[Span, list[str]]:
    """The span of a cycle's earliest-in-source edge, and the cycle's steps starting from
    that edge's step."""
    spans = [
        instant.edges[step, cycle[(index + 1) % len(cycle)]]["span"]
        for index, step in enumerate(cycle)
    ]
    index = min(range(len(cycle)), key=lambda i: spans[i].start)
    return spans[index], cycle[index:] + cycle[:index]


# ---- RF206 shadowed transitions --------------------------------------------------------------


def _guard_key(guard: n.Expr | None) -> Any:
    return guard  # AST equality ignores spans: identical guards compare equal


def shadowed_transitions(workflow: n.Workflow) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    analyzer = GuardAnalyzer(workflow)
    for step in workflow.steps:
        found.extend(_shadowed_immediates(step, analyzer))
        found.extend(_shadowed_handlers(step.handlers, analyzer))
    found.extend(_shadowed_handlers(workflow.global_handlers, analyzer))
    return found


def _shadowed_immediates(step: n.Step, analyzer: GuardAnalyzer) -> list[Diagnostic]:
    found = []
    winner: n.When | n.Goto | None = None
    for stmt in step.immediates:
        if winner is not None:
            found.append(
                Diagnostic(
                    "RF206",
                    stmt.span,
                    "this transition is never tried: the one before it is always taken",
                    label=f"the earlier `{_describe(winner)}` always wins; remove or reorder",
                )
            )
            continue
        if isinstance(stmt, n.Goto) or analyzer.verdict(stmt.guard) is True:
            winner = stmt
    return found


def _shadowed_handlers(handlers: list[n.On], analyzer: GuardAnalyzer) -> list[Diagnostic]:
    found = []
    seen: dict[str, list[n.On]] = {}
    for handler in handlers:
        earlier = seen.setdefault(handler.event.text, [])
        for before in earlier:
            unconditional = (
                before.guard is None or analyzer.verdict(before.guard, before.event.text) is True
            )
            if unconditional or _guard_key(before.guard) == _guard_key(handler.guard):
                reason = (
                    "has no guard"
                    if before.guard is None
                    else (
                        "has the same guard"
                        if before.guard == handler.guard
                        else "has a guard that always holds"
                    )
                )
                found.append(
                    Diagnostic(
                        "RF206",
                        handler.span,
                        f"this handler for '{handler.event.text}' is never used: an earlier "
                        f"one {reason}",
                        label="the first matching handler wins; remove or reorder this one",
                    )
                )
                break
        earlier.append(handler)
    return found


def _describe(stmt: n.When | n.Goto) -> str:
    return (
        f"-> {stmt.target.text}" if isinstance(stmt, n.Goto) else f"when ... -> {stmt.target.text}"
    )
