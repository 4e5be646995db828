"""Checks over the typed AST: `nodes.Workflow` in, diagnostics out.

Each check is a small pure function `(ctx) -> list[Diagnostic]` registered in `CHECKS`;
`run_checks` runs them all, so one problem never hides another.
"""

from __future__ import annotations

from retainflow import nodes
from retainflow.diagnostics import Diagnostic
from retainflow.source import SourceFile


def run_checks(workflow: nodes.Workflow, source: SourceFile) -> list[Diagnostic]:
    """Every diagnostic the registered checks find in one lowered workflow."""
    return []
