"""A `Report` as one self-contained HTML page: tables, and charts as inline SVG.

No script, no external stylesheet, font or image: the page opens offline and prints.
Accessibility: one `<h1>`, an `<h2>` per section (the overview, each group) and an `<h3>`
per chart, a caption on every table, header cells with `scope`, each chart an
`<svg role="img">` labelled by its `<title>` and `<desc>`, with a caption and its data as a
table in a `<details>` beside it (the text alternative). The charts are drawn by matplotlib
when it is installed (the `report` extra), else by `charts`' built-in SVG; the footer says
which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from html import escape

from retainflow import __version__
from retainflow.report.charts import (
    CHURNED,
    OTHER,
    PALETTE,
    RETAINED,
    Renderer,
    Series,
    available_renderer,
    bar_chart,
    renderer_credit,
)
from retainflow.report.charts import histogram_bins as _bins
from retainflow.report.clients import ClientMetrics
from retainflow.report.display import (
    INSTANCE_HEADERS,
    MEASURE_HEADERS,
    TIME_TO_TARGET_HEADERS,
    instance_rows,
    measure_details,
    measure_rows,
    measure_value,
    money_text,
    pct_text,
    period_text,
    report_heading,
    stat_durations,
    time_to_target_rows,
)
from retainflow.report.metrics import (
    GroupMetrics,
    MeasureMetrics,
    Period,
    Report,
    SlaMetrics,
    distribution,
    outcome_kind,
    seconds,
)
from retainflow.report.rounding import percent

__all__ = ["render_html"]

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_KIND_COLORS = {"retained": RETAINED, "churned": CHURNED, "other": OTHER}

_STYLE = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #d0d0d0; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem; }
h1 { font-size: 1.7rem; margin-bottom: .25rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem;
  margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
p.meta { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; white-space: nowrap; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .75rem .25rem 0;
  text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; }
thead th { border-bottom: 2px solid var(--ink); }
figure { margin: 1rem 0 2rem; }
figcaption { color: var(--muted); font-size: .9rem; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
svg.chart * { stroke-linejoin: round; stroke-linecap: butt; }
svg .tick { font-size: 11px; fill: #333; }
svg .axis-label, svg .legend-text { font-size: 12px; fill: #111; }
svg .value { font-size: 11px; fill: #111; }
svg .gridline { stroke: #e6e6e6; }
svg .axis { stroke: #333; }
details summary { cursor: pointer; color: var(--muted); }
nav ul { padding-left: 1.2rem; }
a { color: #0b5cad; }
@media print { details { display: block; } }
"""


class _Ids:
    """The page's chart ids, and the renderer that draws its charts."""

    def __init__(self, renderer: Renderer) -> None:
        self.count = 0
        self.renderer: Renderer = renderer

    def next(self, prefix: str = "chart") -> str:
        self.count += 1
        return f"{prefix}-{self.count}"


_NUM = ' class="num"'


def _cell(text: str, numeric: bool, header: bool = False) -> str:
    cls = _NUM if numeric else ""
    if header:
        return f'<th scope="row"{cls}>{escape(text)}</th>'
    return f"<td{cls}>{escape(text)}</td>"


def _table(
    caption: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    row_headers: bool = True,
) -> str:
    """A captioned table; the first cell of each row is its header unless `row_headers`
    is false; columns listed in `numeric` are right-aligned."""
    head = "".join(
        f'<th scope="col"{_NUM if i in numeric else ""}>{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            _cell(cell, i in numeric, header=row_headers and i == 0) for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _figure(
    svg: str, caption: str, table_caption: str, headers: Sequence[str], rows: list[list[str]]
) -> str:
    data = _table(table_caption, headers, rows, numeric=range(1, len(headers)))
    return (
        f"<figure>\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n"
        f"<details><summary>Data of this chart</summary>{data}</details>\n</figure>"
    )


def render_html(report: Report, *, renderer: Renderer | None = None) -> str:
    """The page; `renderer` draws the charts: `"matplotlib"` or `"builtin"`, by default
    matplotlib when it can be imported."""
    ids = _Ids(renderer or available_renderer())
    heading = report_heading(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Retention report: {escape(heading)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>Retention report</h1>",
        f'<p class="meta">{escape(heading)}; {escape(period_text(report.period))}. '
        f"Made by retainflow {escape(__version__)}.</p>",
    ]
    if report.workflows.infos:
        items = "".join(
            f"<li>{escape(i.name)} version {i.version}"
            f"{': ' + escape(i.title) if i.title else ''} (<code>{escape(i.path)}</code>)</li>"
            for i in report.workflows.infos
        )
        parts.append(f'<p class="meta">Workflows:</p><ul class="meta">{items}</ul>')
    parts.append("</header>")
    parts.append(_nav(report))
    parts.append("<main>")
    parts.append(_overview(report, ids))
    for number, group in enumerate(report.groups, start=1):
        parts.append(_group_section(group, f"group-{number}", _group_heading(group)))
    parts.append("</main>")
    if ids.count:
        parts.append(
            f'<footer><p class="meta">{escape(renderer_credit(ids.renderer))}</p></footer>'
        )
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _group_heading(group: GroupMetrics) -> str:
    if group.key is None:
        return f"({group.title})"
    if group.title and group.title != group.key:
        return f"{group.key}: {group.title}"
    return group.key


def _nav(report: Report) -> str:
    links = ['<li><a href="#overview">Overview</a></li>']
    for number, group in enumerate(report.groups, start=1):
        links.append(f'<li><a href="#group-{number}">{escape(_group_heading(group))}</a></li>')
    return f'<nav aria-label="Contents"><ul>{"".join(links)}</ul></nav>'


# ---- overview -----------------------------------------------------------------------------


def _overview(report: Report, ids: _Ids) -> str:
    total = report.total
    parts = ['<section aria-labelledby="overview">', '<h2 id="overview">Overview</h2>']
    if not report.groups:
        parts.append("<p>No records to report.</p>")
    else:
        parts.append(_totals_line(total))
    if len(report.groups) > 1:
        parts.append(f"<h3>Groups by {escape(report.by)}</h3>")
        parts.append(_summary_table(report))
        parts.append(_retention_by_group(report, ids))
    if report.clients is not None:
        parts.append("<h3>Clients</h3>")
        parts.append(_clients_table(report.clients))
    if report.groups:
        parts.append(_outcomes_over_time(report, ids))
        parts.append(_sla_charts(total, ids))
        parts.append(_compensation_charts(total, ids))
        parts.append(_measure_charts(total, ids))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _totals_line(total: GroupMetrics) -> str:
    kinds = total.outcomes_by_kind
    return (
        f"<p>{total.instances.started} instances started, {total.instances.ended} ended: "
        f"{kinds['retained']} retained, {kinds['churned']} churned, {kinds['other']} other. "
        f"Retention rate <strong>{escape(pct_text(total.retention_rate))}</strong>.</p>"
    )


def _summary_table(report: Report) -> str:
    rows = []
    for g in report.groups:
        kinds = g.outcomes_by_kind
        rows.append(
            [
                _group_heading(g),
                str(g.instances.records),
                str(g.instances.started),
                str(g.instances.ended),
                str(kinds["retained"]),
                str(kinds["churned"]),
                pct_text(g.retention_rate),
                pct_text(g.churn_share),
            ]
        )
    headers = [
        report.by,
        "records",
        "started",
        "ended",
        "retained",
        "churned",
        "retention rate",
        "churn share of ended",
    ]
    return _table(f"Instances and outcomes per {report.by}", headers, rows, numeric=range(1, 8))


def _retention_by_group(report: Report, ids: _Ids) -> str:
    groups = [g for g in report.groups if g.retention_rate is not None]
    if not groups:
        return "<p>No group has retained or churned outcomes yet.</p>"
    names = [g.key if g.key is not None else f"({g.title})" for g in groups]
    rates = tuple(float(g.retention_rate or 0) for g in groups)
    labels = tuple(
        f"{pct_text(g.retention_rate)} ({g.outcomes_by_kind['retained']} retained, "
        f"{g.outcomes_by_kind['churned']} churned)"
        for g in groups
    )
    title = f"Retention rate by {report.by}"
    desc = "Bar chart of the retention rate, retained / (retained + churned), per group: " + (
        "; ".join(f"{n} {pct_text(g.retention_rate)}" for n, g in zip(names, groups, strict=True))
    )
    svg = bar_chart(
        ids.next(),
        title,
        desc,
        names,
        [Series("retention rate", rates, RETAINED, labels)],
        renderer=ids.renderer,
        x_label=report.by.capitalize(),
        y_label="Retention rate (%)",
        y_max=100,
        y_format=lambda v: f"{v:g}%",
        show_values=True,
    )
    rows = [[n, pct_text(g.retention_rate)] for n, g in zip(names, groups, strict=True)]
    return f"<h3>{escape(title)}</h3>" + _figure(
        svg,
        "Groups without retained or churned outcomes are left out.",
        title,
        ["group", "rate"],
        rows,
    )


def _periods(report: Report) -> tuple[str, list[tuple[str, str]], dict[str, int]]:
    """The time unit (week or month), the periods from first to last start (key, label) and
    a lookup from period key to index."""
    starts = [r.started_at for r in report.total.records if r.started_at is not None]
    first, last = min(starts), max(starts)
    unit = report.by if report.by in ("week", "month") else None
    if unit is None:
        unit = "week" if (last - first) <= dt.timedelta(weeks=26) else "month"
    periods: list[tuple[str, str]] = []
    if unit == "week":
        day = first.date() - dt.timedelta(days=first.weekday())
        while day <= last.date():
            year, week, _ = day.isocalendar()
            periods.append((f"{year}-W{week:02d}", f"{_MONTHS[day.month - 1]} {day.day}"))
            day += dt.timedelta(weeks=1)
    else:
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            periods.append((f"{year}-{month:02d}", f"{_MONTHS[month - 1]} {year}"))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return unit, periods, {key: i for i, (key, _) in enumerate(periods)}


def _period_key(t: dt.datetime, unit: str) -> str:
    t = t.astimezone(dt.UTC)
    if unit == "week":
        year, week, _ = t.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{t.year}-{t.month:02d}"


def _outcomes_over_time(report: Report, ids: _Ids) -> str:
    ended = [r for r in report.total.records if r.started_at is not None and r.outcome]
    title = "Outcomes over time"
    if not ended:
        return f"<h3>{title}</h3><p>No instance has reached an outcome yet.</p>"
    unit, periods, where = _periods(report)
    counts = {kind: [0] * len(periods) for kind in _KIND_COLORS}
    for rec in ended:
        assert rec.started_at is not None
        kind = outcome_kind(rec, report.workflows) or "other"
        counts[kind][where[_period_key(rec.started_at, unit)]] += 1
    kinds = [k for k in _KIND_COLORS if any(counts[k])]
    series = [Series(k, tuple(float(c) for c in counts[k]), _KIND_COLORS[k]) for k in kinds]
    names = [label for _, label in periods]
    what = "week (by its Monday)" if unit == "week" else "month"
    desc = (
        f"Stacked bars of instances by outcome kind, per {what} of start, from "
        f"{names[0]} to {names[-1]}. Totals: "
        + ", ".join(f"{k} {sum(counts[k])}" for k in kinds)
        + "."
    )
    svg = bar_chart(
        ids.next(),
        title,
        desc,
        names,
        series,
        stacked=True,
        renderer=ids.renderer,
        x_label=f"{unit.capitalize()} of start (UTC)",
        y_label="Instances",
        integer_axis=True,
    )
    rows = [[label, *(str(counts[k][i]) for k in kinds)] for i, (_, label) in enumerate(periods)]
    caption = f"Instances that reached an outcome, by the {unit} they started in."
    return f"<h3>{title}</h3>" + _figure(svg, caption, title, [unit, *kinds], rows)


def _sla_charts(total: GroupMetrics, ids: _Ids) -> str:
    slas = list(total.slas.values())
    if not slas:
        return ""
    parts = []
    rated = [s for s in slas if s.attainment is not None]
    title = "SLA attainment"
    if rated:
        desc = "Bar chart of met / (met + breached) per SLA: " + "; ".join(
            f"{s.name} {pct_text(s.attainment)} ({s.met} met, {s.breached} breached)" for s in rated
        )
        svg = bar_chart(
            ids.next(),
            title,
            desc,
            [s.name for s in rated],
            [
                Series(
                    "attainment",
                    tuple(float(s.attainment or 0) for s in rated),
                    RETAINED,
                    tuple(
                        f"{pct_text(s.attainment)} ({s.met} met, {s.breached} breached)"
                        for s in rated
                    ),
                )
            ],
            renderer=ids.renderer,
            x_label="SLA",
            y_label="Attainment (%)",
            y_max=100,
            y_format=lambda v: f"{v:g}%",
            show_values=True,
        )
        rows = [[s.name, str(s.met), str(s.breached), pct_text(s.attainment)] for s in rated]
        parts.append(f"<h3>{title}</h3>")
        parts.append(
            _figure(
                svg,
                "SLAs with no met or breached instance are left out.",
                title,
                ["sla", "met", "breached", "attainment"],
                rows,
            )
        )
    for sla in slas:
        if sla.elapsed:
            parts.append(_time_to_target_chart(sla, ids))
    return "\n".join(parts)


def _time_to_target_chart(sla: SlaMetrics, ids: _Ids) -> str:
    hours = [float(seconds(v)) / 3600 for v in sla.elapsed]
    open_hours = [float(seconds(v)) / 3600 for v in sla.open] if sla.open is not None else None
    every = hours + (open_hours or [])
    unit, scale = ("days", 24.0) if max(every) > 72 else ("hours", 1.0)
    width, count = _bins([h / scale for h in every])
    names = [f"{_g(width * i)}–{_g(width * (i + 1))}" for i in range(count)]

    def histogram(values: list[float]) -> tuple[float, ...]:
        bins = [0.0] * count
        for v in values:
            bins[min(int((v / scale) // width), count - 1)] += 1
        return tuple(bins)

    series = [Series("elapsed", histogram(hours), PALETTE[0])]
    calendars = ", ".join(sla.calendars)
    if open_hours is not None:
        series.append(Series(f"open time ({calendars})", histogram(open_hours), PALETTE[1]))
    title = f"Time to target: {sla.name}"
    median, p90 = stat_durations(sla.elapsed)
    desc = (
        f"Histogram of the time from the start of SLA {sla.name} to its target, in {unit}, "
        f"for {len(hours)} instances: median {median}, p90 {p90} elapsed"
    )
    if sla.open is not None:
        open_median, open_p90 = stat_durations(sla.open)
        desc += f"; median {open_median}, p90 {open_p90} in open time of {calendars}"
    desc += "."
    svg = bar_chart(
        ids.next(),
        title,
        desc,
        names,
        series,
        renderer=ids.renderer,
        x_label=f"Time to target ({unit}; bins include their lower bound)",
        y_label="Instances",
        integer_axis=True,
    )
    rows = [[name, *(_g(s.values[i]) for s in series)] for i, name in enumerate(names)]
    return f"<h3>{escape(title)}</h3>" + _figure(
        svg, desc, title, [unit, *(s.name for s in series)], rows
    )


def _g(value: float) -> str:
    return f"{value:g}"


def _compensation_charts(total: GroupMetrics, ids: _Ids) -> str:
    comp = total.compensation
    if not comp.by_kind:
        return "<h3>Compensation by kind</h3><p>No compensation was granted.</p>"
    parts = []
    for currency in sorted({item.currency for item in comp.by_kind}):
        items = [item for item in comp.by_kind if item.currency == currency]
        title = f"Compensation by kind ({currency})"
        desc = (
            f"Grouped bars per offer kind of the amount requested and the amount granted, in "
            f"{currency}, over granted and capped offers: "
            + "; ".join(
                f"{i.kind} requested {money_text(i.requested)}, granted {money_text(i.granted)}"
                for i in items
            )
            + "."
        )
        svg = bar_chart(
            ids.next(),
            title,
            desc,
            [i.kind for i in items],
            [
                Series(
                    "requested",
                    tuple(float(i.requested.amount) for i in items),
                    PALETTE[4],
                    tuple(money_text(i.requested) for i in items),
                ),
                Series(
                    "granted",
                    tuple(float(i.granted.amount) for i in items),
                    PALETTE[0],
                    tuple(money_text(i.granted) for i in items),
                ),
            ],
            renderer=ids.renderer,
            x_label="Offer kind",
            y_label=f"Amount ({currency})",
        )
        rows = [
            [i.kind, str(i.offers), money_text(i.requested), money_text(i.granted)] for i in items
        ]
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(_figure(svg, desc, title, ["kind", "offers", "requested", "granted"], rows))
    return "\n".join(parts)


def _measure_charts(total: GroupMetrics, ids: _Ids) -> str:
    parts = []
    for measure in total.measures.values():
        if measure.values:
            parts.append(_measure_chart(measure, ids))
    return "\n".join(parts)


def _measure_chart(measure: MeasureMetrics, ids: _Ids) -> str:
    title = f"Responses: {measure.name} ({measure.kind})"
    if measure.kind in ("csat", "nps"):
        counts = distribution(measure)
        names = list(counts)
        classes = (
            [("dissatisfied (1-3)", CHURNED), ("satisfied (4-5)", RETAINED)]
            if measure.kind == "csat"
            else [
                ("detractors (0-6)", CHURNED),
                ("passives (7-8)", OTHER),
                ("promoters (9-10)", RETAINED),
            ]
        )
        series = [
            Series(
                label,
                tuple(
                    float(counts[n]) if _score_class(measure.kind, Decimal(n)) == index else 0.0
                    for n in names
                ),
                color,
            )
            for index, (label, color) in enumerate(classes)
        ]
        x_label = "Score"
        rows = [[n, str(counts[n])] for n in names]
        headers = ["score", "responses"]
    else:
        values = [float(v) for v in measure.values]
        low = min(0.0, min(values))
        width, count = _bins([v - low for v in values])
        names = [f"{_g(low + width * i)}–{_g(low + width * (i + 1))}" for i in range(count)]
        bins = [0.0] * count
        for v in values:
            bins[min(int((v - low) // width), count - 1)] += 1
        series = [Series("responses", tuple(bins), PALETTE[0])]
        x_label = "Value (bins include their lower bound)"
        rows = [[n, _g(b)] for n, b in zip(names, bins, strict=True)]
        headers = ["value", "responses"]
    desc = (
        f"Bar chart of the {measure.responses} responses of measure {measure.name} "
        f"({measure.kind}) by value: {measure_value(measure)}; {measure_details(measure)}."
    )
    svg = bar_chart(
        ids.next(),
        title,
        desc,
        names,
        series,
        stacked=True,
        renderer=ids.renderer,
        x_label=x_label,
        y_label="Responses",
        integer_axis=True,
    )
    return f"<h3>{escape(title)}</h3>" + _figure(svg, desc, title, headers, rows)


def _score_class(kind: str, value: Decimal) -> int:
    """csat: 0 dissatisfied, 1 satisfied (4-5); nps: 0 detractor (0-6), 1 passive,
    2 promoter (9-10), as the metrics count them."""
    if kind == "csat":
        return 1 if value >= 4 else 0
    return 0 if value <= 6 else (2 if value >= 9 else 1)


def _clients_table(m: ClientMetrics) -> str:
    period = period_text(Period(m.period_start, m.period_end)).removeprefix("starts ")
    rows = [
        ["clients at the start (S)", str(m.start)],
        ["new clients in the period (N)", str(m.new)],
        ["clients at the end (E)", str(m.end)],
        ["clients of the start lost", str(m.lost)],
        ["client retention rate ((E − N) / S × 100)", pct_text(m.retention_rate)],
        ["churn rate (lost / S × 100)", pct_text(m.churn_rate)],
        ["simple retention rate (E / S × 100)", pct_text(m.simple_retention_rate)],
    ]
    return _table(
        f"Clients over {period} ({m.clients} in the file)", ["metric", "value"], rows, numeric=[1]
    )


# ---- one group -------------------------------------------------------------------------


def _group_section(group: GroupMetrics, anchor: str, heading: str) -> str:
    inst = group.instances
    parts = [
        f'<section aria-labelledby="{anchor}">',
        f'<h2 id="{anchor}">{escape(heading)}</h2>',
        _table(
            "Instances", INSTANCE_HEADERS, instance_rows(group), numeric=range(7), row_headers=False
        ),
    ]
    kinds = group.outcomes_by_kind
    parts.append(
        f"<p>Retention rate <strong>{escape(pct_text(group.retention_rate))}</strong> "
        f"(retained / (retained + churned)); churn share of ended instances "
        f"{escape(pct_text(group.churn_share))}. By kind: {kinds['retained']} retained, "
        f"{kinds['churned']} churned, {kinds['other']} other.</p>"
    )
    if group.outcomes_by_name:
        rows = [
            [name, str(count), pct_text(percent(count, inst.ended))]
            for name, count in group.outcomes_by_name.items()
        ]
        parts.append(
            _table("Outcomes", ["outcome", "instances", "share of ended"], rows, numeric=[1, 2])
        )
    if group.slas:
        rows = [
            [
                s.name,
                str(s.met),
                str(s.breached),
                str(s.cancelled),
                str(s.pending),
                str(s.paused),
                pct_text(s.attainment),
            ]
            for s in group.slas.values()
        ]
        parts.append(
            _table(
                "SLAs",
                ["sla", "met", "breached", "cancelled", "pending", "of them paused", "attainment"],
                rows,
                numeric=range(1, 7),
            )
        )
        parts.append(
            _table(
                "Time to target (SLA start to target; open time counted in the SLA's calendar)",
                TIME_TO_TARGET_HEADERS,
                time_to_target_rows(group),
                numeric=range(1, 6),
            )
        )
    parts.append(_compensation_tables(group))
    if group.measures:
        parts.append(_table("Measures", MEASURE_HEADERS, measure_rows(group), numeric=[2, 3]))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _compensation_tables(group: GroupMetrics) -> str:
    comp = group.compensation
    if not comp.offers:
        return "<p>No compensation was offered.</p>"
    statuses = [[name, str(count)] for name, count in comp.by_status.items()]
    parts = [
        _table(f"Offers ({comp.offers}) by status", ["status", "offers"], statuses, numeric=[1])
    ]
    reasons = [[name, str(count)] for name, count in comp.refused_by_reason.items()]
    if comp.by_status.get("refused"):
        parts.append(_table("Refused offers by reason", ["reason", "offers"], reasons, numeric=[1]))
    if comp.by_kind:
        rows = [
            [i.kind, i.currency, str(i.offers), money_text(i.requested), money_text(i.granted)]
            for i in comp.by_kind
        ]
        parts.append(
            _table(
                "Granted (granted and capped offers) by kind",
                ["kind", "currency", "offers", "requested", "granted"],
                rows,
                numeric=[2, 3, 4],
            )
        )
        rows = [
            [cur, money_text(comp.granted_total[cur]), money_text(per)]
            for cur, per in comp.per_retained.items()
        ]
        parts.append(
            _table(
                "Granted in total and per retained instance",
                ["currency", "granted", "per retained instance"],
                rows,
                numeric=[1, 2],
            )
        )
    if comp.capped:
        rows = [
            [
                c.currency,
                str(c.offers),
                money_text(c.requested),
                money_text(c.granted),
                money_text(c.difference),
            ]
            for c in comp.capped
        ]
        parts.append(
            _table(
                "Capped offers: requested minus granted",
                ["currency", "offers", "requested", "granted", "difference"],
                rows,
                numeric=[1, 2, 3, 4],
            )
        )
    return "\n".join(parts)
