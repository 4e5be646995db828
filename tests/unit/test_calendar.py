"""Business calendars: the 51 conformance examples, language.md's examples, and properties.

Input: `shared/conformance/calendar.yaml` (beside the project root, loaded as it is) and
calendars built in code. Output: pass/fail of `retainflow.calendar`.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    import retainflow.calendar  # noqa: F401
except ModuleNotFoundError:  # not installed (yet): test the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from retainflow import nodes
from retainflow.analysis import analyze_text
from retainflow.calendar import (
    BusinessCalendar,
    WeeklyInterval,
    find_overlaps,
    known_country,
    known_timezone,
    validate_intervals,
)
from retainflow.compile import build_calendar
from tests.support import SHARED

CONFORMANCE = SHARED / "conformance" / "calendar.yaml"


def _calendar_from_text(text: str) -> BusinessCalendar:
    """A calendar block of calendar.yaml through the real front end and compile's builder:
    the text must check clean as part of a workflow, then it is built as the engine builds
    it."""
    workflow_text = f"workflow calendar_examples version 1\n{text}\n"
    analysis = analyze_text(workflow_text)
    assert analysis.workflow is not None, analysis.diagnostics
    problems = [d for d in analysis.diagnostics if d.code != "RF105" and d.code[:4] != "RF20"]
    assert not problems, problems
    (decl,) = analysis.workflow.of(nodes.Calendar)
    return build_calendar(decl)


def _load_conformance() -> tuple[dict[str, str], list[dict[str, Any]]]:
    if not CONFORMANCE.is_file():
        return {}, []
    data = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))
    return data["calendars"], data["examples"]


CALENDAR_TEXTS, EXAMPLES = _load_conformance()
_CALENDARS: dict[str, BusinessCalendar] = {}


def _conformance_calendar(name: str) -> BusinessCalendar:
    if name not in _CALENDARS:
        _CALENDARS[name] = _calendar_from_text(CALENDAR_TEXTS[name])
    return _CALENDARS[name]


def _example_id(index: int, example: dict[str, Any]) -> str:
    op = example.get("op")
    if op is None:
        kind = "open_time"
    elif "before" in op:
        kind = "back-" + op.split()[0]
    else:
        kind = "add-" + op.split()[0].lstrip("+")
    words = re.findall(r"[a-z0-9]+", str(example.get("note", "")).lower())[:5]
    return f"{index + 1:02d}-{example['calendar']}-{kind}-{'-'.join(words)}"


if EXAMPLES:
    _PARAMS = [pytest.param(ex, id=_example_id(i, ex)) for i, ex in enumerate(EXAMPLES)]
else:
    _PARAMS = [
        pytest.param(
            None,
            id="conformance-missing",
            marks=pytest.mark.skip(reason=f"conformance file not found: {CONFORMANCE}"),
        )
    ]

_DURATION_RE = re.compile(r"(\d+)([smhd])")
_ADD_RE = re.compile(r"\+(\d+)([smhd]) in (\w+)")
_BEFORE_RE = re.compile(r"(\d+)([smh]) before, in (\w+)")


def _utc(t: datetime) -> datetime:
    """Compare instants in UTC: Python's == between zones is False at an ambiguous local
    time (PEP 495), and comparisons within one zone ignore `fold`."""
    return t.astimezone(UTC)


def _assert_same_instant_and_offset(got: datetime, expected: datetime) -> None:
    assert _utc(got) == _utc(expected), f"got {got.isoformat()}, expected {expected.isoformat()}"
    assert got.utcoffset() == expected.utcoffset(), (
        f"offset of {got.isoformat()} differs from {expected.isoformat()}"
    )


@pytest.mark.skipif(not EXAMPLES, reason=f"conformance file not found: {CONFORMANCE}")
def test_conformance_file_has_51_examples() -> None:
    assert len(EXAMPLES) == 51


@pytest.mark.parametrize("example", _PARAMS)
def test_conformance(example: dict[str, Any]) -> None:
    calendar = _conformance_calendar(example["calendar"])
    if "open_time" in example:
        match = _DURATION_RE.fullmatch(example["open_time"])
        assert match is not None
        amount, unit = int(match[1]), match[2]
        expected = timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])
        start = datetime.fromisoformat(example["from"])
        end = datetime.fromisoformat(example["to"])
        assert calendar.open_time(start, end) == expected
        return
    start = datetime.fromisoformat(example["start"])
    expected_at = datetime.fromisoformat(example["expect"])
    op = example["op"]
    if added := _ADD_RE.fullmatch(op):
        assert added[3] == example["calendar"]
        got = calendar.add(start, int(added[1]), added[2])
    elif before := _BEFORE_RE.fullmatch(op):
        assert before[3] == example["calendar"]
        got = calendar.subtract(start, int(before[1]), before[2])
    else:
        raise AssertionError(f"unknown op {op!r}")
    _assert_same_instant_and_offset(got, expected_at)


# --------------------------------------------------------------------------------------
# Calendars built in code
# --------------------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
MANILA = ZoneInfo("Asia/Manila")


def _weekdays(open_hhmm: str, close_hhmm: str, days: range = range(5)) -> list[WeeklyInterval]:
    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return [WeeklyInterval(day, minutes(open_hhmm), minutes(close_hhmm)) for day in days]


def _ny(**kwargs: Any) -> BusinessCalendar:
    return BusinessCalendar("ny", "America/New_York", _weekdays("09:00", "17:00"), **kwargs)


def _support(**kwargs: Any) -> BusinessCalendar:
    """language.md's complete example: Manila, mon-fri 09:00-18:00, PH holidays."""
    return BusinessCalendar(
        "support", "Asia/Manila", _weekdays("09:00", "18:00"), countries=["PH"], **kwargs
    )


def ny_at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def mnl_at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MANILA)


# 2026-03-13 is a Friday, 2026-03-16 a Monday.


def test_language_friday_1500_plus_2h_is_friday_1700() -> None:
    assert _ny().add(ny_at(2026, 3, 13, 15), 2, "h") == ny_at(2026, 3, 13, 17)


def test_language_friday_1600_plus_2h_is_monday_1000() -> None:
    assert _ny().add(ny_at(2026, 3, 13, 16), 2, "h") == ny_at(2026, 3, 16, 10)


def test_language_monday_holiday_gives_tuesday() -> None:
    calendar = _ny(closed_dates=[date(2026, 3, 16)])
    assert calendar.add(ny_at(2026, 3, 13, 16), 2, "h") == ny_at(2026, 3, 17, 10)


def test_language_day_examples() -> None:
    calendar = _ny()
    assert calendar.add(ny_at(2026, 3, 13, 16), 1, "d") == ny_at(2026, 3, 16, 16)
    assert calendar.add(ny_at(2026, 3, 14, 11), 1, "d") == ny_at(2026, 3, 17, 9)
    assert calendar.add(ny_at(2026, 3, 13, 17), 1, "d") == ny_at(2026, 3, 17, 9)


def test_language_warning_counts_back_open_time() -> None:
    calendar = BusinessCalendar("w", "America/New_York", _weekdays("09:00", "18:00"))
    due = ny_at(2026, 3, 16, 9, 30)
    assert calendar.subtract(due, 1, "h") == ny_at(2026, 3, 13, 17, 30)


def test_counting_back_stops_at_an_opening() -> None:
    # Used up exactly at Monday's opening: Monday 09:00, not Friday's closing.
    assert _ny().subtract(ny_at(2026, 3, 16, 10), 1, "h") == ny_at(2026, 3, 16, 9)


def test_domain_business_hours_examples() -> None:
    calendar = _ny()
    assert calendar.open_time(ny_at(2026, 3, 13, 16, 30), ny_at(2026, 3, 16, 9, 30)) == timedelta(
        hours=1
    )
    assert calendar.open_time(ny_at(2026, 3, 10, 10), ny_at(2026, 3, 11, 15)) == timedelta(hours=13)


PH_2026_WEEKDAY_HOLIDAYS = [
    date(2026, 3, 20),
    date(2026, 4, 2),
    date(2026, 4, 3),
    date(2026, 4, 9),
    date(2026, 5, 1),
]


@pytest.mark.parametrize("day", PH_2026_WEEKDAY_HOLIDAYS, ids=str)
def test_manila_ph_holidays_2026_are_closed(day: date) -> None:
    calendar = _support()
    assert calendar.is_holiday(day)
    assert not calendar.is_open_day(day)
    assert not calendar.is_open(mnl_at(day.year, day.month, day.day, 10))
    assert calendar.open_time(
        mnl_at(day.year, day.month, day.day), mnl_at(day.year, day.month, day.day, 23)
    ) == timedelta(0)


def test_manila_holy_week() -> None:
    calendar = _support()
    # Wednesday 17:30 + 1h: Maundy Thursday, Good Friday, the weekend; Monday 09:30.
    assert calendar.add(mnl_at(2026, 4, 1, 17, 30), 1, "h") == mnl_at(2026, 4, 6, 9, 30)
    # Day of Valor (Thursday 2026-04-09): Wednesday 17:30 + 1h = Friday 09:30.
    assert calendar.add(mnl_at(2026, 4, 8, 17, 30), 1, "h") == mnl_at(2026, 4, 10, 9, 30)
    # Labor Day is a Friday: Thursday 16:00 + 1d = Monday 16:00.
    assert calendar.add(mnl_at(2026, 4, 30, 16), 1, "d") == mnl_at(2026, 5, 4, 16)
    # Eid al-Fitr (Friday 2026-03-20).
    assert calendar.add(mnl_at(2026, 3, 19, 17), 2, "h") == mnl_at(2026, 3, 23, 10)


def test_country_holidays_for_any_year() -> None:
    calendar = _support()
    assert calendar.is_holiday(date(2031, 6, 12))  # Independence Day
    assert calendar.is_holiday(date(1999, 12, 25))
    assert not calendar.is_holiday(date(2031, 6, 11))


def test_subdivision_holidays() -> None:
    scotland = BusinessCalendar(
        "sct", "Europe/London", _weekdays("09:00", "17:00"), countries=["GB-SCT"]
    )
    england = BusinessCalendar(
        "eng", "Europe/London", _weekdays("09:00", "17:00"), countries=["GB-ENG"]
    )
    assert scotland.is_holiday(date(2026, 1, 2))  # 2 January, Scotland only
    assert not england.is_holiday(date(2026, 1, 2))


def test_open_overrides_a_country_holiday() -> None:
    calendar = _support(open_dates=[date(2026, 4, 3)])
    assert not calendar.is_holiday(date(2026, 4, 3))
    assert calendar.is_open(mnl_at(2026, 4, 3, 10))
    assert calendar.add(mnl_at(2026, 4, 1, 17, 30), 1, "h") == mnl_at(2026, 4, 3, 9, 30)


def test_open_wins_over_an_explicit_holiday_too() -> None:
    calendar = _support(closed_dates=[date(2026, 12, 28)], open_dates=[date(2026, 12, 28)])
    assert calendar.is_open(mnl_at(2026, 12, 28, 10))


def test_explicit_holidays_add_to_country_ones() -> None:
    calendar = _support(closed_dates=[date(2026, 12, 28)])
    assert calendar.is_holiday(date(2026, 12, 28))
    assert calendar.is_holiday(date(2026, 12, 25))


def test_a_holiday_closes_the_night_interval_opening_that_day_only() -> None:
    calendar = BusinessCalendar(
        "night",
        "America/New_York",
        [WeeklyInterval(day, 22 * 60, 6 * 60) for day in range(5)],
        closed_dates=[date(2026, 3, 18)],
    )
    assert calendar.is_open(ny_at(2026, 3, 18, 5))  # Tuesday's interval, into Wednesday
    assert not calendar.is_open(ny_at(2026, 3, 18, 23))  # Wednesday's interval is closed
    assert not calendar.is_open(ny_at(2026, 3, 19, 5))
    assert calendar.is_open(ny_at(2026, 3, 14, 5))  # Friday night into Saturday


def test_open_and_closing_instants() -> None:
    calendar = _ny()
    assert calendar.is_open(ny_at(2026, 3, 13, 9))
    assert not calendar.is_open(ny_at(2026, 3, 13, 17))
    assert not calendar.is_open(ny_at(2026, 3, 14, 12))
    assert calendar.next_opening(ny_at(2026, 3, 13, 17)) == ny_at(2026, 3, 16, 9)
    assert calendar.next_opening(ny_at(2026, 3, 13, 12)) == ny_at(2026, 3, 13, 12)


def test_touching_intervals_count_as_one_stretch() -> None:
    calendar = BusinessCalendar("allday", "UTC", [WeeklyInterval(day, 0, 1440) for day in range(7)])
    start = datetime(2026, 3, 13, 23, tzinfo=UTC)
    assert calendar.is_open(datetime(2026, 3, 14, 0, tzinfo=UTC))
    assert calendar.add(start, 25, "h") == datetime(2026, 3, 15, 0, tzinfo=UTC)
    assert calendar.subtract(start, 48, "h") == datetime(2026, 3, 11, 23, tzinfo=UTC)
    assert calendar.open_time(start, start + timedelta(days=3)) == timedelta(days=3)


def test_close_not_after_open_runs_past_midnight() -> None:
    full = BusinessCalendar("full", "UTC", [WeeklyInterval(0, 9 * 60, 9 * 60)])
    monday = datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert full.open_time(monday, monday + timedelta(days=7)) == timedelta(hours=24)
    midnight = BusinessCalendar("late", "UTC", [WeeklyInterval(0, 22 * 60, 0)])
    assert midnight.open_time(monday, monday + timedelta(days=7)) == timedelta(hours=2)
    assert not midnight.is_open(datetime(2026, 3, 17, 0, tzinfo=UTC))


def test_night_interval_days_count_from_the_local_date() -> None:
    night = BusinessCalendar(
        "night", "America/New_York", [WeeklyInterval(day, 22 * 60, 6 * 60) for day in range(5)]
    )
    # Tuesday 05:00 is in Monday's interval; one open day after Tuesday is Wednesday,
    # and Wednesday 05:00 is open (Tuesday's interval).
    assert night.add(ny_at(2026, 3, 17, 5), 1, "d") == ny_at(2026, 3, 18, 5)
    # Saturday 05:00 (Friday's night): Monday 05:00 is closed (no Sunday interval).
    assert night.add(ny_at(2026, 3, 14, 5), 1, "d") == ny_at(2026, 3, 16, 22)


def test_counting_back_from_a_closed_instant_starts_at_the_previous_closing() -> None:
    assert _ny().subtract(ny_at(2026, 3, 14, 12), 1, "h") == ny_at(2026, 3, 13, 16)


def test_interval_swallowed_by_a_dst_gap_is_closed() -> None:
    calendar = BusinessCalendar("gap", "America/New_York", [WeeklyInterval(6, 150, 180)])
    sunday = ny_at(2026, 3, 8)  # spring forward at 02:00
    assert calendar.open_time(sunday, sunday + timedelta(days=1)) == timedelta(0)
    assert calendar.next_opening(sunday) == ny_at(2026, 3, 15, 2, 30)


def test_a_skipped_date_is_not_an_open_day() -> None:
    apia = BusinessCalendar("apia", "Pacific/Apia", _weekdays("09:00", "17:00"))
    assert not apia.is_open_day(date(2011, 12, 30))  # Samoa skipped this Friday
    thursday = datetime(2011, 12, 29, 10, tzinfo=ZoneInfo("Pacific/Apia"))
    assert _utc(apia.add(thursday, 1, "d")) == _utc(
        datetime(2012, 1, 2, 10, tzinfo=ZoneInfo("Pacific/Apia"))
    )


def test_results_are_in_the_calendar_zone() -> None:
    got = _ny().add(datetime(2026, 3, 13, 20, tzinfo=UTC), 2, "h")
    assert got == ny_at(2026, 3, 16, 10)
    assert got.tzinfo == NEW_YORK
    assert got.utcoffset() == timedelta(hours=-4)


def test_zero_amounts() -> None:
    calendar = _ny()
    saturday = ny_at(2026, 3, 14, 11)
    assert calendar.add(saturday, 0, "h") == ny_at(2026, 3, 16, 9)
    assert calendar.add(saturday, 0, "d") == ny_at(2026, 3, 16, 9)
    assert calendar.subtract(saturday, 0, "h") == saturday
    assert calendar.open_time(saturday, saturday) == timedelta(0)
    assert calendar.open_time(ny_at(2026, 3, 16, 12), ny_at(2026, 3, 16, 10)) == timedelta(0)


def test_long_durations_walk_interval_by_interval() -> None:
    calendar = _support()
    start = mnl_at(2026, 1, 5, 9)
    due = calendar.add(start, 2000, "h")
    assert calendar.open_time(start, due) == timedelta(hours=2000)
    assert calendar.subtract(due, 2000, "h") == start


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.add(datetime(2026, 3, 13, 9), 1, "h"), "timezone-aware"),
        (lambda c: c.add(ny_at(2026, 3, 13, 9), 1, "w"), "not 'w'"),
        (lambda c: c.subtract(ny_at(2026, 3, 13, 9), 1, "d"), "not 'd'"),
        (lambda c: c.add(ny_at(2026, 3, 13, 9), -1, "h"), "negative"),
    ],
    ids=["naive", "weeks", "back-days", "negative"],
)
def test_invalid_arguments(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(_ny())


# --------------------------------------------------------------------------------------
# Validation helpers (RF002 in the checker)
# --------------------------------------------------------------------------------------


def test_valid_hours_have_no_problems() -> None:
    hours = [
        *_weekdays("09:00", "12:00"),
        *_weekdays("12:00", "17:00"),  # touching is fine
        WeeklyInterval(5, 9 * 60, 13 * 60),
        WeeklyInterval(6, 22 * 60, 6 * 60),  # Sunday night into Monday 06:00
    ]
    assert validate_intervals(hours) == []
    assert find_overlaps(hours) == []


def test_overlapping_same_day() -> None:
    hours = [WeeklyInterval(0, 9 * 60, 12 * 60), WeeklyInterval(0, 11 * 60, 13 * 60)]
    assert find_overlaps(hours) == [(0, 1)]
    assert validate_intervals(hours) == ["hours overlap: mon 09:00-12:00 and mon 11:00-13:00"]


def test_overnight_overlapping_next_day() -> None:
    hours = [WeeklyInterval(0, 22 * 60, 6 * 60), WeeklyInterval(1, 5 * 60, 9 * 60)]
    assert validate_intervals(hours) == ["hours overlap: mon 22:00-06:00 and tue 05:00-09:00"]


def test_sunday_night_overlapping_monday() -> None:
    hours = [WeeklyInterval(0, 5 * 60, 9 * 60), WeeklyInterval(6, 22 * 60, 6 * 60)]
    assert find_overlaps(hours) == [(0, 1)]


def test_duplicate_and_contained_intervals_overlap() -> None:
    hours = [
        WeeklyInterval(2, 0, 1440),
        WeeklyInterval(2, 9 * 60, 10 * 60),
        WeeklyInterval(2, 11 * 60, 12 * 60),
        WeeklyInterval(2, 11 * 60, 12 * 60),
    ]
    assert find_overlaps(hours) == [(0, 1), (0, 2), (0, 3), (2, 3)]


def test_no_hours_and_out_of_range() -> None:
    assert validate_intervals([]) == ["a calendar needs at least one `hours` line"]
    assert len(validate_intervals([WeeklyInterval(7, 0, 60)])) == 1
    assert len(validate_intervals([WeeklyInterval(0, 1440, 60)])) == 1
    assert len(validate_intervals([WeeklyInterval(0, 60, 1441)])) == 1


def test_constructor_rejects_invalid_definitions() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("x", "UTC", [WeeklyInterval(0, 0, 600), WeeklyInterval(0, 300, 900)])
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar("x", "Mars/Olympus_Mons", _weekdays("09:00", "17:00"))
    with pytest.raises(ValueError, match="country"):
        BusinessCalendar("x", "UTC", _weekdays("09:00", "17:00"), countries=["XX"])
    with pytest.raises(ValueError, match="hours"):
        BusinessCalendar("x", "UTC", [])


def test_known_country() -> None:
    for code in ("PH", "US", "GB", "GB-SCT", "US-CA"):
        assert known_country(code), code
    for code in ("", "XX", "ph", "GB-XYZ", "GB-"):
        assert not known_country(code), code


def test_known_timezone() -> None:
    for name in ("Asia/Manila", "America/New_York", "Europe/London", "UTC"):
        assert known_timezone(name), name
    for name in ("", "Mars/Olympus_Mons", "../etc/passwd", "asia/manila"):
        assert not known_timezone(name), name


def test_holidays_version_is_recorded() -> None:
    assert BusinessCalendar.holidays_version == "0.109"
    assert _ny().holidays_version == "0.109"
    assert _ny().name == "ny"
    assert _ny().timezone == "America/New_York"


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

_PROPERTY_CALENDARS = [
    _ny(countries=["US"]),
    BusinessCalendar(
        "split",
        "America/New_York",
        [*_weekdays("09:00", "12:00"), *_weekdays("13:00", "17:00"), WeeklyInterval(5, 600, 840)],
    ),
    BusinessCalendar(
        "night",
        "America/New_York",
        [WeeklyInterval(day, 22 * 60, 6 * 60) for day in range(5)],
        closed_dates=[date(2026, 3, 18)],
    ),
    BusinessCalendar("early", "America/New_York", [WeeklyInterval(d, 0, 720) for d in range(7)]),
    BusinessCalendar("london", "Europe/London", _weekdays("09:00", "17:00")),
    BusinessCalendar("sydney", "Australia/Sydney", [WeeklyInterval(d, 60, 180) for d in range(7)]),
    _support(closed_dates=[date(2026, 12, 24)], open_dates=[date(2026, 4, 3)]),
]

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from(_PROPERTY_CALENDARS)
units = st.sampled_from(["s", "m", "h"])
_UNIT = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1)}


@settings(deadline=None)
@given(calendars, instants, st.integers(0, 200), units)
def test_property_added_open_time_is_the_amount(
    calendar: BusinessCalendar, t: datetime, n: int, unit: str
) -> None:
    due = calendar.add(t, n, unit)
    assert _utc(due) >= t
    assert calendar.open_time(t, due) == n * _UNIT[unit]


@settings(deadline=None)
@given(calendars, instants, st.integers(0, 200), units)
def test_property_counting_back_returns_to_the_start(
    calendar: BusinessCalendar, t: datetime, n: int, unit: str
) -> None:
    due = calendar.add(t, n, unit)
    back = calendar.subtract(due, n, unit)
    assert _utc(back) == _utc(calendar.next_opening(t))
    assert _utc(calendar.add(back, n, unit)) == _utc(due)


@settings(deadline=None)
@given(calendars, instants, st.integers(1, 100), st.integers(1, 100))
def test_property_warning_then_remaining_time(
    calendar: BusinessCalendar, t: datetime, n: int, w: int
) -> None:
    due = calendar.add(t, n, "h")
    assert _utc(calendar.subtract(due, 0, "m")) == _utc(due)
    warning = calendar.subtract(due, w, "m")
    assert calendar.open_time(warning, due) == timedelta(minutes=w)
    assert calendar.is_open(warning)
    # Counting the warning's DUR forward from it gives the due back (not for 0: a due at
    # a closing time plus 0 moves on to the next opening).
    assert _utc(calendar.add(warning, w, "m")) == _utc(due)


@settings(deadline=None)
@given(calendars, instants, instants, instants)
def test_property_open_time_is_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.open_time(a, b) + calendar.open_time(b, c) == calendar.open_time(a, c)
    assert calendar.open_time(a, c) <= c - a


@settings(deadline=None)
@given(calendars, instants)
def test_property_next_opening_is_open(calendar: BusinessCalendar, t: datetime) -> None:
    opening = calendar.next_opening(t)
    assert _utc(opening) >= t
    assert calendar.is_open(opening)
    assert calendar.open_time(t, opening) == timedelta(0)


@settings(deadline=None)
@given(calendars, instants, st.integers(0, 30))
def test_property_more_open_days_is_later(calendar: BusinessCalendar, t: datetime, n: int) -> None:
    earlier = calendar.add(t, n, "d")
    later = calendar.add(t, n + 1, "d")
    assert t <= _utc(earlier) < _utc(later)
    assert later.tzinfo == calendar.tz
