"""Retention reports: run results (and the workflows they ran) in, metrics per group out,
as text, JSON or one self-contained HTML page. `retainflow report` is a thin layer on this.

    import retainflow.report as rr
    records = rr.read_results(["results.jsonl"])
    report = rr.build_report(records, [rr.load_workflow_info("flow.rflow")], by="month")
    print(rr.render(report, "text"))

Modules: `records` (reading results), `workflows` (what a report needs of a workflow),
`clients` (client books and the client retention rate), `metrics` (pure computation and
the JSON form), `text`, `html` and `charts` (rendering). docs/reports.md is the guide.
"""

from __future__ import annotations

import json

from retainflow.report.clients import (
    ClientMetrics,
    ClientRow,
    client_retention,
    read_clients,
    read_clients_text,
)
from retainflow.report.html import render_html
from retainflow.report.metrics import (
    GROUPINGS,
    GroupMetrics,
    Period,
    PeriodError,
    Report,
    WorkflowIndex,
    build_report,
    parse_bound,
    period_of,
    report_json,
)
from retainflow.report.records import (
    ResultsError,
    ResultsProblem,
    RunRecord,
    parse_record,
    read_results,
    read_results_text,
)
from retainflow.report.text import render_text
from retainflow.report.workflows import (
    WorkflowError,
    WorkflowInfo,
    load_workflow_info,
    workflow_info_text,
)

__all__ = [
    "FORMATS",
    "GROUPINGS",
    "ClientMetrics",
    "ClientRow",
    "GroupMetrics",
    "Period",
    "PeriodError",
    "Report",
    "ResultsError",
    "ResultsProblem",
    "RunRecord",
    "WorkflowError",
    "WorkflowIndex",
    "WorkflowInfo",
    "build_report",
    "client_retention",
    "load_workflow_info",
    "parse_bound",
    "parse_record",
    "period_of",
    "read_clients",
    "read_clients_text",
    "read_results",
    "read_results_text",
    "render",
    "render_html",
    "render_json",
    "render_text",
    "report_json",
    "workflow_info_text",
]

FORMATS = ("text", "json", "html")


def render_json(report: Report) -> str:
    """`report --format json`: the document of `report_json`, indented, UTF-8 as is."""
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


def render(report: Report, output_format: str = "text") -> str:
    """The report in one of FORMATS."""
    if output_format == "json":
        return render_json(report)
    if output_format == "html":
        return render_html(report)
    if output_format == "text":
        return render_text(report)
    raise ValueError(f"unknown report format {output_format!r} (expected {', '.join(FORMATS)})")
