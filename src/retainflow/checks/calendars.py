"""Business calendar definitions: `CheckContext` in, RF002 out.

A calendar needs one known IANA time zone and at least one `hours` line; its intervals
may not overlap (a night interval runs into the next day); `holidays "CC"` must name a
country (or "CC-SUB" subdivision) of the `holidays` package. Day ranges wrap around the
week: `fri-mon` is fri, sat, sun, mon.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import holidays

from retainflow import calendar as cal
from retainflow import nodes as n
from retainflow.checks.context import CheckContext, similar
from retainflow.diagnostics import Diagnostic, Related

WEEKDAYS = cal.DAY_NAMES


def expand_days(spec: n.DaySpec) -> list[int]:
    """Weekday numbers (0 = mon) of `mon` or `mon-fri`; a range past `sun` wraps around."""
    if spec.first.text not in WEEKDAYS:
        return []
    first = WEEKDAYS.index(spec.first.text)
    if spec.last is None:
        return [first]
    if spec.last.text not in WEEKDAYS:
        return []
    last = WEEKDAYS.index(spec.last.text)
    return [(first + offset) % 7 for offset in range((last - first) % 7 + 1)]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_calendars(ctx: CheckContext) -> list[Diagnostic]:
    """RF002: time zones, hours and holiday countries of every calendar."""
    found: list[Diagnostic] = []
    for calendar in ctx.workflow.of(n.Calendar):
        found.extend(_zones(calendar))
        found.extend(_hours(calendar))
        for item in calendar.items:
            if isinstance(item, n.CalHolidaysCountry):
                problem = _country(item.country)
                if problem is not None:
                    found.append(problem)
    return found


def _zones(calendar: n.Calendar) -> list[Diagnostic]:
    zones = [item for item in calendar.items if isinstance(item, n.CalTimezone)]
    if not zones:
        return [
            Diagnostic(
                "RF002",
                calendar.name.span,
                f"calendar '{calendar.name.text}' has no time zone",
                label='add an IANA time zone, e.g. `timezone "Europe/London"`',
            )
        ]
    found: list[Diagnostic] = []
    for zone in zones:
        name = zone.zone.value
        if cal.known_timezone(name):
            continue
        found.append(
            similar(
                "RF002",
                zone.zone.span,
                f"unknown time zone '{name}'",
                name,
                dict.fromkeys(_timezones(), "time zone"),
                otherwise='use an IANA name such as "Europe/London" or "Asia/Manila"',
            )
        )
    return found


@functools.cache
def _timezones() -> tuple[str, ...]:
    import zoneinfo

    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _countries() -> dict[str, tuple[str, ...]]:
    supported = holidays.list_supported_countries(include_aliases=True)
    return {country: tuple(subdivs) for country, subdivs in supported.items()}


def _country(code: n.String) -> Diagnostic | None:
    text = code.value
    if cal.known_country(text):
        return None
    if cal.known_country(text.upper()):
        return Diagnostic(
            "RF002",
            code.span,
            f"unknown holiday country '{text}'",
            label=f"codes are written in upper case: '{text.upper()}'",
            suggestion=text.upper(),
        )
    country, dash, subdiv = text.partition("-")
    countries = _countries()
    if dash and country in countries:
        subdivs = countries[country]
        otherwise = (
            f"{country} has no subdivisions in the holidays package"
            if not subdivs
            else f"subdivisions of {country} include " + ", ".join(subdivs[:8])
        )
        diag = similar(
            "RF002",
            code.span,
            f"'{subdiv}' is not a subdivision of {country}",
            subdiv,
            dict.fromkeys(subdivs, "subdivision"),
            otherwise=otherwise,
        )
        if diag.suggestion is not None:
            full = f"{country}-{diag.suggestion}"
            label = f"there is a subdivision with a similar code: '{full}'"
            return Diagnostic("RF002", code.span, diag.message, label=label, suggestion=full)
        return diag
    return Diagnostic(
        "RF002",
        code.span,
        f"unknown holiday country '{text}'",
        label='use an ISO 3166 code the holidays package knows, like "PH", "US" or "GB-SCT"',
    )


def _hours(calendar: n.Calendar) -> list[Diagnostic]:
    lines = [item for item in calendar.items if isinstance(item, n.CalHours)]
    if not lines:
        return [
            Diagnostic(
                "RF002",
                calendar.name.span,
                f"calendar '{calendar.name.text}' has no opening hours",
                label="add at least one line such as `hours mon-fri 09:00-17:00`",
            )
        ]
    found: list[Diagnostic] = []
    weekly: list[cal.WeeklyInterval] = []
    owners: list[n.Interval] = []
    for line in lines:
        days = [day for spec in line.days for day in expand_days(spec)]
        for interval in line.intervals:
            if interval.open.minutes >= 1440:
                found.append(
                    Diagnostic(
                        "RF002",
                        interval.open.span,
                        "an interval cannot open at 24:00",
                        label="24:00 can only close an interval: open at 00:00",
                    )
                )
                continue
            for day in days:
                weekly.append(
                    cal.WeeklyInterval(day, interval.open.minutes, interval.close.minutes)
                )
                owners.append(interval)
    clashes: dict[tuple[int, int], list[str]] = defaultdict(list)
    nodes: dict[int, n.Interval] = {}
    for i, j in cal.find_overlaps(weekly):
        a, b = owners[i], owners[j]
        if a.span.start > b.span.start:
            a, b = b, a
        nodes[id(a)], nodes[id(b)] = a, b
        day_name = WEEKDAYS[weekly[j].weekday if owners[j] is b else weekly[i].weekday]
        clash_days = clashes[(id(a), id(b))]
        if day_name not in clash_days:
            clash_days.append(day_name)
    for (first_id, later_id), clash_days in clashes.items():
        first, later = nodes[first_id], nodes[later_id]
        shown_days = ", ".join(sorted(clash_days, key=WEEKDAYS.index))
        if first is later:
            message = f"the hours {_interval(later)} are given twice for {shown_days}"
            related: tuple[Related, ...] = ()
        else:
            message = f"the hours {_interval(later)} overlap {_interval(first)} on {shown_days}"
            related = (Related(first.span, f"{_interval(first)} is here"),)
        found.append(
            Diagnostic(
                "RF002",
                later.span,
                message,
                label="intervals of a calendar may not overlap"
                + (" (night hours run into the next day)" if _night(first, later) else ""),
                related=related,
            )
        )
    return found


def _interval(interval: n.Interval) -> str:
    return f"{_hhmm(interval.open.minutes)}-{_hhmm(interval.close.minutes)}"


def _night(*intervals: n.Interval) -> bool:
    return any(i.close.minutes <= i.open.minutes for i in intervals)
