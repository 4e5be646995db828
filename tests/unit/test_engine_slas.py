"""SLAs and business calendars in the engine: start, met, warn, pause, breach, DST."""

from __future__ import annotations

import datetime as dt

from test_engine_support import at, flow, record

from retainflow import Engine

UTC = dt.UTC
CAL = """
calendar office {
  timezone "UTC"
  hours mon-fri 09:00-18:00
}
"""


def test_warning_counts_back_in_the_calendar_and_breach_fires_from_the_current_step() -> None:
    engine = Engine(
        [
            flow(
                CAL
                + """
        case { client: text }
        trigger t on open
        sla reply 4h in office until answered warn 1h before
        start listen
        step listen { on call -> answered }
        step answered { on done -> closed }
        outcome closed
    """
            )
        ]
    )
    monday_1430 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    engine.submit({"id": "C", "client": "x"}, at=monday_1430)
    engine.handle("C", {"type": "open"}, at=monday_1430)
    r = engine.advance(dt.datetime(2026, 3, 4, tzinfo=UTC))
    got = [(a.name, a.at, a.step, a.args["due"]) for a in r.actions]
    due = dt.datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    assert got == [
        ("sla_warning", dt.datetime(2026, 3, 2, 17, 30, tzinfo=UTC), "listen", due),
        ("sla_breached", due, "listen", due),
    ]
    rec = record(engine, "C")
    assert rec["slas"]["reply"] == {
        "status": "breached",
        "started_at": "2026-03-02T14:30:00Z",
        "due": "2026-03-03T09:30:00Z",
        "completed_at": None,
    }
    engine.handle("C", {"type": "call"}, at=dt.datetime(2026, 3, 4, tzinfo=UTC))
    assert record(engine, "C")["slas"]["reply"]["completed_at"] == "2026-03-04T00:00:00Z"


def test_meeting_the_sla_cancels_its_warning() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        sla reply 4h until answered warn 1h before
        start listen
        step listen { on call -> answered }
        step answered { on done -> closed }
        outcome closed
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    engine.handle("C", {"type": "call"}, at=at(1))
    r = engine.advance(at(10))
    assert r.actions == []
    assert record(engine, "C")["slas"]["reply"]["status"] == "met"


def test_sla_from_a_step_until_any_outcome_and_cancelled_at_the_end() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        sla later 1d from second until outcome
        sla never 1d from third until closed
        start first
        step first { on go -> second }
        step second { on go -> closed }
        step third { on go -> closed }
        outcome closed
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    assert record(engine, "C")["slas"]["later"]["status"] == "not_started"
    engine.handle("C", {"type": "go"}, at=at(1))
    assert record(engine, "C")["slas"]["later"]["started_at"] == "2026-03-02T10:00:00Z"
    engine.handle("C", {"type": "go"}, at=at(2))
    slas = record(engine, "C")["slas"]
    assert slas["later"]["status"] == "met"
    assert slas["never"] == {
        "status": "cancelled",
        "started_at": None,
        "due": None,
        "completed_at": None,
    }


def test_pause_moves_the_due_by_the_paused_open_time() -> None:
    engine = Engine(
        [
            flow(
                CAL
                + """
        case { client: text }
        trigger t on open
        sla fix 10h in office until fixed warn 2h before pause in waiting
        start work
        step work { on wait_client -> waiting; on done -> fixed }
        step waiting { on back -> work }
        step fixed { on bye -> closed }
        outcome closed
    """
            )
        ]
    )
    mon9 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    engine.submit({"id": "C", "client": "x"}, at=mon9)
    engine.handle("C", {"type": "open"}, at=mon9)
    # due Tue 10:00; pause Mon 12:00 .. Tue 12:00 = 6h + 3h = 9h of open time
    engine.handle("C", {"type": "wait_client"}, at=mon9 + dt.timedelta(hours=3))
    paused = record(engine, "C")["slas"]["fix"]
    assert paused == {
        "status": "pending",
        "started_at": "2026-03-02T09:00:00Z",
        "due": "2026-03-03T10:00:00Z",
        "completed_at": None,
        "paused": True,
    }
    assert engine.advance(dt.datetime(2026, 3, 3, 11, tzinfo=UTC)).actions == []
    engine.handle("C", {"type": "back"}, at=dt.datetime(2026, 3, 3, 12, tzinfo=UTC))
    # moved due: Tue 10:00 + 9h open = Tue 18:00 (8h) + Wed 1h = Wed 10:00; warn 2h before
    # counted back in the calendar: Tue 17:00
    sla = record(engine, "C")["slas"]["fix"]
    assert "paused" not in sla and sla["due"] == "2026-03-04T10:00:00Z"
    r = engine.advance(dt.datetime(2026, 3, 4, 12, tzinfo=UTC))
    assert [(a.name, a.at) for a in r.actions] == [
        ("sla_warning", dt.datetime(2026, 3, 3, 17, tzinfo=UTC)),
        ("sla_breached", dt.datetime(2026, 3, 4, 10, tzinfo=UTC)),
    ]


def test_breach_moves_to_its_step_unless_already_there() -> None:
    wf = flow("""
        case { client: text }
        trigger t on open
        sla fast 1h until done breach -> escalate
        start a
        step a { on go -> escalate; on fin -> done }
        step escalate { do notify(); on fin -> done }
        outcome done
    """)
    moving = Engine([wf])
    moving.submit({"id": "C", "client": "x"}, at=at())
    moving.handle("C", {"type": "open"}, at=at())
    r = moving.advance(at(2))
    assert [(a.name, a.step) for a in r.actions] == [("sla_breached", "a"), ("notify", "escalate")]
    staying = Engine([wf])
    staying.submit({"id": "C", "client": "x"}, at=at())
    staying.handle("C", {"type": "open"}, at=at())
    staying.handle("C", {"type": "go"}, at=at(minutes=30))
    r = staying.advance(at(2))
    assert [a.name for a in r.actions] == ["sla_breached"]
    assert record(staying, "C")["path"] == ["a", "escalate"]


def test_dst_calendar_hours_days_and_exact_durations_in_new_york() -> None:
    engine = Engine(
        [
            flow("""
        calendar ny {
          timezone "America/New_York"
          hours mon-fri 09:00-17:00
        }
        calendar always {
          timezone "America/New_York"
          hours mon-sun 00:00-24:00
        }
        case { client: text }
        trigger t on open
        sla hours 4h in ny until done
        sla days 1d in ny until done
        sla exact 3d until done
        sla open24 24h in always until done
        sla open48 48h in always until done
        start a
        step a { on fin -> done }
        outcome done
    """)
        ]
    )
    friday_3pm_est = dt.datetime(2026, 3, 6, 20, tzinfo=UTC)  # 15:00 EST
    engine.submit({"id": "C", "client": "x"}, at=friday_3pm_est)
    engine.handle("C", {"type": "open"}, at=friday_3pm_est)
    slas = record(engine, "C")["slas"]
    # 2h on Friday, then Monday 09:00 EDT + 2h = 11:00 EDT = 15:00Z
    assert slas["hours"]["due"] == "2026-03-09T15:00:00Z"
    # the same local time on the next open day: Monday 15:00 EDT = 19:00Z
    assert slas["days"]["due"] == "2026-03-09T19:00:00Z"
    # without a calendar a day is 24 hours, whatever the DST
    assert slas["exact"]["due"] == "2026-03-09T20:00:00Z"
    # open time is elapsed time: 48h across the DST night ends Sunday 16:00 EDT, not 15:00
    assert slas["open24"]["due"] == "2026-03-07T20:00:00Z"
    assert slas["open48"]["due"] == "2026-03-08T20:00:00Z"
