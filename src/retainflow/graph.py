"""The state graph of a workflow: `nodes.Workflow` in, a `networkx.MultiDiGraph` out.

`build_graph` is shared by the compiler (the engine's compiled workflow exposes it as
`.graph`) and by the lint graph checks, so it never fails on a broken workflow: an
undefined target becomes a node of kind "undefined" (checks count it as reaching an
outcome), a missing `start` leaves no node marked `start`, and of two definitions sharing
a name the first in source order wins (the later ones are RF102 and add nothing).

Guards are ignored for the shape (tools.md, "How the checks see a workflow"): every
transition a step could take is an edge, each labelled with the guard it would test.

    >>> from retainflow.analysis import analyze_text
    >>> wf = analyze_text("workflow w version 1\\nstart a\\nstep a { -> done }\\noutcome done")
    >>> g = build_graph(wf.workflow)
    >>> [(u, v, d["kind"]) for u, v, d in ordered_edges(g, "a")]
    [('a', 'done', 'immediate')]

Graph attributes (`graph.graph`):
    workflow  name of the workflow          version  its integer version
    title     the `title` text or None      start    the `start` name, or None without one

Node attributes (nodes are keyed by the step or outcome name):
    kind          "step" | "outcome" | "undefined" (named by a transition, `start` or a
                  `breach ->`, but defined nowhere)
    title         the step's title, or None (outcomes and undefined nodes have none)
    outcome_kind  "retained" | "churned" | "other" for outcomes, None otherwise
    start         True for the node `start` names (also an undefined or outcome one)
    has_wait      the step has a `wait` (False for non-steps)
    has_due       the step has a `due` (False for non-steps)
    span          `Span` of the defining name; for an undefined node, of its first reference
    order         0, 1, ... in source order of the definitions; undefined nodes follow
                  all defined ones, in the order of their first reference
    definition    the `nodes.Step` / `nodes.Outcome`, or None for an undefined node

Edge attributes (edges leave steps only; the edge key equals `order`):
    kind          "immediate" (`when EXPR ->` / `->`), "event" (the step's `on EVENT`),
                  "timeout" (`on timeout`), "global" (a top-level `on EVENT`, one edge on
                  every step), "breach" (an SLA's `breach -> STEP`)
    event         the event name for "event" and "global" edges, else None
    guard         canonical text of the guard (`when EXPR`), or None when unguarded
    sla           the SLA's name for "breach" edges, else None
    order         0, 1, ... within the source step, the order the engine tries them:
                  immediates in source order, then the step's `on` handlers (timeout
                  included) in source order, then global handlers in source order, then
                  breach edges in SLA source order
    span          `Span` of the statement (the `on`/`when`/`->` statement, the global `on`
                  declaration, or the `sla` declaration)
    target_span   `Span` of the target name as written there
    statement     the AST node (`nodes.When`, `Goto`, `On` or `Sla`)

Breach edges: an SLA can breach wherever the instance waits while the SLA is pending.
The graph uses the simplest rule that never misses one: every step except the breach
target itself (the engine does not move when already there) and the SLA's `pause in`
steps (a paused SLA neither warns nor breaches). It does not follow `from` or `until`.

Guard text: `exprs.render`, the canonical source text of the guard; with
`guard_text="source"` and a source, the guard's text sliced by its span (whitespace runs
folded to one space).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Literal, cast

import networkx as nx

from retainflow import nodes
from retainflow.exprs import render
from retainflow.source import SourceFile, Span

NodeKind = Literal["step", "outcome", "undefined"]
EdgeKind = Literal["immediate", "event", "timeout", "global", "breach"]
GuardText = Literal["render", "source"]

NODE_KINDS: tuple[NodeKind, ...] = ("step", "outcome", "undefined")
EDGE_KINDS: tuple[EdgeKind, ...] = ("immediate", "event", "timeout", "global", "breach")
# Attributes that hold AST objects: renderers and serializers leave them out.
AST_ATTRIBUTES = frozenset({"definition", "statement"})


def build_graph(
    workflow: nodes.Workflow,
    source: SourceFile | None = None,
    *,
    guard_text: GuardText = "render",
) -> nx.MultiDiGraph:
    """The state graph of `workflow` (see the module docstring for every attribute).

    `source` is the file the workflow was parsed from; it is needed only to slice guard
    text when `guard_text="source"` is asked for.
    """
    builder = _Builder(workflow, _guard_renderer(source, guard_text))
    return builder.build()


def ordered_edges(graph: nx.MultiDiGraph, node: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The edges leaving `node` as `(source, target, attributes)`, in engine order."""
    edges = [(u, v, d) for u, v, d in graph.out_edges(node, data=True)]
    edges.sort(key=lambda edge: cast(int, edge[2]["order"]))
    return edges


def all_edges_in_order(graph: nx.MultiDiGraph) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every edge: source nodes in node order, each one's edges in engine order."""
    for node in sorted(graph.nodes, key=lambda n: cast(int, graph.nodes[n]["order"])):
        yield from ordered_edges(graph, node)


def nodes_in_order(graph: nx.MultiDiGraph) -> list[str]:
    return sorted(graph.nodes, key=lambda n: cast(int, graph.nodes[n]["order"]))


# ---- building ---------------------------------------------------------------------


class _Builder:
    def __init__(self, workflow: nodes.Workflow, guard: Callable[[nodes.Expr], str]) -> None:
        self.workflow = workflow
        self.guard = guard
        self.graph = nx.MultiDiGraph()
        self.steps: list[nodes.Step] = []
        self.edges: list[tuple[str, str, dict[str, Any]]] = []
        self.undefined: dict[str, Span] = {}

    def build(self) -> nx.MultiDiGraph:
        wf = self.workflow
        titles = wf.of(nodes.Title)
        start = wf.start
        self.graph.graph.update(
            workflow=wf.name,
            version=wf.version,
            title=titles[0].text.value if titles else None,
            start=start.step.text if start else None,
        )
        self._add_definitions()
        globals_ = wf.global_handlers
        slas = _first_by_name(wf.of(nodes.Sla))
        for step in self.steps:
            self._collect_step_edges(step, globals_, slas)
        if start is not None:
            self._reference(start.step)
        # Undefined nodes are added before any edge, so that iterating the graph's nodes
        # gives them in `order` (an edge to a missing node would create it on the spot).
        self._add_undefined_nodes()
        if start is not None:
            self.graph.nodes[start.step.text]["start"] = True
        for source, target, attributes in self.edges:
            self.graph.add_edge(source, target, key=attributes["order"], **attributes)
        return self.graph

    def _add_definitions(self) -> None:
        for decl in self.workflow.declarations:
            if not isinstance(decl, nodes.Step | nodes.Outcome):
                continue
            if decl.name.text in self.graph:
                continue  # first definition wins; the duplicate is RF102
            if isinstance(decl, nodes.Step):
                self.steps.append(decl)
                self._add_node(
                    decl.name.text,
                    "step",
                    decl.name.span,
                    title=decl.title.value if decl.title else None,
                    has_wait=decl.wait is not None,
                    has_due=decl.due is not None,
                    definition=decl,
                )
            else:
                self._add_node(
                    decl.name.text,
                    "outcome",
                    decl.name.span,
                    outcome_kind=decl.kind_text,
                    definition=decl,
                )

    def _add_node(
        self,
        name: str,
        kind: NodeKind,
        span: Span,
        *,
        title: str | None = None,
        outcome_kind: str | None = None,
        has_wait: bool = False,
        has_due: bool = False,
        definition: nodes.Step | nodes.Outcome | None = None,
    ) -> None:
        # Keyword order is the attribute order the JSON output shows.
        self.graph.add_node(
            name,
            kind=kind,
            title=title,
            outcome_kind=outcome_kind,
            start=False,
            has_wait=has_wait,
            has_due=has_due,
            span=span,
            order=len(self.graph),
            definition=definition,
        )

    def _collect_step_edges(
        self, step: nodes.Step, globals_: list[nodes.On], slas: list[nodes.Sla]
    ) -> None:
        source = step.name.text
        order = 0

        def add(
            target: nodes.Name,
            kind: EdgeKind,
            statement: nodes.When | nodes.Goto | nodes.On | nodes.Sla,
            *,
            event: str | None = None,
            guard: nodes.Expr | None = None,
            sla: str | None = None,
        ) -> None:
            nonlocal order
            self._reference(target)
            attributes: dict[str, Any] = {
                "kind": kind,
                "event": event,
                "guard": self.guard(guard) if guard is not None else None,
                "sla": sla,
                "order": order,
                "span": statement.span,
                "target_span": target.span,
                "statement": statement,
            }
            self.edges.append((source, target.text, attributes))
            order += 1

        for imm in step.immediates:
            add(
                imm.target,
                "immediate",
                imm,
                guard=imm.guard if isinstance(imm, nodes.When) else None,
            )
        for on in step.handlers:
            if on.is_timeout:
                add(on.target, "timeout", on, guard=on.guard)
            else:
                add(on.target, "event", on, event=on.event.text, guard=on.guard)
        for on in globals_:
            add(on.target, "global", on, event=on.event.text, guard=on.guard)
        for sla in slas:
            if sla.breach is None or sla.breach.text == source:
                continue
            if any(pause.text == source for pause in sla.pause):
                continue
            add(sla.breach, "breach", sla, sla=sla.name.text)

    def _reference(self, name: nodes.Name) -> None:
        if name.text in self.graph:
            return
        known = self.undefined.get(name.text)
        if known is None or name.span.start < known.start:
            self.undefined[name.text] = name.span

    def _add_undefined_nodes(self) -> None:
        ordered = sorted(self.undefined.items(), key=lambda item: (item[1].start, item[0]))
        for name, span in ordered:
            self._add_node(name, "undefined", span)


def _first_by_name(slas: list[nodes.Sla]) -> list[nodes.Sla]:
    seen: dict[str, nodes.Sla] = {}
    for sla in slas:
        seen.setdefault(sla.name.text, sla)
    return list(seen.values())


# ---- guard text ---------------------------------------------------------------------


def _guard_renderer(source: SourceFile | None, prefer: GuardText) -> Callable[[nodes.Expr], str]:
    if prefer == "source" and source is not None:
        return lambda expr: source_text(source, expr.span)
    return render


_WHITESPACE = re.compile(r"\s*\n\s*")


def source_text(source: SourceFile, span: Span) -> str:
    """The text under `span`, with line breaks (and the indentation around them) folded."""
    return _WHITESPACE.sub(" ", source.snippet(span)).strip()
