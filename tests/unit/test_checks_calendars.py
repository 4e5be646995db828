"""Business calendar definitions (RF002): time zones, hours, overlaps and holiday
countries, at the literal, with suggestions; valid calendars are silent."""

from __future__ import annotations

import pytest

from retainflow import nodes as n
from retainflow.checks.calendars import expand_days
from tests.unit.test_checks_support import assert_clean, at, inside, one, only, step, where


def calendar(*lines: str, name: str = "c") -> str:
    body = "".join(f"  {line}\n" for line in lines)
    return step("due 2d in c\n  on timeout -> done", extra=f"calendar {name} {{\n{body}}}\n")


VALID = ('timezone "Asia/Manila"', "hours mon-fri 09:00-12:00, 13:00-18:00")


def test_rf002_unknown_time_zone_with_suggestion() -> None:
    text = calendar('timezone "Asia/Manilla"', "hours mon 09:00-17:00")
    diag = one(text, "RF002")
    assert where(diag) == at(text, '"Asia/Manilla"')
    assert diag.message == "unknown time zone 'Asia/Manilla'"
    assert diag.suggestion == "Asia/Manila"


def test_rf002_time_zones_are_case_sensitive_but_suggested() -> None:
    text = calendar('timezone "europe/london"', "hours mon 09:00-17:00")
    assert one(text, "RF002").suggestion == "Europe/London"


def test_rf002_calendar_without_timezone_or_hours() -> None:
    text = calendar()
    found = only(text, "RF002")
    assert [d.message for d in found] == [
        "calendar 'c' has no time zone",
        "calendar 'c' has no opening hours",
    ]
    assert all(where(d) == (*inside(text, "calendar c {", "c {")[:2], 11) for d in found)


@pytest.mark.parametrize(
    ("code", "message", "suggestion"),
    [
        ("ZZ", "unknown holiday country 'ZZ'", None),
        ("ph", "unknown holiday country 'ph'", "PH"),
        ("GB-SCX", "'SCX' is not a subdivision of GB", "GB-SCT"),
    ],
)
def test_rf002_unknown_holiday_country(code: str, message: str, suggestion: str | None) -> None:
    text = calendar(*VALID, f'holidays "{code}"')
    diag = one(text, "RF002")
    assert where(diag) == at(text, f'"{code}"')
    assert diag.message == message
    assert diag.suggestion == suggestion


def test_rf002_overlapping_intervals_in_one_line_and_across_lines() -> None:
    text = calendar(
        'timezone "UTC"', "hours mon-fri 09:00-13:00, 12:00-18:00", "hours fri 17:00-19:00"
    )
    found = only(text, "RF002")
    assert [where(d) for d in found] == [at(text, "12:00-18:00"), at(text, "17:00-19:00")]
    assert found[0].message == (
        "the hours 12:00-18:00 overlap 09:00-13:00 on mon, tue, wed, thu, fri"
    )
    assert found[0].related == (at(text, "09:00-13:00")[:2],)
    assert found[1].message == "the hours 17:00-19:00 overlap 12:00-18:00 on fri"


def test_rf002_night_hours_run_into_the_next_day() -> None:
    text = calendar('timezone "UTC"', "hours sun 22:00-06:00", "hours mon 05:00-09:00")
    diag = one(text, "RF002")
    assert where(diag) == at(text, "05:00-09:00")
    assert diag.message == "the hours 05:00-09:00 overlap 22:00-06:00 on mon"
    assert "night hours" in (diag.label or "")


def test_rf002_the_same_hours_twice() -> None:
    text = calendar('timezone "UTC"', "hours mon, mon 09:00-10:00")
    assert one(text, "RF002").message == "the hours 09:00-10:00 are given twice for mon"


def test_rf002_an_interval_cannot_open_at_24_00() -> None:
    text = calendar('timezone "UTC"', "hours mon 24:00-08:00")
    assert where(one(text, "RF002")) == at(text, "24:00")


def test_valid_calendars_are_silent() -> None:
    assert_clean(
        calendar(
            'timezone "Europe/London"',
            "hours mon-fri 09:00-12:00, 12:00-17:00",
            "hours sat 09:00-13:00",
            "hours sun 22:00-06:00",
            "hours tue 06:00-07:00",
            'holidays "GB-SCT"',
            "holidays 2026-12-24, 2026-12-31",
            "open 2026-04-03",
        )
    )


def test_day_ranges_wrap_around_the_week() -> None:
    def spec(first: str, last: str | None) -> n.DaySpec:
        return n.DaySpec(n.Name(first), n.Name(last) if last else None)

    assert expand_days(spec("mon", "fri")) == [0, 1, 2, 3, 4]
    assert expand_days(spec("fri", "mon")) == [4, 5, 6, 0]
    assert expand_days(spec("sun", None)) == [6]
