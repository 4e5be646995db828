"""A `Report` as plain text for an 80-column terminal: a summary of the groups, then each
group's tables (instances, outcomes, SLAs, time to target, compensation, measures).

Every line is at most 80 characters: long names are cut with `…`.
"""

from __future__ import annotations

from collections.abc import Sequence

from retainflow.report.clients import ClientMetrics
from retainflow.report.display import (
    INSTANCE_HEADERS,
    MEASURE_HEADERS,
    TIME_TO_TARGET_HEADERS,
    instance_rows,
    measure_rows,
    money_text,
    pct_text,
    period_text,
    report_heading,
    time_to_target_rows,
)
from retainflow.report.metrics import CompensationMetrics, GroupMetrics, Period, Report
from retainflow.report.rounding import percent

__all__ = ["WIDTH", "render_text", "table"]

WIDTH = 80


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    indent: int = 2,
    first_max: int = 24,
    numbers_first: bool = False,
    align: str = "",
) -> list[str]:
    """Columns padded to their widest cell. The first is left-aligned text (cut at
    `first_max`) unless `numbers_first`; the others are right-aligned unless `align` has
    an `l` at their place (`"lrrl"`). Lines end without trailing blanks."""
    if not align:
        align = ("r" if numbers_first else "l") + "r" * (len(headers) - 1)
    cells = [list(headers), *[list(row) for row in rows]]
    for row in cells:
        row[0] = _cut(row[0], first_max)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        out = [
            cell.ljust(widths[i]) if align[i] == "l" else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append(_cut((" " * indent + "  ".join(out)).rstrip(), WIDTH))
    return lines


def render_text(report: Report) -> str:
    lines = [
        _cut(f"Retention report: {report_heading(report)}", WIDTH),
        _cut(f"Period: {period_text(report.period)}", WIDTH),
    ]
    for info in report.workflows.infos:
        lines.append(_cut(f"Workflow {info.name} version {info.version}: {info.path}", WIDTH))
    if not report.groups:
        lines += ["", "No records to report."]
    if len(report.groups) > 1:
        lines += ["", f"Groups by {report.by}"]
        lines += _summary(report)
    for group in report.groups:
        lines += ["", *_group(group, report.by)]
    if len(report.groups) > 1:
        lines += ["", *_group(report.total, "all")]
    if report.clients is not None:
        lines += ["", *_clients(report.clients)]
    return "\n".join(lines) + "\n"


def _summary(report: Report) -> list[str]:
    rows = []
    for g in report.groups:
        kinds = g.outcomes_by_kind
        rows.append(
            [
                g.key if g.key is not None else f"({g.title})",
                str(g.instances.started),
                str(g.instances.ended),
                str(kinds["retained"]),
                str(kinds["churned"]),
                pct_text(g.retention_rate),
                pct_text(g.churn_share),
            ]
        )
    headers = [report.by, "started", "ended", "retained", "churned", "retention", "churn"]
    return table(headers, rows, first_max=22)


def _group(group: GroupMetrics, by: str) -> list[str]:
    if by == "all":
        heading = "All records"
    elif group.key is None:
        heading = f"({group.title})"
    elif group.title and group.title != group.key:
        heading = f"{group.key}: {group.title}"
    else:
        heading = group.key
    heading = _cut(heading, WIDTH)
    lines = [heading, "=" * len(heading)]
    lines.append("Instances")
    lines += table(INSTANCE_HEADERS, instance_rows(group), numbers_first=True)
    lines += ["", *_outcomes(group), *_slas(group), *_compensation(group.compensation)]
    lines += _measures(group)
    return lines


def _outcomes(group: GroupMetrics) -> list[str]:
    lines = [
        f"Outcomes: retention rate {pct_text(group.retention_rate)}, "
        f"churn share of ended {pct_text(group.churn_share)}"
    ]
    kinds = group.outcomes_by_kind
    lines.append(
        f"  by kind: retained {kinds['retained']}, churned {kinds['churned']}, "
        f"other {kinds['other']}"
    )
    if group.outcomes_by_name:
        ended = group.instances.ended
        rows = [
            [name, str(count), pct_text(percent(count, ended))]
            for name, count in group.outcomes_by_name.items()
        ]
        lines += table(["outcome", "instances", "of ended"], rows, first_max=40)
    return lines


def _slas(group: GroupMetrics) -> list[str]:
    if not group.slas:
        return []
    rows = [
        [
            sla.name,
            str(sla.met),
            str(sla.breached),
            str(sla.cancelled),
            str(sla.pending) + (f" ({sla.paused} paused)" if sla.paused else ""),
            pct_text(sla.attainment),
        ]
        for sla in group.slas.values()
    ]
    lines = ["", "SLAs"]
    lines += table(["sla", "met", "breached", "cancelled", "pending", "attainment"], rows)
    times = [[*row[:-1], _cut(row[-1], 12)] for row in time_to_target_rows(group)]
    lines += ["", "Time to target (start to target; open = in the SLA's calendar)"]
    lines += table(
        TIME_TO_TARGET_HEADERS,
        times,
        first_max=18,
        align="lrrrrrl",
    )
    return lines


def _compensation(comp: CompensationMetrics) -> list[str]:
    lines = ["", f"Compensation: {comp.offers} offer{'s' * (comp.offers != 1)}"]
    if not comp.offers:
        return lines
    statuses = ", ".join(f"{name} {count}" for name, count in comp.by_status.items())
    lines.append(_cut(f"  {statuses}", WIDTH))
    refused = [f"{name} {count}" for name, count in comp.refused_by_reason.items() if count]
    if refused:
        lines.append(_cut(f"  refused for: {', '.join(refused)}", WIDTH))
    if comp.by_kind:
        rows = [
            [
                item.kind,
                str(item.offers),
                money_text(item.requested),
                money_text(item.granted),
            ]
            for item in comp.by_kind
        ]
        lines += table(["granted by kind", "offers", "requested", "granted"], rows)
        for cur, amount in comp.per_retained.items():
            total = money_text(comp.granted_total[cur])
            lines.append(
                _cut(f"  granted {total}; per retained instance {money_text(amount)}", WIDTH)
            )
    for capped in comp.capped:
        lines.append(
            _cut(
                f"  capped: {capped.offers} offer{'s' * (capped.offers != 1)} got "
                f"{money_text(capped.difference)} less than requested "
                f"({money_text(capped.requested)})",
                WIDTH,
            )
        )
    return lines


def _measures(group: GroupMetrics) -> list[str]:
    if not group.measures:
        return []
    return ["", "Measures", *table(MEASURE_HEADERS, measure_rows(group), align="llrrl")]


def _clients(m: ClientMetrics) -> list[str]:
    period = period_text(Period(m.period_start, m.period_end)).removeprefix("starts ")
    return [
        _cut(f"Clients: {m.clients} in the file; period {period}", WIDTH),
        *table(
            ["at start (S)", "new (N)", "at end (E)", "lost", "retention", "churn", "simple"],
            [
                [
                    str(m.start),
                    str(m.new),
                    str(m.end),
                    str(m.lost),
                    pct_text(m.retention_rate),
                    pct_text(m.churn_rate),
                    pct_text(m.simple_retention_rate),
                ]
            ],
            numbers_first=True,
        ),
        "  client retention rate = (E - N) / S x 100; churn rate = lost / S x 100;",
        "  simple retention rate = E / S x 100 (counts new clients as kept ones)",
    ]
