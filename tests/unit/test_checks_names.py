"""Names and references: RF101, RF102, RF103, RF105 and RF106 fire at the name, with
a helpful message, and stay silent on correct workflows."""

from __future__ import annotations

import pytest

from tests.unit.test_checks_support import (
    assert_clean,
    at,
    codes,
    flow,
    inside,
    lint,
    one,
    only,
    step,
    where,
)

# ---- RF101 undefined-target ----------------------------------------------------------

TYPO = flow(
    """start listen
step listen {
  due 4h
  on timeout -> esclate
}
step escalate {
  -> done
}
"""
)


def test_rf101_names_the_missing_step_and_suggests_a_similar_one() -> None:
    diag = one(TYPO, "RF101")
    assert where(diag) == at(TYPO, "esclate")
    assert diag.message == "step 'esclate' is not defined"
    assert diag.label == "there is a step with a similar name: 'escalate'"
    assert diag.suggestion == "escalate"


def test_rf101_suggests_an_outcome_too() -> None:
    text = step("when case.vip -> don")
    diag = one(text, "RF101")
    assert where(diag) == inside(text, "-> don\n", "don")
    assert diag.message == "outcome 'don' is not defined"
    assert diag.suggestion == "done"


def test_rf101_without_a_similar_name_says_how_to_define_it() -> None:
    text = step("on call_logged -> zzz")
    diag = one(text, "RF101")
    assert diag.suggestion is None
    assert "step zzz" in (diag.label or "") and "outcome zzz" in (diag.label or "")


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("start nowhere\nstep s { -> done }\n", "nowhere"),
        ("start s\non cancel -> gone\nstep s { -> done }\n", "gone"),
        ("start s\nsla x 4h until finish\nstep s { -> done }\n", "finish"),
        ("start s\nsla x 4h from begin until done\nstep s { -> done }\n", "begin"),
        ("start s\nsla x 4h until done pause in holdd\nstep s { -> done }\n", "holdd"),
        ("start s\nsla x 4h until done breach -> escalte\nstep s { -> done }\n", "escalte"),
    ],
)
def test_rf101_covers_start_handlers_and_sla_clauses(body: str, name: str) -> None:
    text = flow(body)
    diag = one(text, "RF101")
    assert where(diag) == at(text, name)


@pytest.mark.parametrize(
    "clause", ["from done until s", "until s pause in done", "until s breach -> done"]
)
def test_rf101_an_sla_clause_naming_an_outcome(clause: str) -> None:
    text = flow(f"start s\nsla x 4h {clause}\nstep s {{ -> done }}\n")
    diag = one(text, "RF101")
    assert where(diag) == at(text, "done", 1)
    assert "'done' is an outcome" in diag.message


def test_rf101_silent_on_valid_targets() -> None:
    assert_clean(
        flow(
            """start s
sla a 4h until outcome
sla b 4h from s until done pause in t breach -> t
on cancel -> done
step s { -> t }
step t { -> done }
"""
        )
    )


# ---- RF102 duplicate-definition ------------------------------------------------------


def test_rf102_a_second_step_points_back_at_the_first() -> None:
    text = flow("start s\nstep s { -> done }\nstep s { -> done }\n")
    diag = one(text, "RF102")
    assert where(diag) == (*inside(text, "step s {", "s {", 2)[:2], 7)
    assert diag.related == (inside(text, "step s {", "s {")[:2],)
    assert diag.message == "step 's' is defined twice"


def test_rf102_a_step_and_an_outcome_share_names() -> None:
    text = flow("start done\nstep done { -> done }\n")
    diag = one(text, "RF102")
    assert diag.message == "outcome 'done' has the name of an earlier step"


@pytest.mark.parametrize(
    ("decls", "what"),
    [
        ("event e { a: number }\nevent e { b: number }\non e -> done\n", "event 'e'"),
        ("action a\naction a\n", "action 'a'"),
        ("trigger t on x\ntrigger t on y\n", "trigger 't'"),
        ("sla x 1h until done\nsla x 2h until done\n", "SLA 'x'"),
        ("const c = 1\nconst c = 2\n", "constant 'c'"),
        (
            "event e { a: number }\non e -> done\nmeasure m from e.a\nmeasure m from e.a\n",
            "measure 'm'",
        ),
    ],
)
def test_rf102_every_kind_of_definition(decls: str, what: str) -> None:
    text = step("", extra=decls)
    found = only(text, "RF102")
    assert [d.message for d in found] == [f"{what} is defined twice"]


def test_rf102_calendars() -> None:
    cal = 'calendar c {\n  timezone "UTC"\n  hours mon 09:00-17:00\n}\n'
    text = step("due 1h in c\n  on timeout -> done", extra=cal + cal)
    diag = one(text, "RF102")
    assert where(diag) == (*inside(text, "calendar c {", "c {", 2)[:2], 11)


def test_rf102_fields_and_parameters() -> None:
    text = flow(
        """event e { a: number; a: text }
action call { who: text; who: text }
start s
step s {
  do call(who: "x", who: "y")
  on e -> done
}
""",
        case="case {\n  x: number\n  x: text\n}\n",
    )
    messages = [d.message for d in only(text, "RF102")]
    assert messages == [
        "case field 'x' is defined twice",
        "field 'a' of 'e' is defined twice",
        "parameter 'who' of 'call' is defined twice",
        "parameter 'who' is given twice",
    ]


def test_rf102_a_second_wait_due_or_every() -> None:
    text = step(
        "wait 1h\n  wait 2h\n  due 1d\n  due 2d\n  every 1h up to 2\n  every 2h up to 2\n"
        "  on timeout -> done"
    )
    found = only(text, "RF102")
    assert [where(d) for d in found] == [
        inside(text, "wait 2h", "wait"),
        inside(text, "due 2d", "due"),
        inside(text, "every 2h", "every"),
    ]
    assert found[0].message == "step 's' has a second `wait`"
    assert found[0].related == (at(text, "wait 1h")[:2],)


@pytest.mark.parametrize("name", ["approval", "case_updated"])
def test_rf102_builtin_events_cannot_be_redeclared(name: str) -> None:
    text = step("", extra=f"event {name} {{ approved: bool }}\n")
    diag = one(text, "RF102")
    assert where(diag) == at(text, name)
    assert "built-in event" in diag.message


@pytest.mark.parametrize("field", ["id", "at", "events"])
def test_rf102_reserved_case_fields(field: str) -> None:
    text = flow("start s\nstep s { -> done }\n", case=f"case {{\n  {field}: text\n}}\n")
    diag = one(text, "RF102")
    assert where(diag) == inside(text, f"{field}: text", field)


@pytest.mark.parametrize("field", ["type", "at", "id", "workflow"])
def test_rf102_reserved_event_fields(field: str) -> None:
    text = step("on e -> done", extra=f"event e {{ {field}: text }}\n")
    diag = one(text, "RF102")
    assert diag.message == f"'{field}' cannot be a field of event 'e'"


def test_rf102_enum_values_listed_twice() -> None:
    text = flow("start s\nstep s { -> done }\n", case="case {\n  t: enum(a, b, a)\n}\n")
    diag = one(text, "RF102")
    assert diag.message == "the enum of 't' lists 'a' twice"


def test_rf102_silent_on_distinct_names() -> None:
    assert_clean(
        step(
            "do send(a: 1, b: 2)",
            extra="trigger s on x\nconst s = 1\ntrigger other when case.csat > s\n",
        )
    )


# ---- RF103 unknown-field --------------------------------------------------------------


def test_rf103_unknown_case_field_with_suggestion() -> None:
    text = step('when case.teir == "gold" -> done')
    diag = one(text, "RF103")
    assert where(diag) == at(text, "teir")
    assert diag.message == "the case has no field 'teir'"
    assert diag.suggestion == "tier"


def test_rf103_case_id_is_always_there() -> None:
    assert_clean(step('when case.id == "C-1" -> done'))


def test_rf103_unknown_field_of_a_declared_event() -> None:
    text = step("on survey when event.scor > 3 -> done", extra="event survey { score: number }\n")
    diag = one(text, "RF103")
    assert where(diag) == inside(text, "scor ", "scor")
    assert diag.message == "event 'survey' has no field 'scor'"
    assert diag.suggestion == "score"


def test_rf103_in_event_triggers_and_case_updated() -> None:
    text = step(
        'on case_updated when event.tir == "gold" -> done',
        extra="event survey { score: number }\ntrigger t on survey when event.scr > 1\n",
    )
    found = only(text, "RF103")
    assert [d.message for d in found] == [
        "event 'survey' has no field 'scr'",
        "event 'case_updated' has no field 'tir'",
    ]


def test_rf103_silent_on_undeclared_events_and_envelope_fields() -> None:
    assert_clean(
        step(
            "on call_logged when event.anything == 3 -> done\n"
            "  on survey when event.score > 3 and event.at < now -> done\n"
            '  on approval when event.approved and event.workflow == "t" -> done',
            extra="event survey { score: number }\n",
        )
    )


def test_rf103_measures() -> None:
    text = step(
        "on survey -> done",
        extra="event survey { score: number }\n"
        "measure a from survey.scor\nmeasure b from surve.score\n",
    )
    found = only(text, "RF103")
    assert [where(d) for d in found] == [
        inside(text, "scor\n", "scor"),
        inside(text, "surve.", "surve"),
    ]
    assert found[0].suggestion == "score"
    assert found[1].message == "measure 'b' reads event 'surve', which is not declared"
    assert found[1].suggestion == "survey"


def test_rf103_unknown_offer_field() -> None:
    text = step('offer discount 10 USD\n  when offer.stat == "granted" -> done')
    diag = one(text, "RF103")
    assert diag.suggestion == "status"


# ---- RF105 unused-definition ------------------------------------------------------------


def test_rf105_unused_calendar_constant_event_action() -> None:
    text = step(
        "",
        extra='calendar c {\n  timezone "UTC"\n  hours mon 09:00-17:00\n}\n'
        "const unused = 3\nevent quiet { a: number }\naction idle\n",
    )
    found = only(text, "RF105")
    assert [d.message for d in found] == [
        "calendar 'c' is never used",
        "constant 'unused' is never used",
        "event 'quiet' is declared but no trigger, handler or measure uses it",
        "action 'idle' is declared but no step does it",
    ]
    assert [where(d) for d in found] == [
        inside(text, "c {", "c"),
        at(text, "unused"),
        at(text, "quiet"),
        at(text, "idle"),
    ]


def test_rf105_limits_apply_to_offers_of_their_kind() -> None:
    text = step(
        "offer credit 10 USD",
        extra="limit discount per case 100 USD\nlimit credit per case 100 USD\n"
        "limit compensation per case 100 USD\nlimit grants per case 1\n",
    )
    diag = one(text, "RF105")
    assert where(diag) == at(text, "discount")
    assert diag.message == "this limit never applies: no step makes a discount offer"


def test_rf105_limits_without_any_offer() -> None:
    text = step("", extra="limit compensation per case 100 USD\n")
    assert one(text, "RF105").message == "this limit never applies: no step makes any offer"


def test_rf105_silent_when_used() -> None:
    assert_clean(
        step(
            "do call(x: k)\n  due d in c\n  on quiet -> done\n  on timeout -> done",
            extra='calendar c {\n  timezone "UTC"\n  hours mon 09:00-17:00\n}\n'
            "const k = 3\nconst d = 2h\nevent quiet { a: number }\naction call { x: number }\n",
        )
    )


def test_rf105_events_used_by_triggers_and_measures_and_case_fields_never() -> None:
    assert_clean(
        step(
            "",
            extra="event a { n: number }\nevent b { n: number }\n"
            "trigger t on a\nmeasure m from b.n\n",
        )
    )


# ---- RF106 undefined-name ---------------------------------------------------------------


def test_rf106_unknown_calendar_with_suggestion() -> None:
    text = step(
        "due 2d in suport\n  on timeout -> done",
        extra='calendar support {\n  timezone "UTC"\n  hours mon 09:00-17:00\n}\n',
    )
    diag = one(text, "RF106")
    assert where(diag) == at(text, "suport")
    assert diag.message == "calendar 'suport' is not defined"
    assert diag.suggestion == "support"


def test_rf106_unknown_constant_function_and_case_field_hint() -> None:
    text = step(
        "when case.arr > vip_ar and mx(1, 2) > 1 and arr > 1 USD -> done",
        extra="const vip_arr = 5 USD\n",
    )
    found = only(text, "RF106")
    assert [(d.message, d.suggestion) for d in found] == [
        ("constant 'vip_ar' is not defined", "vip_arr"),
        ("function 'mx' is not defined", "max"),
        ("constant 'arr' is not defined", "case.arr"),
    ]
    assert where(found[1]) == at(text, "mx")


def test_rf106_unknown_duration_constant() -> None:
    text = step("due dely\n  on timeout -> done", extra="const delay = 2h\n")
    diag = one(text, "RF106")
    assert where(diag) == at(text, "dely")
    assert diag.suggestion == "delay"


def test_rf106_unknown_type_name() -> None:
    text = flow("start s\nstep s { -> done }\n", case="case {\n  n: nubmer\n}\n")
    diag = one(text, "RF106")
    assert where(diag) == at(text, "nubmer")
    assert diag.suggestion == "number"


def test_rf106_unknown_parameter_of_a_declared_action() -> None:
    text = step('do call(clent: "x", client: "y")', extra="action call { client: text }\n")
    diag = one(text, "RF106")
    assert where(diag) == at(text, "clent")
    assert diag.message == "action 'call' has no parameter 'clent'"
    assert diag.suggestion == "client"


def test_rf106_offer_outside_a_step_with_an_offer() -> None:
    text = step(
        'when offer.status == "granted" -> done', extra="on x when offer.amount > 1 USD -> done\n"
    )
    found = only(text, "RF106")
    assert [where(d) for d in found] == [at(text, "offer.amount"), at(text, "offer.status")]
    assert found[1].message == "`offer.status` is used in step 's', which makes no offer"


def test_rf106_event_outside_handlers_and_event_triggers() -> None:
    text = step(
        "when event.score > 1 -> done\n  due 1h\n  on timeout when event.x -> done",
        extra="trigger t when event.flag\n",
    )
    found = only(text, "RF106")
    assert [where(d) for d in found] == [
        at(text, "event.flag"),
        at(text, "event.score"),
        at(text, "event.x"),
    ]
    assert "a `when` trigger reacts to case data" in (found[0].label or "")
    assert found[2].label == "a timeout carries no event"


@pytest.mark.parametrize(
    "ref", ["case.arr", "event.x", "offer.amount", "trigger", "elapsed", "now"]
)
def test_rf106_constants_cannot_use_instance_data(ref: str) -> None:
    text = step("when c == c -> done", extra=f"const c = {ref}\n")
    diag = one(text, "RF106")
    assert where(diag) == at(text, ref)
    assert diag.message == f"constant 'c' cannot use `{ref}`"


@pytest.mark.parametrize("action", ["grant", "request_approval", "sla_warning", "sla_breached"])
def test_rf106_do_with_an_engine_action(action: str) -> None:
    text = step(f'do {action}(kind: "x")')
    diag = one(text, "RF106")
    assert where(diag) == at(text, action)


def test_rf106_timeout_as_a_global_handler() -> None:
    text = step("", extra="on timeout -> done\n")
    diag = one(text, "RF106")
    assert where(diag) == at(text, "timeout")
    assert "timeouts belong in steps" in diag.message


def test_rf106_constants_defined_in_terms_of_themselves() -> None:
    text = step("when a > 1 -> done", extra="const a = b + 1\nconst b = a\n")
    diag = one(text, "RF106")
    assert diag.message == "constant 'a' is defined in terms of itself: a -> b -> a"


def test_rf106_silent_where_names_are_available() -> None:
    assert_clean(
        step(
            "offer discount 10 USD\n"
            '  when offer.status == "granted" and offer.amount > 1 USD -> done\n'
            '  on resolved when event.ok and trigger == "t" and elapsed > 1h -> done',
            extra="trigger t on x when event.flag and case.vip\nconst k = 2h\n"
            "trigger u when now > case.renewal - k\n"
            "limit compensation per case 100 USD\n",
        )
    )


def test_all_name_problems_are_reported_together() -> None:
    text = step("when case.nope > kk -> nowhere")
    assert codes(text) == ["RF103", "RF106", "RF101"]
    assert len(lint(text)) == 3
