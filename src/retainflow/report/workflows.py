"""What a report needs from a workflow file: `.rflow` path in, `WorkflowInfo` out.

Titles, outcome kinds, the calendar of each SLA (as a `BusinessCalendar`, to count time to
target in open time) and the kind of each measure (csat, nps, number). Only the front end
runs (parse and checks, `analysis.analyze_path`); a workflow with errors is refused.

    >>> info = workflow_info_text('''workflow w version 2
    ... calendar office { timezone "UTC"; hours mon-fri 09:00-17:00 }
    ... event survey { score: number }
    ... sla reply 4h in office until done
    ... measure sat from survey.score as csat
    ... start a
    ... step a { on survey -> done }
    ... outcome done as retained''')
    >>> info.key, info.outcomes, info.sla_calendar_names, info.measure_kinds
    (('w', 2), {'done': 'retained'}, {'reply': 'office'}, {'sat': 'csat'})
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from retainflow import nodes
from retainflow.analysis import Analysis, analyze, analyze_path
from retainflow.calendar import BusinessCalendar
from retainflow.compile import build_calendar
from retainflow.diagnostics import render_text
from retainflow.source import SourceFile

__all__ = ["WorkflowError", "WorkflowInfo", "load_workflow_info", "workflow_info_text"]


class WorkflowError(Exception):
    """A `--workflow` file that cannot be read or has errors; the message shows why."""


@attrs.frozen(eq=False)
class WorkflowInfo:
    name: str
    version: int
    title: str | None
    path: str
    outcomes: Mapping[str, str]  # outcome name -> retained, churned, other (source order)
    sla_calendars: Mapping[str, BusinessCalendar | None]  # SLA name -> its `in CAL`
    measure_kinds: Mapping[str, str]  # measure name -> csat, nps, number

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    @property
    def sla_calendar_names(self) -> dict[str, str | None]:
        return {name: cal.name if cal else None for name, cal in self.sla_calendars.items()}


def load_workflow_info(path: str | Path) -> WorkflowInfo:
    """Read and check one `.rflow` file; raises `WorkflowError` (unreadable, or errors)."""
    try:
        analysis = analyze_path(path)
    except UnicodeDecodeError:
        raise WorkflowError(f"{path}: is not UTF-8 text") from None
    except OSError as error:
        raise WorkflowError(f"{path}: cannot be read ({error.strerror or error})") from None
    return _info(analysis)


def workflow_info_text(text: str, path: str = "<text>") -> WorkflowInfo:
    """The same, from a workflow's text."""
    return _info(analyze(SourceFile(path, text)))


def _info(analysis: Analysis) -> WorkflowInfo:
    path = analysis.source.path
    workflow = analysis.workflow
    if analysis.errors or workflow is None:
        count = len(analysis.errors)
        details = render_text(analysis.report).rstrip()
        raise WorkflowError(
            f"{details}\n{path}: cannot be used for the report: "
            f"{count} error{'s' * (count != 1)}".lstrip()
        )
    titles = workflow.of(nodes.Title)
    calendars: dict[str, BusinessCalendar] = {}
    for decl in workflow.of(nodes.Calendar):
        if decl.name.text not in calendars:
            try:
                calendars[decl.name.text] = build_calendar(decl)
            except ValueError as error:  # pragma: no cover - the checks report these first
                raise WorkflowError(f"{path}: {error}") from None
    slas: dict[str, BusinessCalendar | None] = {}
    for sla in workflow.of(nodes.Sla):
        cal = calendars.get(sla.calendar.text) if sla.calendar else None
        slas.setdefault(sla.name.text, cal)
    measures: dict[str, str] = {}
    for measure in workflow.of(nodes.Measure):
        measures.setdefault(measure.name.text, measure.kind.text if measure.kind else "number")
    outcomes: dict[str, str] = {}
    for outcome in workflow.outcomes:
        outcomes.setdefault(outcome.name.text, outcome.kind_text)
    return WorkflowInfo(
        name=workflow.name,
        version=workflow.version,
        title=titles[0].text.value if titles else None,
        path=path,
        outcomes=outcomes,
        sla_calendars=slas,
        measure_kinds=measures,
    )
