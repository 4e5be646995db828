"""Checks over the typed AST: `nodes.Workflow` in, diagnostics out.

Each check is a small pure function `(ctx) -> list[Diagnostic]` registered in `CHECKS`;
`run_checks` builds one `CheckContext` and runs them all, so one problem never hides
another. Adding a check is adding one function to `CHECKS` and one row to the catalog. A check
written against the bare workflow registers as `on_workflow(fn)`; graph checks (RF202-RF206,
RF208, RF403, RF404), which tools.md skips for a workflow with RF201/RF207, register as
`on_workflow(fn, needs_shape=True)`.

    >>> [d.code for d in run_checks(workflow, source)]
    ['RF101', 'RF402']
"""

from __future__ import annotations

from collections.abc import Callable

from retainflow import nodes
from retainflow.checks import calendars, limits, names, structure, timing, typecheck
from retainflow.checks.conditions import check_conditions
from retainflow.checks.context import CheckContext, build_context
from retainflow.checks.graphs import check_graph
from retainflow.checks.offers import check_offers
from retainflow.checks.sla_timing import check_sla_timing
from retainflow.diagnostics import Diagnostic
from retainflow.graph import build_graph
from retainflow.source import SourceFile

Check = Callable[[CheckContext], list[Diagnostic]]
WorkflowCheck = Callable[[nodes.Workflow], list[Diagnostic]]


def on_workflow(check: WorkflowCheck, needs_shape: bool = False) -> Check:
    """Adapt a `(workflow) -> diagnostics` check; with `needs_shape`, it is skipped for a
    workflow without steps, `start` or outcome (RF201/RF207 report those)."""

    def run(ctx: CheckContext) -> list[Diagnostic]:
        if needs_shape and not structure.has_shape(ctx):
            return []
        return check(ctx.workflow)

    run.__name__ = getattr(check, "__name__", "check")
    run.__doc__ = check.__doc__
    return run


def _graph_and_timing(workflow: nodes.Workflow) -> list[Diagnostic]:
    """RF202-RF206, RF208, RF403, RF404 on one graph built once."""
    graph = build_graph(workflow)
    return check_graph(workflow, graph) + check_sla_timing(workflow, graph)


CHECKS: tuple[Check, ...] = (
    # literals and calendars (RF002)
    calendars.check_calendars,
    timing.check_calendar_units,
    names.check_type_names,
    # expressions
    typecheck.check_complexity,
    names.check_references,
    typecheck.check_types,
    typecheck.check_action_calls,
    # names and definitions
    names.check_targets,
    names.check_duplicates,
    names.check_declared_names,
    names.check_measures,
    names.check_unused,
    limits.check_unused_limits,
    # structure
    structure.check_start,
    structure.check_outcome,
    # timing
    timing.check_timeouts,
    timing.check_durations,
    timing.check_warnings,
    # compensation
    limits.check_client_field,
    limits.check_offer_currencies,
    on_workflow(check_offers),
    # conditions
    on_workflow(check_conditions),
    # the state graph: reachability, loops, shadowing, SLA timing
    on_workflow(_graph_and_timing, needs_shape=True),
)


def run_checks(workflow: nodes.Workflow, source: SourceFile) -> list[Diagnostic]:
    """Every diagnostic the registered checks find in one lowered workflow."""
    ctx = build_context(workflow, source)
    found: list[Diagnostic] = []
    for check in CHECKS:
        found.extend(check(ctx))
    return found


__all__ = ["CHECKS", "CheckContext", "build_context", "on_workflow", "run_checks"]
