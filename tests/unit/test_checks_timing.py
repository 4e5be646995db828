"""Timing checks: RF401, RF402, RF405, RF406 and the calendar rules of durations (RF002),
each at the statement or literal tools.md names, and silent on correct timing."""

from __future__ import annotations

import pytest

from tests.unit.test_checks_support import (
    assert_clean,
    at,
    codes,
    inside,
    one,
    only,
    step,
    where,
)

CAL = 'calendar c {\n  timezone "UTC"\n  hours mon-fri 09:00-17:00\n}\n'

# ---- RF401 / RF402 -----------------------------------------------------------------------


def test_rf401_timeout_without_due() -> None:
    text = step("on timeout -> done")
    diag = one(text, "RF401")
    assert where(diag) == at(text, "on timeout -> done")
    assert diag.message == "step 's' has `on timeout` but no `due`"


def test_rf402_due_without_timeout() -> None:
    text = step("due 2d")
    diag = one(text, "RF402")
    assert where(diag) == at(text, "due 2d")
    assert diag.message == "step 's' has a `due` but no `on timeout`"
    assert codes(text) == ["RF402"]  # a warning, and the only finding


def test_rf401_rf402_silent_together() -> None:
    assert_clean(step("due 2d\n  on timeout -> done"))


# ---- RF405 non-positive-duration ---------------------------------------------------------


def test_rf405_zero_literal_is_reported_once() -> None:
    text = step("due 0h\n  on timeout -> done")
    assert codes(text) == ["RF405"]
    assert where(one(text, "RF405")) == at(text, "0h")


@pytest.mark.parametrize(
    ("const", "shown"), [("2h - 3h", "-1h"), ("-4h", "-4h"), ("0 * 5m", "0s"), ("1h - 60m", "0s")]
)
def test_rf405_constants_that_are_not_positive(const: str, shown: str) -> None:
    text = step("due d\n  on timeout -> done", extra=f"const d = {const}\n")
    diag = one(text, "RF405")
    assert where(diag) == inside(text, "due d", "d")
    assert diag.message == f"constant 'd' is {shown}, but `due` must be positive"


@pytest.mark.parametrize("clause", ["cooldown d", "over d"])
def test_rf405_in_declarations(clause: str) -> None:
    extra = "const d = -1d\n" + (
        f"trigger t when case.vip {clause}\n"
        if clause.startswith("cooldown")
        else f"limit grants per client 2 {clause}\n"
    )
    text = step("offer credit 1 USD", extra=extra)
    assert "RF405" in codes(text)


def test_rf301_a_duration_constant_that_is_not_a_duration() -> None:
    text = step("wait d", extra="const d = 5\n")
    diag = one(text, "RF301")
    assert where(diag) == inside(text, "wait d", "d")
    assert diag.message == "constant 'd' is number, but `wait` needs a duration"


def test_rf405_silent_on_positive_constants() -> None:
    assert_clean(
        step(
            "wait d\n  due d * 2\n  on timeout -> done".replace("d * 2", "e"),
            extra="const d = 3h - 1h\nconst e = d * 2\n",
        )
    )


@pytest.mark.parametrize(
    ("statement", "extra", "literal"),
    [
        ("wait 0h", "", "wait 0h"),
        ("due 0m\n  on timeout -> done", "", "due 0m"),
        ("every 0h up to 2", "", "every 0h"),
        ("", "trigger t when case.vip cooldown 0d\n", "cooldown 0d"),
        ("offer credit 1 USD", "limit credit per client 5 USD over 0d\n", "over 0d"),
        ("", "sla x 0h until done\n", "sla x 0h"),
        ("", "sla x 1d until done warn 0h before\n", "warn 0h"),
    ],
)
def test_rf405_zero_literal_in_every_dur_position(statement: str, extra: str, literal: str) -> None:
    text = step(statement, extra=extra)
    diag = one(text, "RF405")
    assert where(diag) == inside(text, literal, literal.split()[-1])
    assert diag.message == f"the duration {literal.split()[-1]} is zero"


@pytest.mark.parametrize(
    ("statement", "extra"),
    [
        ("when elapsed > 0d -> done", ""),
        ("when elapsed > -1d -> done", ""),
        ("on ping when elapsed > 0d -> done", ""),
        ("do notify(within: 0d)", ""),
        ("do notify(within: -1d)", ""),
        ("", "trigger t at case.renewal + -30d\n"),
        ("", "trigger t at case.renewal + 0d when elapsed > 0s\n"),
        ("", "const lead = 0d\ntrigger t at case.renewal - lead\n"),
        ("", "const back = -30d\ntrigger t at case.renewal + back\n"),
    ],
)
def test_rf405_never_for_durations_in_expressions(statement: str, extra: str) -> None:
    assert "RF405" not in codes(step(statement, extra=extra))


def test_rf405_a_zero_literal_constant_is_reported_at_its_use_in_a_dur() -> None:
    text = step("wait z\n  when elapsed > z -> done", extra="const z = 0d\n")
    diag = one(text, "RF405")
    assert where(diag) == inside(text, "wait z", "z")
    assert diag.message == "constant 'z' is 0s, but `wait` must be positive"


# ---- RF406 warn-too-early -------------------------------------------------------------------


@pytest.mark.parametrize(("sla", "warn"), [("4h", "5h"), ("4h", "4h"), ("1d", "24h"), ("1w", "7d")])
def test_rf406_warn_not_shorter_than_the_sla(sla: str, warn: str) -> None:
    text = step("", extra=f"sla x {sla} until done warn {warn} before\n")
    diag = one(text, "RF406")
    assert where(diag) == inside(text, f"warn {warn}", warn)
    assert "warns" in diag.message and "the whole SLA is" in diag.message


def test_rf406_compares_constants_too() -> None:
    text = step("", extra="const w = 5h\nsla x 4h until done warn w before\n")
    assert where(one(text, "RF406")) == inside(text, "warn w", "w")


def test_rf406_silent_when_shorter() -> None:
    assert_clean(step("", extra="sla x 1d until done warn 23h before\n"))


# ---- RF002 durations in a calendar ----------------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["wait 1w in c", "due 2w in c\n  on timeout -> done", "every 1w in c up to 2"]
)
def test_rf002_weeks_with_a_calendar(statement: str) -> None:
    text = step(statement, extra=CAL)
    diag = one(text, "RF002")
    literal = statement.split()[1]
    assert where(diag) == inside(text, statement.split("\n")[0], literal)
    assert diag.message == "weeks cannot be counted in calendar 'c'"


def test_rf002_weeks_with_a_calendar_in_an_sla_and_through_a_constant() -> None:
    text = step("", extra=CAL + "const week = 1w\nsla x week in c until done\n")
    diag = one(text, "RF002")
    assert where(diag) == inside(text, "week in c", "week")
    assert diag.message == "constant 'week' is in weeks, which calendar 'c' cannot count"


@pytest.mark.parametrize("warn", ["1d", "1w"])
def test_rf002_warn_in_days_with_a_calendar(warn: str) -> None:
    text = step("", extra=CAL + f"sla x 5d in c until done warn {warn} before\n")
    diag = one(text, "RF002")
    assert where(diag) == inside(text, f"warn {warn}", warn)
    assert "takes s, m or h" in diag.message


def test_rf002_mixed_units_counted_in_a_calendar() -> None:
    text = step("wait d in c", extra=CAL + "const d = 1d + 4h\n")
    assert "mixes units" in one(text, "RF002").message


def test_rf002_counts_are_checked_by_lowering() -> None:
    text = step("every 1h up to 0", extra="limit grants per case 0\n")
    found = only(text, "RF002")
    assert [where(d) for d in found] == [inside(text, "per case 0", "0"), inside(text, "to 0", "0")]


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("1.5", "'up to' counts repetitions: give a whole number of at least 1"),
        ("0.5", "'up to' counts repetitions: give a whole number of at least 1"),
        ("-1", "'up to' needs a count of at least 1"),
        ("-2.5", "'up to' counts repetitions: give a whole number of at least 1"),
        ("0", "'up to' needs a count of at least 1"),
    ],
)
def test_rf002_up_to_needs_a_whole_number_of_at_least_1(count: str, message: str) -> None:
    text = step(f"every 1h up to {count}")
    assert codes(text) == ["RF002"]  # not a syntax error, and the only finding
    diag = one(text, "RF002")
    assert where(diag) == inside(text, f"to {count}", count)
    assert diag.message == message


def test_up_to_takes_an_integer_literal_only() -> None:
    # language.md: "N is an integer literal of at least 1 (RF002 otherwise)"
    text = step("every 1h up to 2.0")
    assert codes(text) == ["RF002"]
    assert one(text, "RF002").message.startswith("'up to' counts repetitions")
    assert_clean(step("every 1h up to 2"))


def test_calendar_durations_silent_when_valid() -> None:
    assert_clean(
        step(
            "wait 2d in c\n  every 4h in c up to 3\n  due 5d in c\n  on timeout -> done",
            extra=CAL + "sla x 5d in c until done warn 4h before\nsla y 2w until done\n",
        )
    )
