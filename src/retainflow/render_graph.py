"""Renderers of the state graph: a `graph.build_graph` MultiDiGraph in, text out.

- `to_mermaid`: a Mermaid `flowchart TD` that GitHub renders in Markdown;
- `to_dot`: Graphviz DOT (`dot -Tsvg`);
- `to_json`: networkx node-link data, spans as offsets (plus lines and columns when the
  source is given), without the AST objects.

All three carry the same information: nodes (steps by title, outcomes colored by kind,
undefined targets flagged), the start, and every edge in engine order with its event,
guard, timeout or SLA breach. `FORMATS` maps each `graph --format` name to its renderer;
svg and png will join it (through Graphviz) in a later issue.

    >>> from retainflow.analysis import analyze_text
    >>> from retainflow.graph import build_graph
    >>> wf = analyze_text("workflow w version 1\\nstart a\\nstep a { -> done }\\noutcome done")
    >>> print(to_mermaid(build_graph(wf.workflow)).splitlines()[0])
    flowchart TD
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import networkx as nx

from retainflow import nodes
from retainflow.graph import AST_ATTRIBUTES, all_edges_in_order, nodes_in_order
from retainflow.source import SourceFile, Span

Renderer = Callable[[nx.MultiDiGraph, nodes.Workflow | None, SourceFile | None], str]

# Colors shared by both drawings: fill, stroke (border / edge), text.
_OUTCOME_COLORS = {
    "retained": ("#d4edda", "#2e7d32", "#1b5e20"),
    "churned": ("#f8d7da", "#c62828", "#b71c1c"),
    "other": ("#e0e0e0", "#616161", "#212121"),
}
_UNDEFINED_COLORS = ("#fff3cd", "#b26a00", "#6d4100")
_GLOBAL_COLOR = "#9e9e9e"
_BREACH_COLOR = "#c62828"


def edge_label(data: dict[str, Any]) -> str:
    """The text of an edge: `resolved [event.accepted]`, `timeout`, `breach resolution`."""
    kind = data["kind"]
    if kind == "timeout":
        head = "timeout"
    elif kind == "breach":
        head = f"breach {data['sla']}"
    else:
        head = data["event"] or ""
    guard = data.get("guard")
    if guard:
        return f"{head} [{guard}]" if head else f"[{guard}]"
    return head


def node_label(name: str, data: dict[str, Any]) -> str:
    if data["kind"] == "undefined":
        return f"{name} (undefined)"
    return str(data.get("title") or name)


def _header(graph: nx.MultiDiGraph) -> str:
    info = graph.graph
    text = f"{info.get('workflow', '')} version {info.get('version', '')}"
    return f"{text}: {info['title']}" if info.get("title") else text


# ---- Mermaid ----------------------------------------------------------------------

# Characters that may stand in a Mermaid label as they are; any other one is written as
# an entity code (`#34;`), which Mermaid decodes before drawing. That keeps quotes,
# pipes, brackets, `;`, `%%` and `<` from ending a label or opening a comment or HTML.
_MERMAID_PLAIN = frozenset(" _.,'!?=+:")


def mermaid_text(text: str) -> str:
    return "".join(
        char if char.isalnum() or char in _MERMAID_PLAIN else f"#{ord(char)};" for char in text
    )


def mermaid_id(name: str, kind: str) -> str:
    """A node id that Mermaid accepts whatever the name: `s_`/`t_`/`u_` plus the name.

    rflow names are `[A-Za-z_][A-Za-z0-9_]*`, so the prefix keeps them clear of Mermaid
    keywords (`end`, `graph`, `class`...) and of `o`/`x` arrow heads; anything else is
    spelled out as `_HEX_`.
    """
    prefix = {"step": "s_", "outcome": "t_"}.get(kind, "u_")
    safe = "".join(
        c if c.isascii() and (c.isalnum() or c == "_") else f"_{ord(c):x}_" for c in name
    )
    return prefix + safe


_MERMAID_START = "start_"


def to_mermaid(
    graph: nx.MultiDiGraph,
    workflow: nodes.Workflow | None = None,
    source: SourceFile | None = None,
) -> str:
    """A Mermaid `flowchart TD` of the graph.

    Steps are rounded boxes labelled with their titles (their names without one),
    outcomes stadiums colored by kind (retained green, churned red, other grey),
    undefined targets dashed hexagons. Event edges are labelled `event [guard]`, timeout
    edges dotted, breach edges thick and red, global handlers grey.
    """
    # A comment ends at the line's end only, so the header's line breaks are folded.
    lines = ["flowchart TD", "  %% " + " ".join(_header(graph).split())]
    ids: dict[str, str] = {}
    classes: dict[str, list[str]] = {}
    for name in nodes_in_order(graph):
        data = graph.nodes[name]
        node_id = mermaid_id(name, data["kind"])
        ids[name] = node_id
        label = mermaid_text(node_label(name, data))
        if data["kind"] == "step":
            lines.append(f'  {node_id}("{label}")')
        elif data["kind"] == "outcome":
            lines.append(f'  {node_id}(["{label}"])')
            classes.setdefault(data["outcome_kind"] or "other", []).append(node_id)
        else:
            lines.append(f'  {node_id}{{{{"{label}"}}}}')
            classes.setdefault("undefined", []).append(node_id)
    link_styles: dict[str, list[int]] = {}
    links = 0
    start = next((n for n in nodes_in_order(graph) if graph.nodes[n]["start"]), None)
    if start is not None:
        lines.insert(2, f"  {_MERMAID_START}((start))")
        lines.append(f"  {_MERMAID_START} --> {ids[start]}")
        classes.setdefault("startpoint", []).append(_MERMAID_START)
        links += 1
    for source_name, target, data in all_edges_in_order(graph):
        kind = data["kind"]
        arrow = {"timeout": "-.->", "breach": "==>"}.get(kind, "-->")
        label = edge_label(data)
        text = f"|{mermaid_text(label)}|" if label else ""
        lines.append(f"  {ids[source_name]} {arrow}{text} {ids[target]}")
        if kind in ("global", "breach"):
            link_styles.setdefault(kind, []).append(links)
        links += 1
    lines.extend(_mermaid_styles(classes, link_styles))
    return "\n".join(lines) + "\n"


def _mermaid_styles(classes: dict[str, list[str]], link_styles: dict[str, list[int]]) -> list[str]:
    lines: list[str] = []
    for kind, (fill, stroke, color) in _OUTCOME_COLORS.items():
        if kind in classes:
            lines.append(f"  classDef {kind} fill:{fill},stroke:{stroke},color:{color}")
    if "undefined" in classes:
        fill, stroke, color = _UNDEFINED_COLORS
        lines.append(
            f"  classDef undefined fill:{fill},stroke:{stroke},color:{color},stroke-dasharray:5 3"
        )
    if "startpoint" in classes:
        lines.append("  classDef startpoint fill:#212121,stroke:#212121,color:#ffffff")
    for name, members in classes.items():
        lines.append(f"  class {','.join(members)} {name}")
    if "global" in link_styles:
        indexes = ",".join(map(str, link_styles["global"]))
        lines.append(f"  linkStyle {indexes} stroke:{_GLOBAL_COLOR},color:{_GLOBAL_COLOR}")
    if "breach" in link_styles:
        indexes = ",".join(map(str, link_styles["breach"]))
        lines.append(f"  linkStyle {indexes} stroke:{_BREACH_COLOR},color:{_BREACH_COLOR}")
    return lines


# ---- Graphviz DOT -------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, line breaks as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{key}={dot_string(value)}" for key, value in attributes.items())


# Not an rflow identifier, so no step or outcome can take it.
_DOT_START = "(start)"


def to_dot(
    graph: nx.MultiDiGraph,
    workflow: nodes.Workflow | None = None,
    source: SourceFile | None = None,
) -> str:
    """A Graphviz digraph of the graph.

    Steps are rounded boxes with their titles, outcomes filled ellipses (retained green,
    churned red, other grey), undefined targets dashed octagons; timeout edges dashed,
    breach edges bold red, global handlers grey.
    """
    name = str(graph.graph.get("workflow") or "workflow")
    graph_attributes = {"label": _header(graph), "labelloc": "t", "fontname": "Helvetica"}
    lines = [
        f"digraph {dot_string(name)} {{",
        f"  graph [{_dot_attributes(graph_attributes)}];",
        '  node [shape="box", style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize="10"];',
    ]
    start = next((n for n in nodes_in_order(graph) if graph.nodes[n]["start"]), None)
    if start is not None:
        start_attributes = {
            "shape": "circle",
            "style": "filled",
            "fillcolor": "#212121",
            "fontcolor": "#ffffff",
            "fontsize": "10",
            "label": "start",
        }
        lines.append(f"  {dot_string(_DOT_START)} [{_dot_attributes(start_attributes)}];")
    for node in nodes_in_order(graph):
        data = graph.nodes[node]
        attributes = {"label": node_label(node, data)}
        if data["kind"] == "outcome":
            fill, stroke, color = _OUTCOME_COLORS.get(
                data["outcome_kind"] or "other", _OUTCOME_COLORS["other"]
            )
            attributes.update(
                shape="ellipse", style="filled", fillcolor=fill, color=stroke, fontcolor=color
            )
        elif data["kind"] == "undefined":
            fill, stroke, color = _UNDEFINED_COLORS
            attributes.update(
                shape="octagon",
                style="dashed,filled",
                fillcolor=fill,
                color=stroke,
                fontcolor=color,
            )
        lines.append(f"  {dot_string(node)} [{_dot_attributes(attributes)}];")
    if start is not None:
        lines.append(f"  {dot_string(_DOT_START)} -> {dot_string(start)};")
    for source_name, target, data in all_edges_in_order(graph):
        attributes = {}
        label = edge_label(data)
        if label:
            attributes["label"] = label
        kind = data["kind"]
        if kind == "timeout":
            attributes["style"] = "dashed"
        elif kind == "breach":
            attributes.update(style="bold", color=_BREACH_COLOR, fontcolor=_BREACH_COLOR)
        elif kind == "global":
            attributes.update(color=_GLOBAL_COLOR, fontcolor=_GLOBAL_COLOR)
        suffix = f" [{_dot_attributes(attributes)}]" if attributes else ""
        lines.append(f"  {dot_string(source_name)} -> {dot_string(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- JSON ---------------------------------------------------------------------------


def span_json(span: Span, source: SourceFile | None = None) -> dict[str, int]:
    """`{start, end}` offsets; with the source also 1-based `line`, `column`, `end_line`,
    `end_column` (exclusive, code points), as diagnostics count them."""
    result = {"start": span.start, "end": span.end}
    if source is not None:
        first, last = source.position(span.start), source.position(span.end)
        result.update(
            line=first.line, column=first.column, end_line=last.line, end_column=last.column
        )
    return result


def _json_value(value: Any, source: SourceFile | None) -> Any:
    return span_json(value, source) if isinstance(value, Span) else value


def node_link_data(graph: nx.MultiDiGraph, source: SourceFile | None = None) -> dict[str, Any]:
    """The graph as networkx node-link data (nodes keyed `id`, edges under `"edges"` with
    `source`, `target` and `key`, as networkx 3.4+ writes them), JSON-ready.

    Built here rather than by `networkx.node_link_data` so that the document does not
    change with the networkx version (the edge key was "links" before 3.4), keys come
    in a readable order, spans become objects and the AST attributes are left out.
    `networkx.node_link_graph(data, edges="edges")` reads it back.
    """
    node_items = []
    for node in nodes_in_order(graph):
        item: dict[str, Any] = {"id": node}
        item.update(
            (key, _json_value(value, source))
            for key, value in graph.nodes[node].items()
            if key not in AST_ATTRIBUTES
        )
        node_items.append(item)
    edge_items = []
    for source_name, target, data in all_edges_in_order(graph):
        edge: dict[str, Any] = {"source": source_name, "target": target, "key": data["order"]}
        edge.update(
            (key, _json_value(value, source))
            for key, value in data.items()
            if key not in AST_ATTRIBUTES
        )
        edge_items.append(edge)
    return {
        "directed": True,
        "multigraph": True,
        "graph": {key: _json_value(value, source) for key, value in graph.graph.items()},
        "nodes": node_items,
        "edges": edge_items,
    }


def to_json(
    graph: nx.MultiDiGraph,
    workflow: nodes.Workflow | None = None,
    source: SourceFile | None = None,
) -> str:
    """`node_link_data` as indented JSON text (UTF-8, not ASCII-escaped)."""
    return json.dumps(node_link_data(graph, source), ensure_ascii=False, indent=2) + "\n"


FORMATS: dict[str, Renderer] = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}


def render(
    graph: nx.MultiDiGraph,
    output_format: str,
    workflow: nodes.Workflow | None = None,
    source: SourceFile | None = None,
) -> str:
    """The graph in one of `FORMATS` (a `KeyError` names an unknown one)."""
    return FORMATS[output_format](graph, workflow, source)


# ---- pictures through Graphviz --------------------------------------------------------------

IMAGE_FORMATS = ("svg", "png")


class GraphvizMissing(RuntimeError):
    """Graphviz's `dot` program is not on PATH; the message says what to install."""


class GraphvizFailed(RuntimeError):
    """`dot` ran but could not draw the graph."""


def to_image(
    graph: nx.MultiDiGraph,
    image_format: str,
    workflow: nodes.Workflow | None = None,
    source: SourceFile | None = None,
    dot_program: str = "dot",
) -> bytes:
    """The DOT rendering drawn by Graphviz as SVG or PNG bytes."""
    if image_format not in IMAGE_FORMATS:
        raise KeyError(image_format)
    program = shutil.which(dot_program)
    if program is None:
        raise GraphvizMissing(
            "drawing svg or png needs Graphviz's `dot` program, which is not installed: "
            "install the `graphviz` package (Debian/Ubuntu: apt install graphviz; macOS: "
            "brew install graphviz), or use --format mermaid or dot"
        )
    result = subprocess.run(
        [program, f"-T{image_format}"],
        input=to_dot(graph, workflow, source).encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise GraphvizFailed(result.stderr.decode("utf-8", "replace").strip() or "dot failed")
    return result.stdout
