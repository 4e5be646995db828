"""Timing: `CheckContext` in, RF002/RF301/RF401/RF402/RF405/RF406 out.

Every DUR of the workflow (wait, due, every, cooldown, over, an SLA's duration and
warning) must be a positive duration; durations counted in a business calendar take
no weeks (and an SLA's warning in a calendar only s, m or h); `due` and `on timeout`
go together; an SLA's warning must be shorter than the SLA.
"""

from __future__ import annotations

from retainflow import nodes as n
from retainflow.checks.context import (
    CheckContext,
    DurationSite,
    DurationValue,
    duration_role,
    duration_value,
)
from retainflow.diagnostics import Diagnostic


def check_timeouts(ctx: CheckContext) -> list[Diagnostic]:
    """RF401 `on timeout` in a step without `due`; RF402 `due` without `on timeout`."""
    found: list[Diagnostic] = []
    for step in ctx.workflow.steps:
        timeouts = [h for h in step.handlers if h.is_timeout]
        due = step.due
        if due is None:
            for handler in timeouts:
                found.append(
                    Diagnostic(
                        "RF401",
                        handler.span,
                        f"step '{step.name.text}' has `on timeout` but no `due`",
                        label="add a deadline such as `due 2d`, or remove the handler",
                    )
                )
        elif not timeouts:
            found.append(
                Diagnostic(
                    "RF402",
                    due.span,
                    f"step '{step.name.text}' has a `due` but no `on timeout`",
                    label="when it expires nothing happens: add `on timeout -> STEP`",
                )
            )
    return found


def check_durations(ctx: CheckContext) -> list[Diagnostic]:
    """RF405 for DURs given by constants that are zero or negative, at the use (lowering
    reports zero literals in DURs; a duration in an expression, a constant's included, is
    a value and never RF405); RF301 for a DUR constant that is not a duration."""
    found: list[Diagnostic] = []
    for site in ctx.durations:
        ref = site.ref
        if not isinstance(ref, n.ConstRef) or ref.name.text not in ctx.consts:
            continue
        name = ref.name.text
        type_ = ctx.const_types.get(name)
        if type_ is not None and type_.name not in ("duration", "any"):
            found.append(
                Diagnostic(
                    "RF301",
                    ref.span,
                    f"constant '{name}' is {type_}, but {duration_role(site.role)} needs a "
                    "duration",
                    label="give a duration like `4h` or `2d`",
                )
            )
            continue
        value = duration_value(ref, ctx)
        if value is None or value.seconds > 0:
            continue
        shown = str(value)
        found.append(
            Diagnostic(
                "RF405",
                ref.span,
                f"constant '{name}' is {shown}, but {duration_role(site.role)} must be positive",
                label="use a duration above zero",
            )
        )
    return found


def check_calendar_units(ctx: CheckContext) -> list[Diagnostic]:
    """RF002: weeks counted in a business calendar; an SLA `warn` in a calendar with `d`
    or `w`; a constant of mixed units counted in a calendar."""
    found: list[Diagnostic] = []
    for site in ctx.durations:
        if site.calendar is None:
            continue
        found.extend(_calendar_units(ctx, site, site.calendar.text))
    return found


def _calendar_units(ctx: CheckContext, site: DurationSite, calendar: str) -> list[Diagnostic]:
    ref = site.ref
    value = duration_value(ref, ctx)
    if value is None:
        return []
    via = f"constant '{ref.name.text}' " if isinstance(ref, n.ConstRef) else ""
    if site.role == "warn" and value.units & {"d", "w"}:
        return [
            Diagnostic(
                "RF002",
                ref.span,
                f"{via or 'the warning '}counts days or weeks, but an SLA warning in "
                f"calendar '{calendar}' takes s, m or h",
                label="give the warning in open hours or minutes, e.g. `2h`",
            )
        ]
    if "w" in value.units:
        return [
            Diagnostic(
                "RF002",
                ref.span,
                f"{via}is in weeks, which calendar '{calendar}' cannot count"
                if via
                else f"weeks cannot be counted in calendar '{calendar}'",
                label="count open days or hours instead, e.g. `5d`",
            )
        ]
    if len(value.units) > 1:
        units = ", ".join(sorted(value.units))
        return [
            Diagnostic(
                "RF002",
                ref.span,
                f"{via}mixes units ({units}), which calendar '{calendar}' cannot count",
                label="counted in a calendar, a duration has one unit: s, m, h or d",
            )
        ]
    return []


def _shown(ctx: CheckContext, ref: n.DurationRef, value: DurationValue) -> str:
    """A DUR as written, with a constant's value: `24h`, `limit (5h)`."""
    if isinstance(ref, n.ConstRef):
        return f"{ref.name.text} ({value})"
    return ctx.text(ref)


def check_warnings(ctx: CheckContext) -> list[Diagnostic]:
    """RF406: an SLA `warn` not shorter than the SLA (compared exactly: 1d = 24h)."""
    found: list[Diagnostic] = []
    for sla in ctx.workflow.of(n.Sla):
        if sla.warn is None:
            continue
        warn, total = duration_value(sla.warn, ctx), duration_value(sla.duration, ctx)
        if warn is None or total is None or warn.seconds < total.seconds:
            continue
        warn_text = _shown(ctx, sla.warn, warn)
        total_text = _shown(ctx, sla.duration, total)
        found.append(
            Diagnostic(
                "RF406",
                sla.warn.span,
                f"SLA '{sla.name.text}' warns {warn_text} before its due time, but the whole "
                f"SLA is {total_text}",
                label="a warning must be shorter than the SLA (compared exactly: 1d = 24h)",
            )
        )
    return found
