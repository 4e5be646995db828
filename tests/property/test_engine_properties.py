"""Properties of the engine on reactive_retention, for random cases and event streams.

- it never leaves the graph: every path element is a node, the first is `start`, and
  consecutive elements are joined by an edge;
- it never grants more than a limit allows (per case, per client over the window, grant
  counts);
- replaying the same inputs gives byte-for-byte the same results.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retainflow
from retainflow.caseio import check_case
from retainflow.results import dumps_line
from retainflow.runtime.batch import run_entries
from retainflow.values import Money
from tests.support import SHARED

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_PATHS = [
    SHARED / "conformance" / "run" / "reactive_retention" / "reactive_retention.rflow",
    ROOT / "workflows" / "reactive_retention.rflow",
]
WORKFLOW_PATH = next((p for p in WORKFLOW_PATHS if p.is_file()), None)
pytestmark = pytest.mark.skipif(WORKFLOW_PATH is None, reason="no reactive_retention.rflow")

BASE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
EVENTS = [
    "call_logged",
    "resolved",
    "approval",
    "survey_answered",
    "client_unavailable",
    "client_replied",
    "director_decision",
    "cancellation_confirmed",
    "complaint_received",
    "case_updated",
    "noise",
]


def payload(kind: str, draw: st.DrawFn) -> dict[str, Any]:
    if kind == "resolved":
        return {"accepted": draw(st.booleans())}
    if kind == "approval":
        return {"approved": draw(st.booleans())}
    if kind == "survey_answered":
        return {"score": draw(st.integers(0, 6))}
    if kind == "director_decision":
        return {"keep": draw(st.booleans())}
    if kind == "case_updated":
        return draw(
            st.sampled_from(
                [{"csat": 1}, {"csat": None}, {"intent_to_leave": True}, {"intent_to_leave": False}]
            )
        )
    return {}


@st.composite
def case_file(draw: st.DrawFn) -> list[dict[str, Any]]:
    cases = []
    # a case id keeps its arr across re-submissions, so the per-client cap is known
    arrs = [draw(st.integers(1000, 150000)) for _ in range(4)]
    for number in range(draw(st.integers(1, 5))):
        start = BASE + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 20)))
        events = []
        moment = start
        for _ in range(draw(st.integers(0, 10))):
            moment += dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 3)))
            kind = draw(st.sampled_from(EVENTS))
            event: dict[str, Any] = {"type": kind, "at": moment.isoformat(), **payload(kind, draw)}
            if draw(st.booleans()):
                event["id"] = f"e{draw(st.integers(0, 4))}"
            events.append(event)
        csat = draw(st.one_of(st.none(), st.integers(1, 5)))
        case: dict[str, Any] = {
            "id": f"K{number % 4}",
            "at": start.isoformat(),
            "client": draw(st.sampled_from(["acme", "wayne", "stark"])),
            "tier": draw(st.sampled_from(["bronze", "silver", "gold", "platinum"])),
            "arr": f"{arrs[number % 4]} USD",
            "intent_to_leave": draw(st.booleans()),
            "events": events,
        }
        if csat is not None:
            case["csat"] = csat
        cases.append(case)
    return cases


def run(cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    assert WORKFLOW_PATH is not None
    workflow = retainflow.load(WORKFLOW_PATH)
    entries = [check_case(i, case, [workflow]) for i, case in enumerate(cases)]
    output = run_entries(workflow, entries)
    return output.records, "".join(dumps_line(r) + "\n" for r in output.records)


def money(text: str) -> Money:
    return Money.parse(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_file())
def test_engine_stays_in_the_graph_keeps_limits_and_replays(cases: list[dict[str, Any]]) -> None:
    assert WORKFLOW_PATH is not None
    workflow = retainflow.load(WORKFLOW_PATH)
    graph = workflow.graph
    records, text = run(cases)
    _, again = run(cases)
    assert text == again  # byte-for-byte

    arr_of: dict[str, Money] = {}
    for case in cases:  # the last submission of a case id gives its data
        arr_of[case["id"]] = money(case["arr"])
    grants: list[tuple[dt.datetime, str, str, Money]] = []  # at, client, case, amount
    for record in records:
        path = record["path"]
        if path:
            assert path[0] == workflow.start
        for node in path:
            assert node in graph.nodes
        for here, there in itertools.pairwise(path):
            assert graph.has_edge(here, there), (here, there, record["case"])
        per_case = Decimal(0)
        for offer in record["offers"]:
            if offer["status"] in ("granted", "capped"):
                amount = money(offer["amount"])
                assert amount.amount > 0
                assert amount.amount <= money(offer["requested"]).amount
                per_case += amount.amount
                decided = dt.datetime.fromisoformat(offer["decided_at"].replace("Z", "+00:00"))
                grants.append((decided, record["client"], record["case"], amount))
        assert per_case <= 5000
    for at, client, case, _ in grants:
        window = [g for g in grants if g[1] == client and at - dt.timedelta(days=365) < g[0] <= at]
        total = sum((g[3].amount for g in window), Decimal(0))
        assert total <= arr_of[case].amount * Decimal("0.15")
        recent = [g for g in grants if g[1] == client and at - dt.timedelta(days=90) < g[0] <= at]
        assert len(recent) <= 2
