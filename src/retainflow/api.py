"""The public entry points and errors: a path or text in, a compiled `Workflow` out.

    >>> wf = load("workflow w version 1\\nstart a\\nstep a { -> done }\\noutcome done")
    >>> wf.name, wf.version
    ('w', 1)

`load` raises `CompileError` (with `.diagnostics`) when the checks report any error;
warnings do not stop a workflow from loading. The engine's errors live here too so that
callers import every error from one place (`retainflow.UnknownCase`, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from retainflow.analysis import analyze, display_path
from retainflow.compile import Workflow, compile_workflow
from retainflow.diagnostics import Diagnostic, FileDiagnostics, render_text
from retainflow.source import SourceFile

__all__ = ["CompileError", "EventRejected", "UnknownCase", "load", "load_source"]


class CompileError(Exception):
    """A workflow with errors: `.diagnostics` lists every one (warnings included)."""

    def __init__(
        self,
        diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
        source: SourceFile | None = None,
    ) -> None:
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        if self.source is None:
            return "; ".join(f"{d.code}: {d.message}" for d in self.diagnostics)
        text = render_text(FileDiagnostics.of(self.source, self.diagnostics))
        return f"{self.source.path} does not compile:\n{text}".rstrip()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        from retainflow.diagnostics import Severity

        return tuple(d for d in self.diagnostics if d.effective_severity is Severity.ERROR)


class UnknownCase(KeyError):
    """`handle`, `move`, `cancel` or `history` for a case id never submitted."""

    def __str__(self) -> str:
        return f"unknown case {self.args[0]!r}" if self.args else "unknown case"


class EventRejected(ValueError):
    """An input the engine refuses: older than the case's last applied time or the store's
    clock, or data that breaks the schema. Nothing was changed."""


def load_source(source: SourceFile) -> Workflow:
    """Analyze and compile one source file; raises `CompileError` on any error."""
    analysis = analyze(source)
    if analysis.errors or analysis.workflow is None:
        raise CompileError(analysis.diagnostics, source)
    return compile_workflow(analysis.workflow, source)


def load(path_or_text: str | os.PathLike[str]) -> Workflow:
    """Load a workflow from a `.rflow` file or from its text.

    A `Path`, an existing file's name, or a string ending in `.rflow` is read as a file
    (OSError and UnicodeDecodeError propagate); any other string is the workflow's text.
    """
    if isinstance(path_or_text, os.PathLike) or _looks_like_path(path_or_text):
        path = Path(path_or_text)
        text = path.read_text(encoding="utf-8")
        return load_source(SourceFile(display_path(path), text))
    return load_source(SourceFile("<text>", str(path_or_text)))


def _looks_like_path(text: str) -> bool:
    if "\n" in text or ";" in text or "{" in text:
        return False
    return text.endswith(".rflow") or os.path.isfile(text)
