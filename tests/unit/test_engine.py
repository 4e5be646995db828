"""The rules of language.md "Running", each pinned down with a tiny workflow.

Instances and triggers, a step's life, events, timers, case_updated, measures, the
runaway guard, runtime errors, and the API's idempotency and time checks.
"""

from __future__ import annotations

import datetime as dt

import pytest
from test_engine_support import T0, at, flow, names, record, unchecked

import retainflow
from retainflow import Engine, EventRejected, UnknownCase
from retainflow.runtime.state import dumps, loads

HOT = """
case { client: text; hot: bool; score: number? }
trigger heat when case.hot
start a
step a {
  do ping(n: 1)
  on go -> done
  on stop -> lost
}
outcome done as retained
outcome lost as churned
"""


def hot_case(case_id: str = "C1", hot: bool = True, **more: object) -> dict[str, object]:
    return {"id": case_id, "client": "acme", "hot": hot, **more}


# ---- instances and triggers -------------------------------------------------------------


def test_data_trigger_fires_on_first_submission_that_holds() -> None:
    engine = Engine([flow(HOT)])
    result = engine.submit(hot_case(), at=at())
    assert [(s.case, s.instance, s.trigger) for s in result.started] == [("C1", 1, "heat")]
    assert [a.name for a in result.actions] == ["ping"]
    assert result.actions[0].args == {"n": 1}


def test_data_trigger_is_edge_triggered() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(), at=at())
    engine.handle("C1", {"type": "go"}, at=at(1))
    # still hot: no new instance
    r = engine.handle("C1", {"type": "case_updated", "score": 3}, at=at(2))
    assert r.started == []
    # goes cold then hot again: fires again
    engine.handle("C1", {"type": "case_updated", "hot": False}, at=at(3))
    r = engine.handle("C1", {"type": "case_updated", "hot": True}, at=at(4))
    assert [s.instance for s in r.started] == [2]
    assert [rec["instance"] for rec in engine.records("C1")] == [1, 2]


def test_not_triggered_record_and_no_instance_event() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(hot=False), at=at())
    r = engine.handle("C1", {"type": "go", "id": "e1"}, at=at(1))
    assert [(i.reason, i.id) for i in r.ignored] == [("no instance", "e1")]
    rec = record(engine, "C1")
    assert rec["status"] == "not_triggered"
    assert rec["instance"] is None and rec["path"] == []
    assert rec["clock"] == "2026-03-02T10:00:00Z"
    assert rec["ignored"] == [
        {"at": "2026-03-02T10:00:00Z", "type": "go", "id": "e1", "reason": "no instance"}
    ]


def test_no_instance_events_go_to_the_first_instance_that_starts_later() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(hot=False), at=at())
    engine.handle("C1", {"type": "go"}, at=at(1))
    engine.handle("C1", {"type": "case_updated", "hot": True}, at=at(2))
    rec = record(engine, "C1")
    assert rec["instance"] == 1
    assert [i["reason"] for i in rec["ignored"]] == ["no instance"]


def test_event_trigger_event_is_not_handled_by_the_new_instance() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger complaint on complaint_received
        start a
        step a { on complaint_received -> done; on other -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x"}, at=at())
    r = engine.handle("C1", {"type": "complaint_received"}, at=at(1))
    assert [s.trigger for s in r.started] == ["complaint"]
    assert engine.get("C1").step == "a"  # type: ignore[union-attr]
    # the next one is handled
    engine.handle("C1", {"type": "complaint_received"}, at=at(2))
    assert engine.get("C1").outcome == "done"  # type: ignore[union-attr]


def test_first_trigger_in_source_order_names_the_instance() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text; a: bool; b: bool }
        trigger second when case.b
        trigger first when case.a
        start s
        step s { on go -> done }
        outcome done
    """)
        ]
    )
    r = engine.submit({"id": "C1", "client": "x", "a": True, "b": True}, at=at())
    assert [s.trigger for s in r.started] == ["second"]


def test_one_active_instance_and_trigger_not_retried() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger complaint on complaint_received
        start s
        step s { on go -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x"}, at=at())
    engine.handle("C1", {"type": "complaint_received"}, at=at(1))
    r = engine.handle("C1", {"type": "complaint_received"}, at=at(2))
    assert r.started == []
    assert [i.reason for i in r.ignored] == ["no handler"]
    engine.handle("C1", {"type": "go"}, at=at(3))
    assert len(engine.records("C1")) == 1


def test_cooldown_counts_from_the_end_of_the_last_instance() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger complaint on complaint_received cooldown 2h
        start s
        step s { on go -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x"}, at=at())
    engine.handle("C1", {"type": "complaint_received"}, at=at(1))
    engine.handle("C1", {"type": "go"}, at=at(5))  # ended at 5h
    assert engine.handle("C1", {"type": "complaint_received"}, at=at(6)).started == []
    assert engine.handle("C1", {"type": "complaint_received"}, at=at(6, minutes=59)).started == []
    r = engine.handle("C1", {"type": "complaint_received"}, at=at(7))  # e + DUR exactly
    assert [s.instance for s in r.started] == [2]


def test_at_trigger_scheduled_rescheduled_and_past_fires_at_once() -> None:
    wf = flow("""
        case { client: text; renewal: time; ok: bool }
        trigger renew at case.renewal - 1d when case.ok
        start s
        step s { do hello(); on go -> done }
        outcome done
    """)
    engine = Engine([wf])
    renewal = at(days=10)
    engine.submit({"id": "C1", "client": "x", "renewal": renewal.isoformat(), "ok": True}, at=at())
    assert engine.next_wakeup() == at(days=9)
    # data changes: rescheduled to the new time
    moved = at(days=20).isoformat()
    engine.handle("C1", {"type": "case_updated", "renewal": moved}, at=at(1))
    assert engine.next_wakeup() == at(days=19)
    r = engine.advance(at(days=19))
    assert [s.trigger for s in r.started] == ["renew"]
    # a time already past when scheduled fires at once
    engine2 = Engine([wf])
    r = engine2.submit(
        {"id": "C2", "client": "x", "renewal": at(hours=1).isoformat(), "ok": True}, at=at(2)
    )
    assert [s.trigger for s in r.started] == ["renew"]


def test_at_trigger_checks_when_at_fire_time() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text; renewal: time; ok: bool }
        trigger renew at case.renewal when case.ok
        start s
        step s { on go -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x", "renewal": at(5).isoformat(), "ok": True}, at=at())
    engine.handle("C1", {"type": "case_updated", "ok": False}, at=at(1))
    assert engine.advance(at(6)).started == []
    assert record(engine, "C1")["status"] == "not_triggered"


def test_resubmission_replaces_data_and_counts_as_update() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(hot=False), at=at())
    r = engine.submit(hot_case(hot=True), at=at(1))
    assert [s.trigger for s in r.started] == ["heat"]
    with pytest.raises(EventRejected, match="field hot"):
        engine.submit({"id": "C1", "client": "acme"}, at=at(2))  # hot is required


# ---- a step's life ----------------------------------------------------------------------

LIFE = """
case { client: text; go: bool }
trigger t when case.go
start first
step first {
  wait 1h
  do hello(who: case.client)
  due 2h
  every 30m up to 2
  on reply -> done
  on timeout -> late
}
step late { do sorry(); -> done }
outcome done
"""


def test_wait_then_work_due_from_the_start_of_work_every_up_to_n() -> None:
    engine = Engine([flow(LIFE)])
    r = engine.submit({"id": "C1", "client": "x", "go": True}, at=at())
    assert r.actions == []  # sleeping
    r = engine.advance(at(4))
    got = [(a.name, a.at) for a in r.actions]
    assert got == [
        ("hello", at(1)),
        ("hello", at(1, minutes=30)),
        ("hello", at(2)),
        ("sorry", at(3)),  # due = s + 2h = 3h
    ]
    assert record(engine, "C1")["path"] == ["first", "late", "done"]


def test_event_while_sleeping_cancels_the_wait() -> None:
    engine = Engine([flow(LIFE)])
    engine.submit({"id": "C1", "client": "x", "go": True}, at=at())
    engine.handle("C1", {"type": "reply"}, at=at(minutes=30))
    assert engine.next_wakeup() is None
    assert names(engine, "C1") == []


def test_due_without_timeout_changes_nothing() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on start_it
        start s
        step s { due 1h; on go -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x"}, at=at())
    engine.handle("C1", {"type": "start_it"}, at=at())
    r = engine.advance(at(2))
    assert any("no on timeout" in str(t) for t in r.trace)
    assert engine.get("C1").step == "s"  # type: ignore[union-attr]


def test_immediate_transitions_after_actions_in_source_order() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text; n: number }
        trigger t when case.n > 0
        start s
        step s {
          do first()
          when case.n > 5 -> big
          when case.n > 1 -> mid
          do second()
          -> small
        }
        outcome big
        outcome mid
        outcome small
    """)
        ]
    )
    engine.submit({"id": "C1", "client": "x", "n": 3}, at=at())
    rec = record(engine, "C1")
    assert [a["name"] for a in rec["actions"]] == ["first", "second"]
    assert rec["outcome"] == "mid"


def test_step_handlers_before_global_handlers_in_source_order() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        on ping -> global_hit
        on other when event.n > 1 -> global_big
        start s
        step s {
          on ping when event.n > 5 -> own_big
          on other when event.n > 10 -> own_huge
        }
        outcome own_big
        outcome own_huge
        outcome global_hit
        outcome global_big
    """)
        ]
    )

    def run(event: dict[str, object]) -> str | None:
        e = Engine(engine.workflows)
        e.submit({"id": "C", "client": "x"}, at=at())
        e.handle("C", {"type": "open"}, at=at())
        e.handle("C", event, at=at(1))
        return e.get("C").outcome  # type: ignore[union-attr]

    assert run({"type": "ping", "n": 6}) == "own_big"
    assert run({"type": "ping", "n": 1}) == "global_hit"  # own guard fails: global
    assert run({"type": "other", "n": 11}) == "own_huge"
    assert run({"type": "other", "n": 2}) == "global_big"
    assert run({"type": "other", "n": 0}) is None


def test_reentering_a_step_starts_afresh() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        start s
        step s { do hi(); due 2h; on again -> s; on timeout -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    engine.handle("C", {"type": "again"}, at=at(1))
    engine.advance(at(2, minutes=30))  # the first due (2h) was cancelled
    assert engine.get("C").step == "s"  # type: ignore[union-attr]
    engine.advance(at(3))
    rec = record(engine, "C")
    assert rec["path"] == ["s", "s", "done"]
    assert rec["ended_at"] == "2026-03-02T12:00:00Z"
    assert [a["name"] for a in rec["actions"]] == ["hi", "hi"]


# ---- timers ---------------------------------------------------------------------------------


def test_timer_before_event_at_the_same_instant() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        sla answer 1h until done
        start s
        step s { on reply -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    r = engine.handle("C", {"type": "reply"}, at=at(1))  # exactly at the due
    assert [a.name for a in r.actions] == ["sla_breached"]
    sla = record(engine, "C")["slas"]["answer"]
    assert sla["status"] == "breached"
    assert sla["completed_at"] == "2026-03-02T10:00:00Z"


def test_timers_of_all_cases_fire_in_time_then_creation_order() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        start s
        step s { do hi(); due 1h; on timeout -> done }
        outcome done
    """)
        ]
    )
    for case in ("B", "A", "C"):
        engine.submit({"id": case, "client": "x"}, at=at())
    engine.handle("B", {"type": "open"}, at=at())
    engine.handle("A", {"type": "open"}, at=at())
    engine.handle("C", {"type": "open"}, at=at(minutes=-0) + dt.timedelta(seconds=0))
    r = engine.advance(at(2))
    assert [t.case for t in r.trace if "expired" in t.message] == ["B", "A", "C"]


def test_input_fires_every_due_timer_first() -> None:
    engine = Engine([flow(LIFE)])
    engine.submit({"id": "C1", "client": "x", "go": True}, at=at())
    engine.submit({"id": "C2", "client": "y", "go": False}, at=at())
    r = engine.handle("C2", {"type": "anything"}, at=at(1, minutes=10))
    assert [(a.case, a.name) for a in r.actions] == [("C1", "hello")]
    assert [i.reason for i in r.ignored] == ["no instance"]


# ---- events and case_updated ---------------------------------------------------------------

UPD = """
case { client: text; level: number?; ok: bool }
trigger t on open
start s
step s {
  wait 1h
  do hi()
  when case.level >= 3 -> high
  on case_updated when case.level == 1 -> low
}
outcome high
outcome low
"""


def open_upd() -> Engine:
    engine = Engine([flow(UPD)])
    engine.submit({"id": "C", "client": "x", "ok": True}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    return engine


def test_case_updated_while_sleeping_runs_only_handlers() -> None:
    engine = open_upd()
    r = engine.handle("C", {"type": "case_updated", "level": 5}, at=at(minutes=10))
    assert r.ignored == []  # never recorded as ignored
    assert engine.get("C").step == "s"  # type: ignore[union-attr]
    engine.advance(at(1))  # the work runs; the immediate sees level 5
    assert engine.get("C").outcome == "high"  # type: ignore[union-attr]


def test_case_updated_while_waiting_retries_immediates_then_handlers() -> None:
    engine = open_upd()
    engine.advance(at(1))  # waiting now (level none)
    engine.handle("C", {"type": "case_updated", "level": 2}, at=at(2))
    assert engine.get("C").step == "s"  # type: ignore[union-attr]
    engine.handle("C", {"type": "case_updated", "level": 4}, at=at(3))
    assert engine.get("C").outcome == "high"  # type: ignore[union-attr]

    other = open_upd()
    other.advance(at(1))
    other.handle("C", {"type": "case_updated", "level": 1}, at=at(2))
    assert other.get("C").outcome == "low"  # type: ignore[union-attr]


def test_case_updated_null_makes_optional_none_and_bad_fields_reject() -> None:
    engine = open_upd()
    engine.handle("C", {"type": "case_updated", "level": 2}, at=at(minutes=5))
    engine.handle("C", {"type": "case_updated", "level": None}, at=at(minutes=6))
    state = engine.case_state("C")
    assert state is not None and state.data["level"] is None
    before = dumps(state)
    for bad, field in (({"nope": 1}, "nope"), ({"ok": None}, "ok"), ({"level": "x"}, "level")):
        with pytest.raises(EventRejected, match=f"field {field}"):
            engine.handle("C", {"type": "case_updated", **bad}, at=at(minutes=7))
    assert dumps(state) == before


def test_declared_event_payload_is_validated() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        event rated { score: number }
        trigger t on open
        start s
        step s { on rated when event.score > 3 -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    with pytest.raises(EventRejected, match="field score"):
        engine.handle("C", {"type": "rated", "score": "lots"}, at=at(1))
    with pytest.raises(EventRejected, match="field extra"):
        engine.handle("C", {"type": "rated", "score": 4, "extra": 1}, at=at(1))
    engine.handle("C", {"type": "rated", "score": "4"}, at=at(1))
    assert engine.get("C").outcome == "done"  # type: ignore[union-attr]


def test_measures_record_accepted_events_and_leave_out_of_scale_values() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        event survey { score: number }
        measure csat from survey.score as csat
        trigger t on open
        start s
        step s { on survey when event.score == 5 -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "survey", "score": 2}, at=at())  # no instance yet
    engine.handle("C", {"type": "open"}, at=at())
    engine.handle("C", {"type": "survey", "score": 3, "id": "s1"}, at=at(1))  # no handler
    engine.handle("C", {"type": "survey", "score": 3, "id": "s1"}, at=at(2))  # duplicate
    r = engine.handle("C", {"type": "survey", "score": 9}, at=at(3))  # outside 1-5
    assert any("outside" in t.message for t in r.trace)
    engine.handle("C", {"type": "survey", "score": 5}, at=at(4))
    engine.handle("C", {"type": "survey", "score": 4}, at=at(5))  # after the end
    assert record(engine, "C")["measures"] == {"csat": [3, 5]}


# ---- idempotency and time ---------------------------------------------------------------------


def test_duplicate_event_id_is_ignored_before_any_other_check() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(), at=at())
    engine.handle("C1", {"type": "ping_me", "id": "e1"}, at=at(2))
    # re-sent with an old time: still a duplicate, not rejected
    r = engine.handle("C1", {"type": "go", "id": "e1"}, at=at(1))
    assert [(i.reason, i.at) for i in r.ignored] == [("duplicate", at(1))]
    assert engine.get("C1").step == "a"  # type: ignore[union-attr]
    ignored = record(engine, "C1")["ignored"]
    assert ignored[-1] == {
        "at": "2026-03-02T10:00:00Z",
        "type": "go",
        "id": "e1",
        "reason": "duplicate",
    }


def test_older_events_are_rejected_and_change_nothing() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(), at=at(2))
    state = engine.case_state("C1")
    assert state is not None
    before = dumps(state)
    with pytest.raises(EventRejected, match="older than"):
        engine.handle("C1", {"type": "go", "id": "late"}, at=at(1))
    assert dumps(state) == before
    engine.handle("C1", {"type": "go", "id": "late"}, at=at(2))  # not remembered: applies now
    assert engine.get("C1").outcome == "done"  # type: ignore[union-attr]


def test_store_clock_rejects_older_inputs_and_advance_is_idempotent() -> None:
    engine = Engine([flow(LIFE)])
    engine.submit({"id": "C1", "client": "x", "go": True}, at=at())
    first = engine.advance(at(1))
    assert [a.name for a in first.actions] == ["hello"]
    assert engine.advance(at(1)).actions == []
    assert engine.advance(at(minutes=30)).actions == []
    with pytest.raises(EventRejected, match="store's clock"):
        engine.submit({"id": "C2", "client": "y", "go": True}, at=at(minutes=59))


def test_only_advance_moves_the_store_clock_and_each_case_keeps_its_own_order() -> None:
    """tools.md: an input older than its case's last applied time or the latest advance is
    rejected; a case's input older than another case's is not (language.md, "Events")."""
    engine = Engine([flow(LIFE)])
    engine.submit({"id": "A", "client": "x", "go": True}, at=at())
    engine.submit({"id": "B", "client": "y", "go": True}, at=at(minutes=10))
    later = engine.submit({"id": "Z", "client": "z", "go": False}, at=at(5))
    # Z's input fired every timer due by then, B's too: B's `hello` (1h) and its
    # timeout (+2h), so B's last applied time is 03:10 after the start
    assert [(a.case, a.name) for a in later.actions][:2] == [("A", "hello"), ("B", "hello")]
    with pytest.raises(EventRejected, match="older than the case's last applied time"):
        engine.handle("B", {"type": "reply"}, at=at(3))
    # a case submitted now, at an earlier time than Z's input: its own timeline starts
    early = engine.submit({"id": "C", "client": "w", "go": True}, at=at(1))
    assert early.started and not early.actions  # its `wait 1h` is due at 2h, not yet fired
    fired = engine.advance(at(6))  # C's timers fire in their own time order
    assert [a.name for a in fired.actions] == ["hello", "hello", "hello", "sorry"]
    assert [a.at for a in fired.actions] == [at(2), at(2.5), at(3), at(4)]
    assert {a.case for a in fired.actions} == {"C"}
    assert engine.get("C").outcome == "done"  # type: ignore[union-attr]
    with pytest.raises(EventRejected, match="store's clock"):  # the latest advance
        engine.submit({"id": "D", "client": "v", "go": True}, at=at(5))


def test_same_submission_twice_is_ignored() -> None:
    engine = Engine([flow(HOT)])
    engine.submit(hot_case(), at=at())
    engine.handle("C1", {"type": "go"}, at=at(1))
    r = engine.submit(hot_case(), at=at())  # re-sent, even though older than the case
    assert r.started == [] and r.actions == []
    assert len(engine.records("C1")) == 1
    # ignored before its data is looked at: a host re-sending is not told about the data
    garbled = {**hot_case(), "score": "not a number"}
    assert engine.submit(garbled, at=at()).actions == []
    with pytest.raises(EventRejected, match="case C1: field score"):
        engine.submit(garbled, at=at(2))  # not a re-send: checked


def test_naive_times_unknown_cases_and_bad_data() -> None:
    engine = Engine([flow(HOT)])
    with pytest.raises(ValueError, match="naive"):
        engine.submit(hot_case(), at=dt.datetime(2026, 3, 2, 9))
    with pytest.raises(UnknownCase):
        engine.handle("nobody", {"type": "go"}, at=at())
    with pytest.raises(EventRejected, match="case C1: field hot"):
        engine.submit({"id": "C1", "client": "x", "hot": "maybe"}, at=at())
    with pytest.raises(EventRejected, match="field colour"):
        engine.submit({"id": "C1", "client": "x", "hot": True, "colour": "red"}, at=at())
    assert engine.case_state("C1") is None


# ---- runaway and runtime errors ---------------------------------------------------------------


def test_runaway_stops_the_case_with_the_fixed_message() -> None:
    wf = unchecked("""
        case { client: text }
        trigger t on open
        start a
        step a { do tick(); -> b }
        step b { -> a }
        outcome done
    """)
    engine = Engine([wf])
    engine.submit({"id": "C", "client": "x"}, at=at())
    r = engine.handle("C", {"type": "open"}, at=at())
    # entering `a` at the start is no transition; the 1,000th one leads back to `a`
    assert r.errors == ["case C: step a: runaway (more than 1,000 transitions)"]
    rec = record(engine, "C")
    assert rec["status"] == "error" and rec["ended_at"] is None
    assert rec["error"] == "case C: step a: runaway (more than 1,000 transitions)"
    assert len(rec["path"]) == 1001
    assert rec["actions"][0]["name"] == "tick"


@pytest.mark.parametrize("started_by_the_input", [True, False])
def test_exactly_1000_transitions_in_one_input_are_allowed(started_by_the_input: bool) -> None:
    chain = "\n".join(f"step s{i} {{ -> s{i + 1} }}" for i in range(1000))
    body = f"""
        case {{ client: text }}
        trigger t on start_it
        start {"s0" if started_by_the_input else "w"}
        step w {{ on go -> s0 }}
        {chain}
        step s1000 {{ on stop -> done }}
        outcome done
    """
    engine = Engine([unchecked(body)])
    engine.submit({"id": "C", "client": "x"}, at=at())
    r = engine.handle("C", {"type": "start_it"}, at=at())
    if not started_by_the_input:
        r = engine.handle("C", {"type": "go"}, at=at(1))  # w -> s0 ... -> s1000: 1,001
        assert r.errors == ["case C: step s999: runaway (more than 1,000 transitions)"]
        return
    assert r.errors == []  # s0 (the start) ... -> s1000: 1,000 transitions
    assert record(engine, "C")["path"][-1] == "s1000"


def test_non_bool_condition_stops_only_that_case() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        sla s 1d until done
        start a
        step a { do hi(); on ping when event.flag -> done }
        outcome done
    """)
        ]
    )
    for case in ("X", "Y"):
        engine.submit({"id": case, "client": "x"}, at=at())
        engine.handle(case, {"type": "open"}, at=at())
    r = engine.handle("X", {"type": "ping", "flag": 5}, at=at(1))
    assert len(r.errors) == 1
    assert r.errors[0].startswith("case X: step a: ")
    assert "event.flag" in r.errors[0]
    rec = record(engine, "X")
    assert rec["status"] == "error" and rec["clock"] == "2026-03-02T10:00:00Z"
    assert [a["name"] for a in rec["actions"]] == ["hi"]  # keeps what ran
    assert rec["slas"]["s"]["status"] == "cancelled"
    engine.handle("Y", {"type": "ping", "flag": True}, at=at(2))
    assert record(engine, "Y")["status"] == "ended"


# ---- operators ---------------------------------------------------------------------------------


def test_move_and_cancel() -> None:
    engine = Engine(
        [
            flow("""
        case { client: text }
        trigger t on open
        sla s 1d until done
        start a
        step a { on go -> b }
        step b { do b_work(); on go -> done }
        outcome done
    """)
        ]
    )
    engine.submit({"id": "C", "client": "x"}, at=at())
    engine.handle("C", {"type": "open"}, at=at())
    r = engine.move("C", "b", reason="VIP", at=at(1))
    assert [a.name for a in r.actions] == ["b_work"]
    with pytest.raises(ValueError, match="no step"):
        engine.move("C", "nowhere", at=at(1))
    engine.cancel("C", reason="duplicate case", at=at(2))
    rec = record(engine, "C")
    assert rec["status"] == "cancelled" and rec["ended_at"] == "2026-03-02T11:00:00Z"
    assert rec["slas"]["s"]["status"] == "cancelled"
    kinds = [h["kind"] for h in engine.history("C")]
    assert "move" in kinds and "cancel" in kinds
    with pytest.raises(ValueError, match="no active instance"):
        engine.move("C", "b", at=at(3))


# ---- state and versions ------------------------------------------------------------------------


def test_case_state_round_trips_through_json() -> None:
    engine = Engine([flow(LIFE)])
    engine.submit({"id": "C1", "client": "x", "go": True}, at=at())
    engine.advance(at(1, minutes=45))
    state = engine.case_state("C1")
    assert state is not None
    assert loads(dumps(state)) == state


def test_an_instance_finishes_on_the_version_it_started_with() -> None:
    v1 = flow(
        """
        case { client: text }
        trigger t on open
        start a
        step a { on go -> old_end }
        outcome old_end
    """,
        version=1,
    )
    v2 = flow(
        """
        case { client: text }
        trigger t on open
        start a
        step a { on go -> new_end }
        outcome new_end
    """,
        version=2,
    )
    store = retainflow.MemoryStore()
    Engine([v1], store=store).submit({"id": "C", "client": "x"}, at=at())
    Engine([v1], store=store).handle("C", {"type": "open"}, at=at())
    engine = Engine([v2], store=store)
    engine.handle("C", {"type": "go"}, at=at(1))
    rec = record(engine, "C")
    assert (rec["version"], rec["outcome"]) == (1, "old_end")
    engine.handle("C", {"type": "open"}, at=at(2))
    engine.handle("C", {"type": "go"}, at=at(3))
    assert [(r["version"], r["outcome"]) for r in engine.records("C")] == [
        (1, "old_end"),
        (2, "new_end"),
    ]


def test_result_actions_carry_case_workflow_and_step() -> None:
    engine = Engine([flow(HOT, name="hotflow")])
    r = engine.submit(hot_case(), at=T0)
    action = r.actions[0]
    assert (action.at, action.case, action.workflow, action.step, action.name) == (
        T0,
        "C1",
        "hotflow",
        "a",
        "ping",
    )
