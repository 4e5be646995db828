"""The metrics of a report, computed purely: run records (and the workflows they ran) in,
a `Report` of per-group metrics out; `report_json` gives its stable JSON form.

    >>> from retainflow.report.records import parse_record
    >>> recs = [parse_record({"case": c, "workflow": "w", "version": 1, "status": "ended",
    ...          "outcome": o, "outcome_kind": o, "started_at": "2026-03-02T09:00:00Z"},
    ...          "<doc>", i) for i, (c, o) in enumerate([("A", "retained"), ("B", "churned"),
    ...          ("C", "retained")], start=1)]
    >>> report = build_report(recs)
    >>> [g.key for g in report.groups], report.groups[0].retention_rate
    (['w'], Decimal('66.7'))

Decisions (docs/reports.md has them all): a record *started* when it has a `started_at`
(ended, waiting, cancelled, or an error while running); not_triggered records and
rejected cases did not. A record's time is its start, else its `clock` (the last input of
a not_triggered case); weeks (ISO) and months are of that time in UTC. Percentages are
rounded half-even to one decimal, from exact decimals. SLA counts cover started records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from retainflow.report.clients import ClientMetrics, parse_instant
from retainflow.report.records import OUTCOME_KINDS, STATUSES, RunRecord
from retainflow.report.rounding import mean, median, p90, percent, round_to
from retainflow.report.workflows import WorkflowInfo
from retainflow.values import MEASURE_SCALES, Money, format_time, number_to_json

__all__ = [
    "GROUPINGS",
    "OFFER_STATUSES",
    "REFUSAL_REASONS",
    "CompensationMetrics",
    "GroupMetrics",
    "InstanceCounts",
    "KindTotal",
    "MeasureMetrics",
    "Period",
    "PeriodError",
    "Report",
    "SlaMetrics",
    "WorkflowIndex",
    "build_report",
    "group_key",
    "parse_bound",
    "period_of",
    "report_json",
]

GROUPINGS = ("workflow", "trigger", "version", "client", "week", "month")
OFFER_STATUSES = ("granted", "capped", "refused", "denied", "pending", "withdrawn")
REFUSAL_REASONS = ("limit", "grant_count", "currency", "missing_amount", "missing_client")
SLA_COUNTED = ("met", "breached", "cancelled", "pending", "not_started")
MEASURE_KINDS = ("csat", "nps", "number")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MICROS = dt.timedelta(microseconds=1)


# ---- the period ---------------------------------------------------------------------------


@attrs.frozen
class Period:
    """Start times in [start, end); None is open-ended."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def contains(self, record: RunRecord) -> bool:
        if not self.bounded:
            return True
        t = record.time
        if t is None:
            return False
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)


def parse_bound(text: str, *, end: bool) -> dt.datetime:
    """`--from`/`--to`: a date (UTC) or a time with an offset. A date given to `--to`
    includes that whole day (the bound is the next midnight); a time is exact."""
    value = parse_instant(text)
    if end and len(text.strip()) == 10:
        value += dt.timedelta(days=1)
    return value


class PeriodError(ValueError):
    """A bad `--from`/`--to`: `.option` names it, `.message` says why."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


def period_of(date_from: str | None, date_to: str | None) -> Period:
    """The period of `--from`/`--to` texts; raises PeriodError."""
    bounds: list[dt.datetime | None] = []
    for option, text, end in (("--from", date_from, False), ("--to", date_to, True)):
        try:
            bounds.append(parse_bound(text, end=end) if text is not None else None)
        except ValueError as error:
            raise PeriodError(option, str(error)) from None
    start, stop = bounds
    if start is not None and stop is not None and start >= stop:
        raise PeriodError("--to", "the period must end after --from")
    return Period(start, stop)


# ---- workflows ----------------------------------------------------------------------------


class WorkflowIndex:
    """The `--workflow` files by (name, version); a record whose version was not given uses
    the highest version given of its workflow."""

    def __init__(self, infos: Iterable[WorkflowInfo] = ()) -> None:
        self.infos = tuple(infos)
        self._exact: dict[tuple[str, int], WorkflowInfo] = {}
        self._latest: dict[str, WorkflowInfo] = {}
        for info in self.infos:
            self._exact.setdefault(info.key, info)
            best = self._latest.get(info.name)
            if best is None or info.version > best.version:
                self._latest[info.name] = info

    def find(self, workflow: str, version: int | None) -> WorkflowInfo | None:
        if version is not None and (workflow, version) in self._exact:
            return self._exact[(workflow, version)]
        return self._latest.get(workflow)

    def of(self, record: RunRecord) -> WorkflowInfo | None:
        return self.find(record.workflow, record.version)


# ---- metrics ------------------------------------------------------------------------------


@attrs.frozen
class InstanceCounts:
    records: int
    started: int
    ended: int
    waiting: int
    cancelled: int
    error: int
    not_triggered: int


@attrs.frozen
class SlaMetrics:
    name: str
    met: int
    breached: int
    cancelled: int
    pending: int
    not_started: int
    paused: int  # of the pending ones
    attainment: Decimal | None  # met / (met + breached) x 100
    # Time to target (started_at -> completed_at) of every started instance that reached it.
    elapsed: tuple[dt.timedelta, ...]
    # The same in open time of the SLA's calendar; None unless every one could be counted
    # (the SLA has `in CAL` and its workflow was given).
    open: tuple[dt.timedelta, ...] | None
    calendars: tuple[str, ...]


@attrs.frozen
class KindTotal:
    """Granted and capped offers of one kind and currency."""

    kind: str
    currency: str
    offers: int
    requested: Money
    granted: Money


@attrs.frozen
class CappedTotal:
    currency: str
    offers: int
    requested: Money
    granted: Money

    @property
    def difference(self) -> Money:
        return Money(self.requested.amount - self.granted.amount, self.currency)


@attrs.frozen
class CompensationMetrics:
    offers: int
    by_status: Mapping[str, int]
    refused_by_reason: Mapping[str, int]
    by_kind: tuple[KindTotal, ...]
    granted_total: Mapping[str, Money]  # currency -> total granted
    per_retained: Mapping[str, Money | None]  # currency -> total / retained instances
    capped: tuple[CappedTotal, ...]


@attrs.frozen
class MeasureMetrics:
    name: str
    kind: str  # csat, nps, number
    values: tuple[Decimal, ...]
    value: Decimal | None  # csat %, nps score, or the mean of a number measure
    # csat: satisfied; nps: promoters, passives, detractors; number: mean, median.
    details: Mapping[str, Decimal | int | None]

    @property
    def responses(self) -> int:
        return len(self.values)


@attrs.frozen(eq=False)
class GroupMetrics:
    key: str | None
    title: str | None
    instances: InstanceCounts
    outcomes_by_name: Mapping[str, int]
    outcomes_by_kind: Mapping[str, int]
    retention_rate: Decimal | None
    churn_share: Decimal | None  # churned / ended x 100
    slas: Mapping[str, SlaMetrics]
    compensation: CompensationMetrics
    measures: Mapping[str, MeasureMetrics]
    records: tuple[RunRecord, ...]


@attrs.frozen(eq=False)
class Report:
    by: str
    period: Period
    groups: tuple[GroupMetrics, ...]
    total: GroupMetrics
    clients: ClientMetrics | None
    workflows: WorkflowIndex
    records_read: int

    def to_json(self) -> dict[str, Any]:
        return report_json(self)


def build_report(
    records: Iterable[RunRecord],
    workflows: Iterable[WorkflowInfo] | WorkflowIndex = (),
    *,
    by: str = "workflow",
    period: Period | None = None,
    clients: ClientMetrics | None = None,
) -> Report:
    """Filter by `period` (start time), group `by` one of GROUPINGS, compute every group."""
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    index = workflows if isinstance(workflows, WorkflowIndex) else WorkflowIndex(workflows)
    period = period or Period()
    records = list(records)
    kept = [rec for rec in records if period.contains(rec)]
    buckets: dict[str | None, list[RunRecord]] = {}
    for rec in kept:
        buckets.setdefault(group_key(rec, by), []).append(rec)
    ordered = sorted(buckets, key=lambda key: _sort_key(key, by))
    groups = tuple(
        group_metrics(buckets[key], index, key=key, title=_title(key, by, buckets[key], index))
        for key in ordered
    )
    total = group_metrics(kept, index, key=None, title="All records")
    return Report(by, period, groups, total, clients, index, len(records))


def group_key(record: RunRecord, by: str) -> str | None:
    """The key of a record's group: a name, `workflow@version`, `2026-W10`, `2026-03`."""
    if by == "workflow":
        return record.workflow
    if by == "version":
        return f"{record.workflow}@{record.version}" if record.version is not None else None
    if by == "trigger":
        return record.trigger
    if by == "client":
        return record.client
    t = record.time
    if t is None:
        return None
    t = t.astimezone(dt.UTC)
    if by == "week":
        year, week, _ = t.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{t.year}-{t.month:02d}"


def _sort_key(key: str | None, by: str) -> tuple[int, str, int]:
    if key is None:
        return (1, "", 0)
    if by == "version":
        name, _, version = key.rpartition("@")
        return (0, name, int(version))
    return (0, key, 0)


def _title(key: str | None, by: str, records: Sequence[RunRecord], index: WorkflowIndex) -> str:
    if key is None:
        missing = {
            "workflow": "no workflow",
            "version": "no version",
            "trigger": "not triggered",
            "client": "no client",
        }
        return missing.get(by, "no start time")
    if by in ("workflow", "version"):
        info = index.of(records[0])
        return info.title if info and info.title else key
    if by == "week":
        year, week = key.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        return f"week of {monday.isoformat()}"
    if by == "month":
        year, month = key.split("-")
        return f"{_MONTHS[int(month) - 1]} {year}"
    return key


def group_metrics(
    records: Sequence[RunRecord],
    index: WorkflowIndex,
    *,
    key: str | None = None,
    title: str | None = None,
) -> GroupMetrics:
    """Every metric of one group of records."""
    started = [rec for rec in records if rec.started]
    status = {name: sum(1 for rec in records if rec.status == name) for name in STATUSES}
    instances = InstanceCounts(records=len(records), started=len(started), **status)
    by_name, by_kind = _outcomes(records, index)
    retained, churned = by_kind["retained"], by_kind["churned"]
    return GroupMetrics(
        key=key,
        title=title,
        instances=instances,
        outcomes_by_name=by_name,
        outcomes_by_kind=by_kind,
        retention_rate=percent(retained, retained + churned),
        churn_share=percent(churned, status["ended"]),
        slas=_slas(started, index),
        compensation=_compensation(records, retained),
        measures=_measures(records, index),
        records=tuple(records),
    )


def outcome_kind(record: RunRecord, index: WorkflowIndex) -> str | None:
    """retained, churned or other; None without an outcome."""
    if record.outcome is None:
        return None
    if record.outcome_kind is not None:
        return record.outcome_kind
    info = index.of(record)
    return info.outcomes.get(record.outcome, "other") if info else "other"


def _outcomes(
    records: Sequence[RunRecord], index: WorkflowIndex
) -> tuple[dict[str, int], dict[str, int]]:
    names: dict[str, int] = {}
    for info in _infos(records, index):
        for name in info.outcomes:
            names.setdefault(name, 0)
    kinds = dict.fromkeys(OUTCOME_KINDS, 0)
    for rec in records:
        kind = outcome_kind(rec, index)
        if rec.outcome is None or kind is None:
            continue
        names[rec.outcome] = names.get(rec.outcome, 0) + 1
        kinds[kind] += 1
    return dict(sorted(names.items())), kinds


def _infos(records: Sequence[RunRecord], index: WorkflowIndex) -> list[WorkflowInfo]:
    seen: dict[int, WorkflowInfo] = {}
    for rec in records:
        info = index.of(rec)
        if info is not None:
            seen.setdefault(id(info), info)
    return list(seen.values())


def _slas(started: Sequence[RunRecord], index: WorkflowIndex) -> dict[str, SlaMetrics]:
    names: dict[str, None] = {}
    for rec in started:
        names.update(dict.fromkeys(rec.slas))
    for info in _infos(started, index):
        names.update(dict.fromkeys(info.sla_calendars))
    result: dict[str, SlaMetrics] = {}
    for name in names:
        counts = dict.fromkeys(SLA_COUNTED, 0)
        paused = 0
        elapsed: list[dt.timedelta] = []
        opened: list[dt.timedelta] | None = []
        calendars: dict[str, None] = {}
        for rec in started:
            sla = rec.slas.get(name)
            if sla is None:
                continue
            counts[sla.status] += 1
            paused += sla.status == "pending" and sla.paused
            if sla.started_at is None or sla.completed_at is None:
                continue
            elapsed.append(sla.completed_at - sla.started_at)
            ran = index.of(rec)
            calendar = ran.sla_calendars.get(name) if ran else None
            if calendar is None or opened is None:
                opened = None
                continue
            calendars[calendar.name] = None
            opened.append(calendar.open_time(sla.started_at, sla.completed_at))
        result[name] = SlaMetrics(
            name=name,
            met=counts["met"],
            breached=counts["breached"],
            cancelled=counts["cancelled"],
            pending=counts["pending"],
            not_started=counts["not_started"],
            paused=paused,
            attainment=percent(counts["met"], counts["met"] + counts["breached"]),
            elapsed=tuple(elapsed),
            open=tuple(opened) if opened is not None else None,
            calendars=tuple(calendars) if opened is not None else (),
        )
    return result


def _compensation(records: Sequence[RunRecord], retained: int) -> CompensationMetrics:
    offers = [offer for rec in records for offer in rec.offers]
    by_status = dict.fromkeys(OFFER_STATUSES, 0)
    reasons = dict.fromkeys(REFUSAL_REASONS, 0)
    kinds: dict[tuple[str, str], list[tuple[Money, Money]]] = {}
    capped: dict[str, list[tuple[Money, Money]]] = {}
    for offer in offers:
        by_status[offer.status] = by_status.get(offer.status, 0) + 1
        if offer.status == "refused":
            reason = offer.reason or "unknown"
            reasons[reason] = reasons.get(reason, 0) + 1
        if offer.status not in ("granted", "capped") or offer.amount is None:
            continue
        requested = offer.requested or offer.amount
        if requested.currency != offer.amount.currency:  # pragma: no cover - not in results
            requested = offer.amount
        kinds.setdefault((offer.kind, offer.amount.currency), []).append((requested, offer.amount))
        if offer.status == "capped":
            capped.setdefault(offer.amount.currency, []).append((requested, offer.amount))
    by_kind = tuple(
        KindTotal(
            kind,
            cur,
            len(pairs),
            _sum(cur, (r for r, _ in pairs)),
            _sum(cur, (g for _, g in pairs)),
        )
        for (kind, cur), pairs in sorted(kinds.items())
    )
    totals: dict[str, Money] = {}
    for item in by_kind:
        totals[item.currency] = Money(
            totals.get(item.currency, Money(Decimal(0), item.currency)).amount
            + item.granted.amount,
            item.currency,
        )
    totals = dict(sorted(totals.items()))
    per_retained = {
        cur: Money(total.amount / retained, cur) if retained else None
        for cur, total in totals.items()
    }
    return CompensationMetrics(
        offers=len(offers),
        by_status=by_status,
        refused_by_reason=reasons,
        by_kind=by_kind,
        granted_total=totals,
        per_retained=per_retained,
        capped=tuple(
            CappedTotal(
                cur, len(pairs), _sum(cur, (r for r, _ in pairs)), _sum(cur, (g for _, g in pairs))
            )
            for cur, pairs in sorted(capped.items())
        ),
    )


def _sum(currency: str, amounts: Iterable[Money]) -> Money:
    return Money(sum((m.amount for m in amounts), Decimal(0)), currency)


def _measures(records: Sequence[RunRecord], index: WorkflowIndex) -> dict[str, MeasureMetrics]:
    """Each measure of the group, its responses scored by the kind the workflow version of
    their record declares (`number` when the version is not known). A name that two
    versions or workflows of the group declare with different kinds is one entry per kind,
    `NAME (KIND)`: a csat answer is never scored as an nps one. A record of a version not
    given takes the first kind the group's workflows declare for the name."""
    infos = _infos(records, index)
    declared: dict[str, str] = {}  # name -> the first kind declared for it, in order
    for info in infos:
        for name, kind in info.measure_kinds.items():
            declared.setdefault(name, kind)
    by_kind: dict[str, dict[str, list[Decimal]]] = {}  # name -> kind -> responses
    for rec in records:
        of_record = index.of(rec)
        kinds = of_record.measure_kinds if of_record is not None else declared
        for name, answers in rec.measures.items():
            kind = kinds.get(name) or declared.get(name, "number")
            scale = MEASURE_SCALES.get(kind)  # a hand-made file may hold one outside
            kept = by_kind.setdefault(name, {}).setdefault(kind, [])
            kept.extend(v for v in answers if scale is None or scale[0] <= v <= scale[1])
    for info in infos:  # declared but never answered in this group
        for name, kind in info.measure_kinds.items():
            by_kind.setdefault(name, {}).setdefault(kind, [])
    result: dict[str, MeasureMetrics] = {}
    for name in [*declared, *(n for n in by_kind if n not in declared)]:
        kinds_seen = by_kind[name]
        for kind, kept_answers in kinds_seen.items():
            shown = name if len(kinds_seen) == 1 else f"{name} ({kind})"
            result[shown] = _measure(shown, kind, tuple(kept_answers))
    return result


def _measure(name: str, kind: str, values: tuple[Decimal, ...]) -> MeasureMetrics:
    n = len(values)
    details: dict[str, Decimal | int | None]
    if kind == "csat":
        satisfied = sum(1 for v in values if v >= 4)
        return MeasureMetrics(name, kind, values, percent(satisfied, n), {"satisfied": satisfied})
    if kind == "nps":
        promoters = sum(1 for v in values if v >= 9)
        detractors = sum(1 for v in values if v <= 6)
        details = {
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
        }
        return MeasureMetrics(name, kind, values, percent(promoters - detractors, n), details)
    avg = mean(values)
    mid = median(values)
    avg = round_to(avg, 2) if avg is not None else None
    details = {"mean": avg, "median": round_to(mid, 2) if mid is not None else None}
    return MeasureMetrics(name, "number", values, avg, details)


# ---- JSON ---------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """The document of `report --format json` (docs/reports.md describes every field)."""
    clients = report.clients
    return {
        "version": 1,
        "by": report.by,
        "from": _time(report.period.start),
        "to": _time(report.period.end),
        "records": report.total.instances.records,
        "groups": [group_json(group) for group in report.groups],
        "total": group_json(report.total),
        "clients": _clients_json(clients) if clients is not None else None,
    }


def _time(value: dt.datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def _pct(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _num(value: Decimal | int | None) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return number_to_json(value)  # type: ignore[return-value]


def seconds(value: dt.timedelta) -> Decimal:
    """A duration as exact seconds."""
    return Decimal(value // _MICROS) / Decimal(1_000_000)


def duration_stats(values: Sequence[dt.timedelta] | None) -> dict[str, Any] | None:
    """`{"median": s, "p90": s}` in seconds; None when not available."""
    if values is None:
        return None
    secs = [seconds(v) for v in values]
    return {"median": _num(_round_secs(median(secs))), "p90": _num(_round_secs(p90(secs)))}


def _round_secs(value: Decimal | None) -> Decimal | None:
    return round_to(value, 3).normalize() if value is not None else None


def group_json(group: GroupMetrics) -> dict[str, Any]:
    inst = group.instances
    return {
        "key": group.key,
        "title": group.title,
        "instances": {
            "records": inst.records,
            "started": inst.started,
            "ended": inst.ended,
            "waiting": inst.waiting,
            "cancelled": inst.cancelled,
            "error": inst.error,
            "not_triggered": inst.not_triggered,
        },
        "outcomes": {
            "by_name": dict(group.outcomes_by_name),
            "by_kind": dict(group.outcomes_by_kind),
        },
        "retention_rate": _pct(group.retention_rate),
        "churn_share": _pct(group.churn_share),
        "slas": {name: _sla_json(sla) for name, sla in group.slas.items()},
        "compensation": _compensation_json(group.compensation),
        "measures": {name: _measure_json(m) for name, m in group.measures.items()},
    }


def _sla_json(sla: SlaMetrics) -> dict[str, Any]:
    return {
        "met": sla.met,
        "breached": sla.breached,
        "cancelled": sla.cancelled,
        "pending": sla.pending,
        "paused": sla.paused,
        "not_started": sla.not_started,
        "attainment": _pct(sla.attainment),
        "time_to_target": {
            "count": len(sla.elapsed),
            "elapsed_seconds": duration_stats(sla.elapsed),
            "calendars": list(sla.calendars),
            "open_seconds": duration_stats(sla.open),
        },
    }


def _money_map(values: Mapping[str, Money | None]) -> dict[str, str | None]:
    return {cur: str(m) if m is not None else None for cur, m in values.items()}


def _compensation_json(comp: CompensationMetrics) -> dict[str, Any]:
    granted: dict[str, dict[str, str]] = {}
    for item in comp.by_kind:
        granted.setdefault(item.kind, {})[item.currency] = str(item.granted)
    return {
        "offers": comp.offers,
        "by_status": dict(comp.by_status),
        "refused_by_reason": dict(comp.refused_by_reason),
        "granted": granted,
        "granted_total": _money_map(comp.granted_total),
        "granted_per_retained": _money_map(comp.per_retained),
        "capped": {
            item.currency: {
                "offers": item.offers,
                "requested": str(item.requested),
                "granted": str(item.granted),
                "difference": str(item.difference),
            }
            for item in comp.capped
        },
    }


def _measure_json(measure: MeasureMetrics) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": measure.kind,
        "value": _pct(measure.value) if measure.kind != "number" else _num(measure.value),
        "responses": measure.responses,
    }
    for key, value in measure.details.items():
        doc[key] = _num(value)
    if measure.kind in ("csat", "nps"):
        doc["distribution"] = distribution(measure)
    return doc


def distribution(measure: MeasureMetrics) -> dict[str, int]:
    """Responses per score of a csat (1-5) or nps (0-10) scale; other values appear too."""
    scale = range(1, 6) if measure.kind == "csat" else range(0, 11)
    counts = {str(score): 0 for score in scale}
    for value in sorted(measure.values):
        label = _score_label(value)
        counts[label] = counts.get(label, 0) + 1
    return counts


def _score_label(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.normalize():f}"


def _clients_json(m: ClientMetrics) -> dict[str, Any]:
    return {
        "from": format_time(m.period_start),
        "to": format_time(m.period_end),
        "clients": m.clients,
        "start": m.start,
        "new": m.new,
        "end": m.end,
        "lost": m.lost,
        "retention_rate": _pct(m.retention_rate),
        "churn_rate": _pct(m.churn_rate),
        "simple_retention_rate": _pct(m.simple_retention_rate),
    }
