"""The front end of the pipeline: a source file in, its AST and every diagnostic out.

parse (RF001) -> lower (RF001/RF002 on literals) -> checks. A syntax error yields exactly
one RF001, for the first error, and nothing else (tools.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import attrs

from retainflow import lower, nodes, parser
from retainflow.checks import run_checks
from retainflow.diagnostics import Diagnostic, FileDiagnostics, Severity
from retainflow.source import SourceFile, Span


@attrs.frozen
class Analysis:
    source: SourceFile
    workflow: nodes.Workflow | None
    diagnostics: tuple[Diagnostic, ...]
    # Every comment of the file, also when it does not parse (suppressions need them).
    comments: tuple[nodes.Comment, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.effective_severity is Severity.ERROR)

    @property
    def report(self) -> FileDiagnostics:
        return FileDiagnostics.of(self.source, self.diagnostics)


def parse_workflow(source: SourceFile) -> tuple[nodes.Workflow | None, list[Diagnostic]]:
    """Parse and lower only: the AST (None on a syntax error) and the lowering diagnostics."""
    workflow, diagnostics, _ = _parse(source)
    return workflow, diagnostics


def _parse(
    source: SourceFile,
) -> tuple[nodes.Workflow | None, list[Diagnostic], tuple[nodes.Comment, ...]]:
    parsed = parser.parse(source.text)
    comments = tuple(lower.comment_node(source.text, raw) for raw in parsed.comments)
    if parsed.error is not None or parsed.tree is None:
        return None, [parsed.error] if parsed.error else [], comments
    lowered = lower.lower(parsed.tree, source.text, parsed.comments)
    syntax = [d for d in lowered.diagnostics if d.code == "RF001"]
    if syntax:
        return None, [min(syntax, key=lambda d: d.span.start)], comments
    return lowered.workflow, list(lowered.diagnostics), comments


# Lowering and the checks recurse over expression trees; RF003 rejects trees deeper than
# 32 or larger than 1,000 nodes, but to say so they must first walk them.
_RECURSION_LIMIT = 20_000


def analyze(source: SourceFile) -> Analysis:
    """Every problem of one file, collected, never raised."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _RECURSION_LIMIT))
    try:
        workflow, diagnostics, comments = _parse(source)
        if workflow is not None:
            diagnostics.extend(run_checks(workflow, source))
    except RecursionError:
        diagnostics = [_too_deep(source)]
        workflow, comments = None, ()
    finally:
        sys.setrecursionlimit(previous)
    return Analysis(source, workflow, tuple(diagnostics), comments)


def _too_deep(source: SourceFile) -> Diagnostic:
    return Diagnostic(
        "RF003",
        Span(0, min(len(source.text), 1)),
        "an expression in this file is nested far too deeply to analyze",
        label="split it with constants or use `in [...]` lists instead of long chains",
    )


def analyze_text(text: str, path: str = "<text>") -> Analysis:
    return analyze(SourceFile(path, text))


def analyze_path(path: str | Path) -> Analysis:
    """Read a file as UTF-8 (OSError / UnicodeDecodeError propagate to the caller)."""
    file_path = Path(path)
    text = file_path.read_text(encoding="utf-8")
    return analyze(SourceFile(display_path(file_path), text))


def display_path(path: Path) -> str:
    """Relative to the current directory where possible, always with `/`."""
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    return shown.as_posix()
