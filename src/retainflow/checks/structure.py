"""The workflow's shape before any graph is built: `CheckContext` in, RF201/RF207 out.

The graph checks (RF202-RF206, RF208, RF403, RF404) are skipped for a workflow these
report, so they are kept apart: `has_shape(ctx)` tells a graph check whether to run.
"""

from __future__ import annotations

from retainflow.checks.context import CheckContext
from retainflow.diagnostics import Diagnostic


def check_start(ctx: CheckContext) -> list[Diagnostic]:
    """RF201: no step at all, or no `start`; at the `workflow` header."""
    header = ctx.workflow.header
    steps = ctx.workflow.steps
    if not steps:
        return [
            Diagnostic(
                "RF201",
                header.span,
                f"workflow '{header.name.text}' has no step",
                label="add a step, e.g. `step listen { ... }`, and `start listen`",
            )
        ]
    if ctx.workflow.start is None:
        first = steps[0].name.text
        return [
            Diagnostic(
                "RF201",
                header.span,
                f"workflow '{header.name.text}' has no `start`",
                label=f"say where instances begin, e.g. `start {first}`",
            )
        ]
    return []


def check_outcome(ctx: CheckContext) -> list[Diagnostic]:
    """RF207: the workflow declares no outcome; at the `workflow` header."""
    if ctx.workflow.outcomes:
        return []
    header = ctx.workflow.header
    return [
        Diagnostic(
            "RF207",
            header.span,
            f"workflow '{header.name.text}' declares no outcome",
            label="add how it can end, e.g. `outcome retained as retained`",
        )
    ]


def has_shape(ctx: CheckContext) -> bool:
    """Whether graph checks apply: steps, a start and an outcome (no RF201/RF207)."""
    wf = ctx.workflow
    return bool(wf.steps) and wf.start is not None and bool(wf.outcomes)
