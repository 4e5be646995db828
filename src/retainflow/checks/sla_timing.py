"""Timing analysis of SLAs: the workflow and its graph in, RF403 and RF404 out.

RF403: no path from where an SLA starts (`from STEP`, else the start step) reaches its
target. RF404: every such path must wait longer than the SLA allows. The least wait of a
path sums only waits no event can cut short, outside the SLA's pause steps: a step's
`wait` when no handler applies to it, and its `due` when `on timeout` is its only way
out. Waits count only when they use the SLA's calendar (or both use none); in a calendar
`d` and `s/m/h` durations are not compared with each other (a day's open time varies),
so the shortest honest bound is used: the other unit counts as zero.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping

import networkx as nx

from retainflow import nodes as n
from retainflow.checks.graphs import graph_is_checkable
from retainflow.diagnostics import Diagnostic
from retainflow.graph import build_graph
from retainflow.values import DURATION_UNITS, Duration, format_timedelta


def duration_constants(workflow: n.Workflow) -> dict[str, Duration]:
    values: dict[str, Duration] = {}
    for const in workflow.of(n.Const):
        if isinstance(const.value, n.DurationLit) and const.name.text not in values:
            values[const.name.text] = const.value.value
    return values


def resolve_duration(ref: n.DurationRef, constants: Mapping[str, Duration]) -> Duration | None:
    if isinstance(ref, n.DurationLit):
        return ref.value
    return constants.get(ref.name.text)


def _measure(duration: Duration, calendar: str | None, sla_days: bool) -> int:
    """A duration in the SLA's measure: seconds, or open days for a `d` SLA in a calendar."""
    if calendar is None:
        return duration.amount * DURATION_UNITS[duration.unit]
    is_days = duration.unit == "d"
    if sla_days:
        return duration.amount if is_days else 0
    return 0 if is_days else duration.amount * DURATION_UNITS[duration.unit]


def _step_wait(
    step: n.Step,
    graph: nx.MultiDiGraph,
    sla: n.Sla,
    sla_days: bool,
    constants: Mapping[str, Duration],
) -> int:
    """The least time a case must spend in `step`, counted as the SLA counts."""
    calendar = sla.calendar.text if sla.calendar else None
    total = 0
    edges = [data for _, _, data in graph.out_edges(step.name.text, data=True)]
    cuttable = any(d["kind"] in ("event", "global") for d in edges)
    wait = step.wait
    if wait is not None and not cuttable:
        duration = resolve_duration(wait.duration, constants)
        wait_calendar = wait.calendar.text if wait.calendar else None
        if duration is not None and wait_calendar == calendar:
            total += _measure(duration, calendar, sla_days)
    due = step.due
    if due is not None and edges and all(d["kind"] == "timeout" for d in edges):
        duration = resolve_duration(due.duration, constants)
        due_calendar = due.calendar.text if due.calendar else None
        if duration is not None and due_calendar == calendar:
            total += _measure(duration, calendar, sla_days)
    return total


def _is_target(graph: nx.MultiDiGraph, node: str, sla: n.Sla) -> bool:
    if sla.until_any_outcome:
        return graph.nodes[node]["kind"] in ("outcome", "undefined")
    return node == sla.until.text


def check_sla_timing(
    workflow: n.Workflow, graph: nx.MultiDiGraph | None = None
) -> list[Diagnostic]:
    graph = graph if graph is not None else build_graph(workflow)
    if not graph_is_checkable(workflow, graph):
        return []
    constants = duration_constants(workflow)
    steps = {step.name.text: step for step in reversed(workflow.steps)}
    start = next(node for node, data in graph.nodes(data=True) if data["start"])
    found: list[Diagnostic] = []
    seen: set[str] = set()
    for sla in workflow.of(n.Sla):
        if sla.name.text in seen:
            continue
        seen.add(sla.name.text)
        origin = sla.start_step.text if sla.start_step else start
        if graph.nodes.get(origin, {}).get("kind") != "step" or (
            not sla.until_any_outcome
            and graph.nodes.get(sla.until.text, {}).get("kind") not in ("step", "outcome")
        ):
            continue  # RF101 reports a `from`/`until` that names no step (or an outcome)
        limit = resolve_duration(sla.duration, constants)
        sla_days = sla.calendar is not None and limit is not None and limit.unit == "d"
        pauses = {name.text for name in sla.pause}
        least = _least_wait(graph, steps, origin, sla, sla_days, pauses, constants)
        target = "an outcome" if sla.until_any_outcome else f"'{sla.until.text}'"
        if least is None:
            found.append(
                Diagnostic(
                    "RF403",
                    sla.name.span,
                    f"SLA '{sla.name.text}' can never be met: no path from '{origin}' "
                    f"reaches {target}",
                    label="check its `until` (and `from`), or add a transition",
                )
            )
            continue
        if limit is None:
            continue
        allowed = _measure(limit, sla.calendar.text if sla.calendar else None, sla_days)
        if least > allowed:
            shown = (
                f"{least} open days" if sla_days else format_timedelta(dt.timedelta(seconds=least))
            )
            found.append(
                Diagnostic(
                    "RF404",
                    sla.name.span,
                    f"SLA '{sla.name.text}' ({limit}) is breached on every path: reaching "
                    f"{target} from '{origin}' waits at least {shown}",
                    label="shorten the waits and deadlines on the way, or give the SLA more time",
                )
            )
    return found


def _least_wait(
    graph: nx.MultiDiGraph,
    steps: Mapping[str, n.Step],
    origin: str,
    sla: n.Sla,
    sla_days: bool,
    pauses: set[str],
    constants: Mapping[str, Duration],
) -> int | None:
    """Dijkstra over nodes: the least total wait before entering a target, or None."""
    best: dict[str, int] = {origin: 0}
    queue = [(0, origin)]
    while queue:
        cost, node = heapq.heappop(queue)
        if cost > best.get(node, cost):
            continue
        if _is_target(graph, node, sla):
            return cost
        step = steps.get(node)
        if step is None:
            continue
        here = 0 if node in pauses else _step_wait(step, graph, sla, sla_days, constants)
        for _, successor in graph.out_edges(node):
            total = cost + here
            if total < best.get(successor, total + 1):
                best[successor] = total
                heapq.heappush(queue, (total, successor))
    return None
