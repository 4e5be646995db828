"""Run results: instances in, the records of tools.md ("Run results") and summaries out.

    record = instance_record(workflow, "C-1001", "acme", instance)
    line = dumps_line(record)   # one line of `retainflow run --format jsonl`

A record has the keys, in order: case, client, instance, workflow, version, status,
trigger, outcome, outcome_kind, started_at, ended_at, clock, path, actions, offers, slas,
measures, ignored, error. Times are UTC with `Z`, money has its currency's minor-unit
digits, durations their largest exact unit, numbers their shortest exact form.
`summary` and `render_text` give the `json` summary and the `text` table.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from retainflow.compile import Workflow
from retainflow.runtime.state import CaseState, FlowState, IgnoredRecord, Instance, OfferRecord
from retainflow.values import Money, format_number, format_time, to_json_value

__all__ = [
    "case_records",
    "dumps_line",
    "instance_record",
    "not_triggered_record",
    "rejected_record",
    "render_text",
    "summary",
]


_TIMES: dict[dt.datetime, str] = {}


def _time(value: dt.datetime | None) -> str | None:
    """`format_time`, memoized: a run shows the same instants again and again."""
    if value is None:
        return None
    text = _TIMES.get(value)
    if text is None or value.tzinfo is not dt.UTC:
        text = format_time(value)
        if value.tzinfo is dt.UTC:
            if len(_TIMES) > 100_000:
                _TIMES.clear()
            _TIMES[value] = text
    return text


def _money(value: Money | None) -> str | None:
    return None if value is None else str(value)


def _slas(workflow: Workflow, inst: Instance | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sla in workflow.slas:
        state = inst.slas.get(sla.name) if inst is not None else None
        if state is None:
            out[sla.name] = {
                "status": "not_started",
                "started_at": None,
                "due": None,
                "completed_at": None,
            }
            continue
        item: dict[str, Any] = {
            "status": state.status,
            "started_at": _time(state.started_at),
            "due": _time(state.due),
            "completed_at": _time(state.completed_at),
        }
        if state.paused:
            item["paused"] = True
        out[sla.name] = item
    return out


def _offer(offer: OfferRecord) -> dict[str, Any]:
    return {
        "at": _time(offer.at),
        "decided_at": _time(offer.decided_at),
        "step": offer.step,
        "kind": offer.kind,
        "requested": _money(offer.requested),
        "amount": _money(offer.amount),
        "status": offer.status,
        "reason": offer.reason,
        "label": offer.label,
    }


def _ignored(records: Iterable[IgnoredRecord]) -> list[dict[str, Any]]:
    return [{"at": _time(r.at), "type": r.type, "id": r.id, "reason": r.reason} for r in records]


def _measures(workflow: Workflow, inst: Instance | None) -> dict[str, Any]:
    return {
        m.name: [to_json_value(v) for v in (inst.measures.get(m.name, []) if inst else [])]
        for m in workflow.measures
    }


def instance_record(
    workflow: Workflow, case_id: str, client: str | None, inst: Instance
) -> dict[str, Any]:
    """The record of one instance (`workflow` is the version it ran on)."""
    outcome = workflow.outcomes.get(inst.outcome) if inst.outcome else None
    ended = inst.status in ("ended", "cancelled")
    return {
        "case": case_id,
        "client": client,
        "instance": inst.number,
        "workflow": inst.workflow,
        "version": inst.version,
        "status": "waiting" if inst.status == "active" else inst.status,
        "trigger": inst.trigger,
        "outcome": inst.outcome,
        "outcome_kind": outcome.kind if outcome else None,
        "started_at": _time(inst.started_at),
        "ended_at": _time(inst.ended_at) if ended else None,
        "clock": _time(inst.ended_at if ended else inst.clock),
        "path": list(inst.path),
        "actions": [
            {"at": _time(a.at), "step": a.step, "name": a.name, "args": _args(a.args)}
            for a in inst.actions
        ],
        "offers": [_offer(o) for o in inst.offers],
        "slas": _slas(workflow, inst),
        "measures": _measures(workflow, inst),
        "ignored": _ignored(inst.ignored),
        "error": inst.error,
    }


def _args(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if type(value) is str:
            out[key] = value
        elif type(value) is dt.datetime:
            out[key] = _time(value)
        else:
            out[key] = to_json_value(value)
    return out


def _empty(
    workflow: Workflow,
    case_id: str | None,
    client: str | None,
    status: str,
    clock: dt.datetime | None,
    ignored: Iterable[IgnoredRecord],
    error: str | None,
) -> dict[str, Any]:
    return {
        "case": case_id,
        "client": client,
        "instance": None,
        "workflow": workflow.name,
        "version": workflow.version,
        "status": status,
        "trigger": None,
        "outcome": None,
        "outcome_kind": None,
        "started_at": None,
        "ended_at": None,
        "clock": _time(clock),
        "path": [],
        "actions": [],
        "offers": [],
        "slas": _slas(workflow, None),
        "measures": _measures(workflow, None),
        "ignored": _ignored(ignored),
        "error": error,
    }


def not_triggered_record(
    workflow: Workflow,
    case_id: str,
    client: str | None,
    flow: FlowState | None,
    clock: dt.datetime | None,
) -> dict[str, Any]:
    """A case that never started an instance (status `error` if a trigger failed)."""
    error = flow.error if flow is not None else None
    ignored = flow.early_ignored if flow is not None else []
    return _empty(
        workflow, case_id, client, "error" if error else "not_triggered", clock, ignored, error
    )


def rejected_record(workflow: Workflow, case_id: str | None, error: str) -> dict[str, Any]:
    """A case whose data was rejected before it ran."""
    return _empty(workflow, case_id, None, "error", None, [], error)


def client_of(state: CaseState) -> str | None:
    client = state.data.get("client")
    return client if isinstance(client, str) else None


def case_records(
    workflow: Workflow, state: CaseState, versions: dict[int, Workflow] | None = None
) -> list[dict[str, Any]]:
    """Every record of one case in one workflow: one per instance, or not_triggered."""
    client = client_of(state)
    flow = state.flows.get(workflow.name)
    if flow is None or not flow.instances:
        return [not_triggered_record(workflow, state.case_id, client, flow, state.last_input)]
    records = []
    for inst in flow.instances:
        ran_on = (versions or {}).get(inst.version, workflow)
        records.append(instance_record(ran_on, state.case_id, client, inst))
    return records


def dumps_line(record: dict[str, Any]) -> str:
    """One JSON Lines line, as tools.md fixes it (`json.dumps(obj, ensure_ascii=False)`)."""
    return json.dumps(record, ensure_ascii=False)


# ---- summaries -----------------------------------------------------------------------------

_OFFER_STATUSES = ("granted", "capped", "refused", "denied", "withdrawn", "pending")


def summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts over run records: statuses, outcomes, retention rate, offers, SLAs."""
    statuses: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    kinds = {"retained": 0, "churned": 0, "other": 0}
    offers: dict[str, dict[str, Any]] = {
        s: {"count": 0, "requested": {}, "amount": {}} for s in _OFFER_STATUSES
    }
    slas: dict[str, dict[str, int]] = {}
    for record in records:
        status = record["status"]
        statuses[status] = statuses.get(status, 0) + 1
        if record["outcome"] is not None:
            outcomes[record["outcome"]] = outcomes.get(record["outcome"], 0) + 1
            kind = record["outcome_kind"] or "other"
            kinds[kind] = kinds.get(kind, 0) + 1
        for offer in record["offers"]:
            bucket = offers.setdefault(offer["status"], {"count": 0, "requested": {}, "amount": {}})
            bucket["count"] += 1
            for key in ("requested", "amount"):
                _add_money(bucket[key], offer[key])
        for name, sla in record["slas"].items():
            counts = slas.setdefault(
                name, {"met": 0, "breached": 0, "pending": 0, "cancelled": 0, "not_started": 0}
            )
            counts[sla["status"]] = counts.get(sla["status"], 0) + 1
    decided = kinds["retained"] + kinds["churned"]
    rate = None if not decided else round(kinds["retained"] * 100 / decided, 1)
    for bucket in offers.values():
        for key in ("requested", "amount"):
            bucket[key] = {cur: f"{amount} {cur}" for cur, amount in sorted(bucket[key].items())}
    return {
        "records": len(records),
        "instances": sum(1 for r in records if r["instance"] is not None),
        "statuses": dict(sorted(statuses.items())),
        "outcomes": dict(sorted(outcomes.items())),
        "outcome_kinds": kinds,
        "retention_rate": rate,
        "offers": {s: b for s, b in offers.items() if b["count"] or s in _OFFER_STATUSES[:4]},
        "slas": slas,
    }


def _add_money(totals: dict[str, Decimal], text: str | None) -> None:
    if text is None:
        return
    money = Money.parse(text)
    totals[money.currency] = Money(
        totals.get(money.currency, Decimal(0)) + money.amount, money.currency
    ).amount


def render_text(records: Sequence[dict[str, Any]], summary_: dict[str, Any]) -> str:
    """A table of the records and the run's summary, for people."""
    headers = ("case", "#", "status", "trigger", "outcome", "path")
    rows = []
    for r in records:
        path = " > ".join(r["path"]) if r["path"] else "-"
        rows.append(
            (
                str(r["case"]),
                "-" if r["instance"] is None else str(r["instance"]),
                r["status"],
                r["trigger"] or "-",
                r["outcome"] or "-",
                path,
            )
        )
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers[:-1])]
    lines = []

    def line(cells: Sequence[str]) -> str:
        head = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True))
        return f"{head}  {cells[-1]}".rstrip()

    lines.append(line(headers))
    lines.extend(line(row) for row in rows)
    errors = [r["error"] for r in records if r["error"]]
    if errors:
        lines.append("")
        lines.append("errors:")
        lines.extend(f"  {e}" for e in errors)
    s = summary_
    lines.append("")
    lines.append(
        f"{s['records']} record{'s' * (s['records'] != 1)}, "
        f"{s['instances']} instance{'s' * (s['instances'] != 1)}: "
        + ", ".join(f"{n} {k}" for k, n in s["statuses"].items())
    )
    outcome_text = ", ".join(f"{name} {n}" for name, n in s["outcomes"].items()) or "none"
    lines.append(f"outcomes: {outcome_text}")
    rate = s["retention_rate"]
    kinds = s["outcome_kinds"]
    lines.append(
        "retention rate: "
        + (
            "n/a (no retained or churned outcome)"
            if rate is None
            else f"{format_number(Decimal(str(rate)))}% ({kinds['retained']} retained, "
            f"{kinds['churned']} churned)"
        )
    )
    offer_parts = []
    for status in ("granted", "capped", "refused", "denied", "withdrawn", "pending"):
        bucket = s["offers"].get(status)
        if bucket is None or (not bucket["count"] and status in ("withdrawn", "pending")):
            continue
        if status in ("granted", "capped"):
            total = ", ".join(bucket["amount"].values())
            shown = f" ({total})" if total else ""
        else:
            total = ", ".join(bucket["requested"].values())
            shown = f" ({total} requested)" if total else ""
        offer_parts.append(f"{bucket['count']} {status}{shown}")
    lines.append("offers: " + ", ".join(offer_parts))
    if s["slas"]:
        lines.append(
            "slas: "
            + "; ".join(
                f"{name} {c['met']} met, {c['breached']} breached" for name, c in s["slas"].items()
            )
        )
    return "\n".join(lines) + "\n"
