"""Report metrics on hand-made records: statuses, SLAs, offers, measures, rounding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from retainflow.report import build_report, parse_record, report_json, workflow_info_text
from retainflow.report.rounding import median, p90, percent

WORKFLOW = """\
workflow w version 2
title "Hand-made"
calendar office {
  timezone "UTC"
  hours mon-fri 09:00-17:00
}
event survey { score: number }
event nps_answer { score: number }
event timing { hours: number }
sla reply 4h in office until b
sla close 2d until outcome
measure sat from survey.score as csat
measure loyalty from nps_answer.score as nps
measure effort from timing.hours
start a
step a { on survey -> b }
step b { on survey -> kept }
outcome kept as retained
outcome lost as churned
outcome moved
"""
INFO = workflow_info_text(WORKFLOW, "w.rflow")


def record(case: str, status: str = "ended", **fields: Any) -> Any:
    base: dict[str, Any] = {
        "case": case,
        "client": fields.pop("client", "acme"),
        "workflow": "w",
        "version": 2,
        "status": status,
        "trigger": "t",
        "outcome": None,
        "outcome_kind": None,
        "started_at": "2026-03-06T15:00:00Z",  # a Friday, 2h before closing
    }
    base.update(fields)
    return parse_record(base, "<test>", 1)


def sla(status: str, completed: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "started_at": "2026-03-06T15:00:00Z",
        "due": None,
        "completed_at": completed,
        **extra,
    }


def offer(
    status: str, kind: str, requested: str | None, amount: str, reason: str | None = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "status": status,
        "requested": requested,
        "amount": amount,
        "reason": reason,
    }


RECORDS = [
    record(
        "A",
        outcome="kept",
        outcome_kind="retained",
        slas={
            "reply": sla("met", "2026-03-09T10:00:00Z"),
            "close": sla("met", "2026-03-07T15:00:00Z"),
        },
        offers=[
            offer("granted", "credit", "100.00 USD", "100.00 USD"),
            offer("capped", "discount", "300.00 EUR", "120.50 EUR"),
        ],
        measures={"sat": [5, 2], "loyalty": [10, 9, 7], "effort": [1.5, 2]},
    ),
    record(
        "B",
        outcome="lost",
        slas={"reply": sla("breached"), "close": sla("cancelled")},
        offers=[offer("refused", "credit", None, "0.00 USD", "missing_amount")],
        measures={"sat": [3], "loyalty": [0, 6], "effort": [4]},
    ),
    record("C", outcome="moved", outcome_kind="other", client="b"),
    record(
        "D",
        "waiting",
        slas={"reply": sla("pending", paused=True)},
        offers=[offer("pending", "credit", "50.00 USD", "0.00 USD")],
    ),
    record("E", "cancelled", started_at="2026-04-01T00:00:00Z"),
    record("F", "error", started_at="2026-04-02T00:00:00Z", error="case F: step a: boom"),
    record("G", "error", started_at=None, client=None),
    record("H", "not_triggered", started_at=None, clock="2026-03-10T00:00:00Z"),
]


def test_instances_count_started_records() -> None:
    [group] = build_report(RECORDS, [INFO]).groups
    inst = group.instances
    # Started: a start time. F errored while running (started); G was rejected.
    assert (inst.records, inst.started) == (8, 6)
    assert (inst.ended, inst.waiting, inst.cancelled, inst.error, inst.not_triggered) == (
        3,
        1,
        1,
        2,
        1,
    )
    assert group.title == "Hand-made"


def test_outcomes_kinds_come_from_the_workflow_when_records_lack_them() -> None:
    [group] = build_report(RECORDS, [INFO]).groups
    assert dict(group.outcomes_by_name) == {"kept": 1, "lost": 1, "moved": 1}
    assert dict(group.outcomes_by_kind) == {"retained": 1, "churned": 1, "other": 1}
    assert str(group.retention_rate) == "50.0"
    assert str(group.churn_share) == "33.3"  # 1 of 3 ended


def test_slas_counts_and_open_time() -> None:
    [group] = build_report(RECORDS, [INFO]).groups
    reply, close = group.slas["reply"], group.slas["close"]
    assert (reply.met, reply.breached, reply.pending, reply.paused) == (1, 1, 1, 1)
    assert str(reply.attainment) == "50.0"
    # Fri 15:00 -> Mon 10:00: 67h elapsed, 3h in office hours (Fri 15-17, Mon 9-10).
    assert [td.total_seconds() for td in reply.elapsed] == [67 * 3600]
    assert reply.open is not None and [td.total_seconds() for td in reply.open] == [3 * 3600]
    assert reply.calendars == ("office",)
    # `close` has no calendar: no open time.
    assert close.open is None and close.calendars == ()
    doc = report_json(build_report(RECORDS, [INFO]))["groups"][0]["slas"]
    assert doc["close"]["time_to_target"]["open_seconds"] is None
    assert doc["reply"]["paused"] == 1


def test_compensation_by_currency() -> None:
    [group] = build_report(RECORDS, [INFO]).groups
    comp = group.compensation
    assert comp.offers == 4
    assert dict(comp.by_status) == {
        "granted": 1,
        "capped": 1,
        "refused": 1,
        "denied": 0,
        "pending": 1,
        "withdrawn": 0,
    }
    assert comp.refused_by_reason["missing_amount"] == 1
    doc = report_json(build_report(RECORDS, [INFO]))["groups"][0]["compensation"]
    assert doc["granted"] == {"credit": {"USD": "100.00 USD"}, "discount": {"EUR": "120.50 EUR"}}
    assert doc["granted_total"] == {"EUR": "120.50 EUR", "USD": "100.00 USD"}
    assert doc["granted_per_retained"] == {"EUR": "120.50 EUR", "USD": "100.00 USD"}
    assert doc["capped"] == {
        "EUR": {
            "offers": 1,
            "requested": "300.00 EUR",
            "granted": "120.50 EUR",
            "difference": "179.50 EUR",
        }
    }


def test_per_retained_without_retained_instances_is_null() -> None:
    report = build_report([RECORDS[0]], [INFO], by="client")
    assert report_json(report)["groups"][0]["compensation"]["granted_per_retained"] == {
        "EUR": "120.50 EUR",
        "USD": "100.00 USD",
    }
    lost = record("X", outcome="lost", offers=[offer("granted", "credit", "5 USD", "5.00 USD")])
    doc = report_json(build_report([lost], [INFO]))["groups"][0]["compensation"]
    assert doc["granted_per_retained"] == {"USD": None}


def test_measures_of_each_kind() -> None:
    doc = report_json(build_report(RECORDS, [INFO]))["groups"][0]["measures"]
    # csat: 5, 2, 3 -> 1 of 3 satisfied.
    assert doc["sat"]["value"] == 33.3 and doc["sat"]["responses"] == 3
    # nps: 10, 9 promoters; 7 passive; 0, 6 detractors: 40% - 40% = 0.
    assert doc["loyalty"] == {
        "kind": "nps",
        "value": 0.0,
        "responses": 5,
        "promoters": 2,
        "passives": 1,
        "detractors": 2,
        "distribution": {str(n): (1 if n in (0, 6, 7, 9, 10) else 0) for n in range(11)},
    }
    # number: 1.5, 2, 4 -> mean 2.5, median 2.
    assert doc["effort"] == {
        "kind": "number",
        "value": 2.5,
        "responses": 3,
        "mean": 2.5,
        "median": 2,
    }


def test_each_response_is_scored_by_its_own_version_and_out_of_scale_ones_left_out() -> None:
    older = workflow_info_text(
        WORKFLOW.replace("version 2", "version 1").replace(
            "survey.score as csat", "survey.score as nps"
        ),
        "w1.rflow",
    )
    records = [
        record("OLD", version=1, measures={"sat": [10, 0, 5]}),  # nps in version 1
        record("NEW", measures={"sat": [5, 5, 4, 6, 0]}),  # csat: 6 and 0 are off the scale
    ]
    doc = report_json(build_report(records, [INFO, older]))["total"]["measures"]
    assert doc["sat (csat)"]["value"] == 100.0 and doc["sat (csat)"]["responses"] == 3
    assert doc["sat (nps)"]["value"] == -33.3 and doc["sat (nps)"]["responses"] == 3
    assert "sat" not in doc
    by_version = report_json(build_report(records, [INFO, older], by="version"))["groups"]
    assert [g["measures"]["sat"]["kind"] for g in by_version] == ["nps", "csat"]


def test_groups_by_client_and_time_keys() -> None:
    report = build_report(RECORDS, [INFO], by="client")
    assert [g.key for g in report.groups] == ["acme", "b", None]
    report = build_report(RECORDS, [INFO], by="month")
    assert [(g.key, g.instances.records) for g in report.groups] == [
        ("2026-03", 5),  # A, B, C, D and H (its last input)
        ("2026-04", 2),
        (None, 1),
    ]


def test_version_fallback_to_the_highest_given() -> None:
    older = record("V", outcome="kept", version=1)
    report = build_report([older], [INFO], by="version")
    assert [g.key for g in report.groups] == ["w@1"]
    assert report.groups[0].title == "Hand-made"  # w version 2 stands in for version 1


def test_rounding_half_even_and_percentiles() -> None:
    assert str(percent(1, 16)) == "6.2"  # 6.25
    assert str(percent(3, 16)) == "18.8"  # 18.75
    assert str(percent(2, 3)) == "66.7"
    assert percent(1, 0) is None
    values = [Decimal(v) for v in (5, 1, 4, 2, 3)]
    assert median(values) == 3
    assert p90(values) == 5  # nearest rank: ceil(0.9 x 5) = 5th
    assert p90([Decimal(v) for v in range(1, 21)]) == 18
    assert median([]) is None and p90([]) is None


def test_empty_report() -> None:
    report = build_report([], [INFO])
    doc = report_json(report)
    assert doc["groups"] == [] and doc["records"] == 0
    assert doc["total"]["retention_rate"] is None
