"""How people read report values (text and HTML share these): durations, money,
percentages, periods and measure values.

    >>> human_duration(dt.timedelta(hours=16, minutes=30)), human_duration(dt.timedelta(days=9))
    ('16h 30m', '9d')
    >>> money_text(Money("13000", "USD")), pct_text(Decimal("55.6")), pct_text(None)
    ('13,000.00 USD', '55.6%', '–')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from retainflow.report.metrics import GroupMetrics, MeasureMetrics, Period, Report, seconds
from retainflow.report.rounding import median, p90
from retainflow.values import Money, format_time

__all__ = [
    "DASH",
    "INSTANCE_HEADERS",
    "MEASURE_HEADERS",
    "TIME_TO_TARGET_HEADERS",
    "human_duration",
    "instance_rows",
    "measure_details",
    "measure_rows",
    "measure_value",
    "money_text",
    "pct_text",
    "period_text",
    "report_heading",
    "stat_durations",
    "time_to_target_rows",
]

DASH = "–"


def human_duration(value: dt.timedelta | None) -> str:
    """Two units at most, rounded to the minute: 45s, 30m, 16h 30m, 2d 3h."""
    if value is None:
        return DASH
    total = value.total_seconds()
    if total < 60:
        return f"{round(total)}s"
    minutes = round(total / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        if mins >= 30:
            hours += 1
            if hours == 24:
                days, hours = days + 1, 0
        return f"{days}d {hours}h" if hours else f"{days}d"
    return f"{hours}h {mins}m" if hours and mins else (f"{hours}h" if hours else f"{mins}m")


def stat_durations(values: Sequence[dt.timedelta] | None) -> tuple[str, str]:
    """Median and p90 as people read them."""
    if not values:
        return DASH, DASH
    secs = [seconds(v) for v in values]
    mid, top = median(secs), p90(secs)
    return (
        human_duration(dt.timedelta(seconds=float(mid)) if mid is not None else None),
        human_duration(dt.timedelta(seconds=float(top)) if top is not None else None),
    )


def money_text(value: Money | None) -> str:
    if value is None:
        return DASH
    return f"{value.amount:,f} {value.currency}"


def pct_text(value: Decimal | None) -> str:
    return DASH if value is None else f"{value}%"


def _bound(value: dt.datetime, end: bool) -> str:
    utc = value.astimezone(dt.UTC)
    if utc.time() == dt.time(0) and utc.tzinfo is not None:
        day = utc.date() - dt.timedelta(days=1) if end else utc.date()
        return day.isoformat()
    return format_time(utc)


def period_text(period: Period) -> str:
    """`all start times`, `starts 2026-03-01 to 2026-03-31` (dates inclusive, UTC)."""
    start, end = period.start, period.end
    if start is None and end is None:
        return "all start times"
    if start is not None and end is not None:
        return f"starts {_bound(start, False)} to {_bound(end, True)} (UTC)"
    if start is not None:
        return f"starts from {_bound(start, False)} (UTC)"
    assert end is not None
    return f"starts up to {_bound(end, True)} (UTC)"


def measure_value(measure: MeasureMetrics) -> str:
    if measure.value is None:
        return DASH
    if measure.kind == "csat":
        return f"{measure.value}%"
    if measure.kind == "nps":
        return f"{measure.value:+}" if measure.value else "0.0"
    return f"{measure.value}"


def measure_details(measure: MeasureMetrics) -> str:
    d = measure.details
    if not measure.responses:
        return "no responses"
    if measure.kind == "csat":
        return f"{d['satisfied']} satisfied (4-5)"
    if measure.kind == "nps":
        return f"{d['promoters']} promoters, {d['passives']} passives, {d['detractors']} detractors"
    if measure.value is None:
        return ""
    return f"mean {d['mean']}, median {d['median']}"


def report_heading(report: Report) -> str:
    """`11 records, grouped by workflow` (`8 of 11 records` when the period left some out)."""
    kept, read = report.total.instances.records, report.records_read
    noun = "record" if read == 1 else "records"
    count = f"{kept} of {read} {noun}" if kept != read else f"{read} {noun}"
    return f"{count}, grouped by {report.by}"


# ---- the tables both renderers show (headers and cell texts; each lays them out) -----------

INSTANCE_HEADERS = ["records", "started", "ended", "waiting", "cancelled", "error", "not triggered"]
TIME_TO_TARGET_HEADERS = ["sla", "reached", "median", "p90", "open median", "open p90", "calendar"]
MEASURE_HEADERS = ["measure", "kind", "value", "responses", "details"]


def instance_rows(group: GroupMetrics) -> list[list[str]]:
    """The group's one row of instance counts, under `INSTANCE_HEADERS`."""
    inst = group.instances
    counts = (inst.records, inst.started, inst.ended, inst.waiting, inst.cancelled)
    return [[*(str(n) for n in counts), str(inst.error), str(inst.not_triggered)]]


def time_to_target_rows(group: GroupMetrics) -> list[list[str]]:
    """Per SLA: targets reached, median and p90 elapsed and open time, its calendars."""
    rows = []
    for sla in group.slas.values():
        median_text, p90_text = stat_durations(sla.elapsed)
        open_median, open_p90 = stat_durations(sla.open) if sla.open is not None else (DASH, DASH)
        calendars = ", ".join(sla.calendars) or DASH
        reached = str(len(sla.elapsed))
        rows.append([sla.name, reached, median_text, p90_text, open_median, open_p90, calendars])
    return rows


def measure_rows(group: GroupMetrics) -> list[list[str]]:
    """Per measure, under `MEASURE_HEADERS`."""
    return [
        [m.name, m.kind, measure_value(m), str(m.responses), measure_details(m)]
        for m in group.measures.values()
    ]
