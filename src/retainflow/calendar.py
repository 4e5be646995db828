"""Business calendars: open-time arithmetic on timezone-aware instants in one IANA zone.

Input: a calendar's definition (IANA time zone, weekly local opening intervals, country
codes of the `holidays` package, explicit closed and open dates) and timezone-aware
instants with durations (`amount`, `unit`). Output: instants in the calendar's zone
(`add`, `subtract`, `next_opening`), open time between two instants (`open_time`) and
checks of a definition (`validate_intervals`, `known_country`, `known_timezone`).

    >>> ny = BusinessCalendar("ny", "America/New_York",
    ...                       [WeeklyInterval(d, 9 * 60, 17 * 60) for d in range(5)])
    >>> friday = datetime(2026, 3, 13, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    >>> ny.add(friday, 2, "h").isoformat()
    '2026-03-16T10:00:00-04:00'

The semantics are those of language.md, "Business calendars"; docs/calendars.md records
the choices made where it is silent. Nothing here reads the wall clock.
"""

from __future__ import annotations

import functools
import importlib.metadata
import zoneinfo
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import attrs
import holidays as _holidays

__all__ = [
    "DAY_NAMES",
    "BusinessCalendar",
    "WeeklyInterval",
    "find_overlaps",
    "format_interval",
    "known_country",
    "known_timezone",
    "validate_intervals",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_MINUTES_PER_DAY = 1440
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_ONE_DAY = timedelta(days=1)
# A calendar whose hours all fall on holidays for this long has no open time at all:
# searches stop there with a ValueError instead of looping forever.
_SEARCH_LIMIT_DAYS = 3660
_CACHE_LIMIT = 50_000

_Segment = tuple[datetime, datetime]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)  # _EPOCH + _ONE_US * n: the fastest exact way back
_THREE_DAYS = timedelta(days=3)


def _micros(t: datetime) -> int:
    """An aware instant as integer microseconds since the epoch (exact)."""
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_T = TypeVar("_T")


@attrs.frozen
class WeeklyInterval:
    """Local opening hours [open, close) that open every `weekday` (0 = Monday .. 6 = Sunday).

    `open_minute` is minutes after local midnight (0..1439); `close_minute` is 0..1440
    (1440 = 24:00). A close not after the open runs past midnight into the next day, and
    the interval still belongs to the day it opens (a holiday on that day closes it).
    """

    weekday: int
    open_minute: int
    close_minute: int

    @property
    def end_minute(self) -> int:
        """Close as minutes after the opening day's midnight (above 1440 for night hours)."""
        if self.close_minute > self.open_minute:
            return self.close_minute
        return self.close_minute + _MINUTES_PER_DAY

    @property
    def overnight(self) -> bool:
        return self.close_minute <= self.open_minute


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_interval(interval: WeeklyInterval) -> str:
    """`mon 09:00-17:00` as written in an `hours` line."""
    day = DAY_NAMES[interval.weekday] if 0 <= interval.weekday <= 6 else f"day{interval.weekday}"
    return f"{day} {_hhmm(interval.open_minute)}-{_hhmm(interval.close_minute)}"


def _range_problem(interval: WeeklyInterval) -> str | None:
    if not 0 <= interval.weekday <= 6:
        return f"weekday {interval.weekday} is not 0 (Monday) .. 6 (Sunday)"
    if not 0 <= interval.open_minute < _MINUTES_PER_DAY:
        return f"{format_interval(interval)}: an opening time must be 00:00..23:59"
    if not 0 <= interval.close_minute <= _MINUTES_PER_DAY:
        return f"{format_interval(interval)}: a closing time must be 00:00..24:00"
    return None


def find_overlaps(intervals: Sequence[WeeklyInterval]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of intervals that overlap in the weekly local time.

    Night intervals count into the next day (Sunday's into Monday). Touching intervals
    (`09:00-12:00, 12:00-17:00`) do not overlap. Intervals out of range are skipped.
    """
    spans: list[tuple[int, int, int]] = []
    for index, interval in enumerate(intervals):
        if _range_problem(interval) is None:
            start = interval.weekday * _MINUTES_PER_DAY + interval.open_minute
            spans.append((index, start, start + interval.end_minute - interval.open_minute))
    pairs: list[tuple[int, int]] = []
    for a, (i, start_i, end_i) in enumerate(spans):
        for j, start_j, end_j in spans[a + 1 :]:
            for shift in (-_MINUTES_PER_WEEK, 0, _MINUTES_PER_WEEK):
                if max(start_i, start_j + shift) < min(end_i, end_j + shift):
                    pairs.append((i, j))
                    break
    return pairs


def validate_intervals(intervals: Sequence[WeeklyInterval]) -> list[str]:
    """Problems of a calendar's hours (RF002), as messages; empty when the hours are valid.

    Reports no hours at all, values out of range, and every pair of overlapping intervals,
    including a night interval running into the next day's hours.
    """
    if not intervals:
        return ["a calendar needs at least one `hours` line"]
    problems = [p for p in map(_range_problem, intervals) if p is not None]
    for i, j in find_overlaps(intervals):
        problems.append(
            f"hours overlap: {format_interval(intervals[i])} and {format_interval(intervals[j])}"
        )
    return problems


@functools.cache
def _supported_countries() -> dict[str, frozenset[str]]:
    supported = _holidays.list_supported_countries(include_aliases=True)
    return {country: frozenset(subdivs) for country, subdivs in supported.items()}


def _split_country(code: str) -> tuple[str, str | None]:
    country, dash, subdiv = code.partition("-")
    return country, (subdiv if dash else None)


def known_country(code: str) -> bool:
    """Whether the `holidays` package knows `code`: a country ("PH") or "CC-SUB" ("GB-SCT")."""
    country, subdiv = _split_country(code)
    subdivs = _supported_countries().get(country)
    if subdivs is None:
        return False
    return subdiv is None or subdiv in subdivs


@functools.cache
def _available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone that zoneinfo (with tzdata) can load."""
    if name not in _available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _country_holidays(code: str, year: int) -> frozenset[date]:
    """Public holidays the `holidays` package lists when it computes `year` for `code`."""
    country, subdiv = _split_country(code)
    table = _holidays.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(table.keys())


def _as_utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"a calendar needs a timezone-aware time, got {t.isoformat()}")
    return t.astimezone(UTC)


class BusinessCalendar:
    """Opening hours of one time zone, with holidays; arithmetic in open time.

    Holidays: the public holidays of `countries` (any year, computed lazily) and
    `closed_dates` close the intervals that open on those local dates; a date in
    `open_dates` is open with its usual hours, whatever the other two say.
    """

    #: The `holidays` release whose data decides the country holidays (recorded when compiling).
    holidays_version: str = importlib.metadata.version("holidays")

    def __init__(
        self,
        name: str,
        timezone: str,
        intervals: Sequence[WeeklyInterval],
        countries: Sequence[str] = (),
        closed_dates: Sequence[date] = (),
        open_dates: Sequence[date] = (),
    ) -> None:
        if not known_timezone(timezone):
            raise ValueError(f"calendar {name}: unknown time zone {timezone!r}")
        problems = validate_intervals(intervals)
        if problems:
            raise ValueError(f"calendar {name}: " + "; ".join(problems))
        unknown = [code for code in countries if not known_country(code)]
        if unknown:
            raise ValueError(f"calendar {name}: unknown country code(s) {', '.join(unknown)}")
        self.name = name
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.intervals: tuple[WeeklyInterval, ...] = tuple(intervals)
        self.countries: tuple[str, ...] = tuple(countries)
        self.closed_dates: frozenset[date] = frozenset(closed_dates)
        self.open_dates: frozenset[date] = frozenset(open_dates)
        by_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for interval in self.intervals:
            by_day[interval.weekday].append((interval.open_minute, interval.end_minute))
        # Per weekday: (open, end) minutes after the opening day's midnight, by opening.
        self._weekly: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple(sorted(day)) for day in by_day
        )
        # Per-date caches (bounded): the engine asks about the same few weeks again and again.
        self._raw: dict[date, tuple[_Segment, ...]] = {}
        self._segments: dict[date, tuple[_Segment, ...]] = {}
        self._open_days: dict[date, bool] = {}
        # `_day_segments` as integer microseconds since the epoch (the engine's fast paths)
        self._micro_segments: dict[date, tuple[tuple[int, int], ...]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name!r}, {self.timezone!r})"

    # -- days -------------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        """Whether the local date `day` is closed by a holiday (its hours do not open)."""
        if day in self.open_dates:
            return False
        if day in self.closed_dates:
            return True
        years = (day.year - 1, day.year, day.year + 1)
        return any(
            day in _country_holidays(code, year)
            for code in self.countries
            for year in years
            if 1 <= year <= 9999
        )

    def is_open_day(self, day: date) -> bool:
        """A local date on which at least one interval opens and that is not a holiday.

        A date the zone skipped entirely (Pacific/Apia, 2011-12-30) is never an open day.
        """
        cached = self._open_days.get(day)
        if cached is None:
            cached = (
                bool(self._weekly[day.weekday()])
                and not self.is_holiday(day)
                and self._local(day + _ONE_DAY, 0) > self._local(day, 0)
            )
            self._store(self._open_days, day, cached)
        return cached

    def _local(self, day: date, minute: int, seconds: int = 0, micros: int = 0) -> datetime:
        """The UTC instant of a local wall time; gaps move forward, repeats take the first."""
        if not 0 <= minute < _MINUTES_PER_DAY:
            day = day + timedelta(days=minute // _MINUTES_PER_DAY)
            minute %= _MINUTES_PER_DAY
        hour, minute = divmod(minute, 60)
        wall = datetime(day.year, day.month, day.day, hour, minute, seconds, micros, tzinfo=self.tz)
        return wall.astimezone(UTC)

    def _raw_segments(self, day: date) -> tuple[_Segment, ...]:
        """UTC [start, end) of the intervals that open on local date `day`, by start."""
        cached = self._raw.get(day)
        if cached is None:
            segments: list[_Segment] = []
            if self.is_open_day(day):
                for open_minute, end_minute in self._weekly[day.weekday()]:
                    start = self._local(day, open_minute)
                    end = self._local(day, end_minute)
                    if end > start:  # a DST gap may swallow a short interval entirely
                        segments.append((start, end))
            cached = self._store(self._raw, day, tuple(sorted(segments)))
        return cached

    def _day_segments(self, day: date) -> tuple[_Segment, ...]:
        """The open time that `day`'s intervals add, as disjoint UTC segments by start.

        Valid hours never overlap in local time, but a time-zone change can make them
        overlap as instants (Samoa skipped 2011-12-30, so Thursday's night interval ran
        into Saturday's hours). Clipping each day's segments to start after everything
        the days before it hold makes the segments of all days disjoint and ordered, so
        walking forward and walking back see the same open time.
        """
        cached = self._segments.get(day)
        if cached is None:
            before = [end for k in (3, 2, 1) for _, end in self._raw_segments(day - k * _ONE_DAY)]
            last = max(before, default=None)
            segments: list[_Segment] = []
            for start, end in self._raw_segments(day):
                if last is not None:
                    start = max(start, last)
                if end > start:
                    segments.append((start, end))
                    last = end if last is None else max(last, end)
            cached = self._store(self._segments, day, tuple(segments))
        return cached

    @staticmethod
    def _store(cache: dict[date, _T], day: date, value: _T) -> _T:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[day] = value
        return value

    def _local_date(self, t_utc: datetime) -> date:
        return t_utc.astimezone(self.tz).date()

    # -- walking open time ------------------------------------------------------------

    def _forward(self, t_utc: datetime) -> Iterator[_Segment]:
        """Open segments after `t_utc`, in order, disjoint, the first clipped to start at t."""
        day = self._local_date(t_utc) - timedelta(days=3)
        last_end = t_utc
        idle = 0
        while True:
            segments = self._day_segments(day)
            for start, end in segments:
                start = max(start, last_end)
                if end > start:
                    yield start, end
                    last_end = end
            idle = 0 if segments else idle + 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar {self.name} has no open time after {t_utc}")
            day += _ONE_DAY

    def _backward(self, t_utc: datetime) -> Iterator[_Segment]:
        """Open segments before `t_utc`, latest first, disjoint, the first clipped to end at t."""
        day = self._local_date(t_utc) + _ONE_DAY
        last_start = t_utc
        idle = 0
        while True:
            segments = self._day_segments(day)
            for start, end in reversed(segments):
                end = min(end, last_start)
                if end > start:
                    yield start, end
                    last_start = start
            idle = 0 if segments else idle + 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar {self.name} has no open time before {t_utc}")
            day -= _ONE_DAY

    def _next_opening_utc(self, t_utc: datetime) -> datetime:
        return next(self._forward(t_utc))[0]

    def _segments_us(self, day: date) -> tuple[tuple[int, int], ...]:
        found = self._micro_segments.get(day)
        if found is None:
            found = tuple((_micros(start), _micros(end)) for start, end in self._day_segments(day))
            found = self._store(self._micro_segments, day, found)
        return found

    def _next_opening_us(self, t_utc: datetime) -> int:
        """`_next_opening_utc` on microseconds: the walk of `_forward`, without a generator."""
        t_us = _micros(t_utc)
        day = t_utc.astimezone(self.tz).date() - _THREE_DAYS
        cache = self._micro_segments
        idle = 0
        while True:
            segments = cache.get(day)
            if segments is None:
                segments = self._segments_us(day)
            for start, end in segments:
                if start < t_us:
                    start = t_us
                if end > start:
                    return start
            idle = 0 if segments else idle + 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar {self.name} has no open time after {t_utc}")
            day += _ONE_DAY

    # -- fast paths for the engine (same results as the methods below, in UTC) ----------

    def add_utc(self, t: datetime, amount: int, unit: str) -> datetime:
        """`add(t, amount, unit)` as a UTC datetime: the engine's deadlines. Walks the
        same segments as `add`, on integer microseconds and without generators (several
        times faster; every instant of a case is new, so memos rarely hit)."""
        seconds = _UNIT_SECONDS.get(unit)
        if amount <= 0 or (seconds is None and unit != "d"):
            return self.add(t, amount, unit).astimezone(UTC)
        t_utc = t if t.tzinfo is UTC else _as_utc(t)
        if seconds is None:
            return self._add_days_fast(t_utc, amount)
        remaining = amount * seconds * 1_000_000
        last_end = _micros(t_utc)
        day = t_utc.astimezone(self.tz).date() - _THREE_DAYS
        cache = self._micro_segments
        idle = 0
        while True:
            segments = cache.get(day)
            if segments is None:
                segments = self._segments_us(day)
            for start, end in segments:
                if start < last_end:
                    start = last_end
                if end > start:
                    if remaining <= end - start:
                        return _EPOCH + _ONE_US * (start + remaining)
                    remaining -= end - start
                    last_end = end
            idle = 0 if segments else idle + 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar {self.name} has no open time after {t_utc}")
            day += _ONE_DAY

    def subtract_utc(self, t: datetime, amount: int, unit: str) -> datetime:
        """`subtract(t, amount, unit)` as a UTC datetime (see `add_utc`)."""
        seconds = _UNIT_SECONDS.get(unit)
        if amount <= 0 or seconds is None:
            return self.subtract(t, amount, unit).astimezone(UTC)
        t_utc = t if t.tzinfo is UTC else _as_utc(t)
        remaining = amount * seconds * 1_000_000
        last_start = _micros(t_utc)
        day = t_utc.astimezone(self.tz).date() + _ONE_DAY
        cache = self._micro_segments
        idle = 0
        while True:
            segments = cache.get(day)
            if segments is None:
                segments = self._segments_us(day)
            for start, end in reversed(segments):
                if end > last_start:
                    end = last_start
                if end > start:
                    if remaining <= end - start:
                        return _EPOCH + _ONE_US * (end - remaining)
                    remaining -= end - start
                    last_start = start
            idle = 0 if segments else idle + 1
            if idle > _SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar {self.name} has no open time before {t_utc}")
            day -= _ONE_DAY

    def _add_days_fast(self, t_utc: datetime, amount: int) -> datetime:
        """`_add_days` (amount > 0) with the opening walks on microseconds."""
        begin = _EPOCH + _ONE_US * self._next_opening_us(t_utc)
        local = begin.astimezone(self.tz)
        day = local.date()
        open_days = self._open_days
        for _ in range(amount):  # as `_next_open_day`, with the cache looked up inline
            after = day
            for _ in range(_SEARCH_LIMIT_DAYS):
                day += _ONE_DAY
                found = open_days.get(day)
                if found is None:
                    found = self.is_open_day(day)
                if found:
                    break
            else:
                raise ValueError(f"calendar {self.name} has no open day after {after}")
        target = self._local(day, local.hour * 60 + local.minute, local.second, local.microsecond)
        target_us = _micros(target)
        first = self._next_opening_us(target)
        if first == target_us:
            return target
        segments = self._segments_us(day)
        later = [start for start, _ in segments if start > target_us]
        if later:
            return _EPOCH + _ONE_US * min(later)
        if segments:
            return _EPOCH + _ONE_US * max(end for _, end in segments)
        return _EPOCH + _ONE_US * first

    # -- public arithmetic ------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """Whether `t` lies inside open hours ([open, close): a closing instant is closed)."""
        t_utc = _as_utc(t)
        return self._next_opening_utc(t_utc) == t_utc

    def next_opening(self, t: datetime) -> datetime:
        """`t` itself if open, else the next opening instant, in the calendar's zone."""
        return self._next_opening_utc(_as_utc(t)).astimezone(self.tz)

    def add(self, t: datetime, amount: int, unit: str) -> datetime:
        """`t + amount unit in CAL`; unit `s`, `m`, `h` (open time) or `d` (open days)."""
        t_utc = _as_utc(t)
        if amount < 0:
            raise ValueError(f"a calendar duration cannot be negative, got {amount}{unit}")
        if unit == "d":
            return self._add_days(t_utc, amount).astimezone(self.tz)
        remaining = self._span(amount, unit, "a duration in a calendar takes s, m, h or d")
        if not remaining:
            return self._next_opening_utc(t_utc).astimezone(self.tz)
        for start, end in self._forward(t_utc):
            if remaining <= end - start:
                return (start + remaining).astimezone(self.tz)
            remaining -= end - start
        raise AssertionError("unreachable: _forward never ends")  # pragma: no cover

    def subtract(self, t: datetime, amount: int, unit: str) -> datetime:
        """`amount unit before t, in CAL`: counts open time back (`s`, `m`, `h` only).

        The result is the moment the count is used up, walking back: the latest instant
        with `amount` of open time between it and `t` (so possibly an opening time).
        """
        t_utc = _as_utc(t)
        if amount < 0:
            raise ValueError(f"a calendar duration cannot be negative, got {amount}{unit}")
        remaining = self._span(amount, unit, "counting back in a calendar takes s, m or h")
        if not remaining:
            return t_utc.astimezone(self.tz)
        for start, end in self._backward(t_utc):
            if remaining <= end - start:
                return (end - remaining).astimezone(self.tz)
            remaining -= end - start
        raise AssertionError("unreachable: _backward never ends")  # pragma: no cover

    def open_time(self, start: datetime, end: datetime) -> timedelta:
        """Open (real, elapsed) time between two instants; zero if `end` is not after `start`."""
        start_utc, end_utc = _as_utc(start), _as_utc(end)
        total = timedelta(0)
        if end_utc <= start_utc:
            return total
        for seg_start, seg_end in self._forward(start_utc):
            if seg_start >= end_utc:
                break
            total += min(seg_end, end_utc) - seg_start
        return total

    @staticmethod
    def _span(amount: int, unit: str, what: str) -> timedelta:
        seconds = _UNIT_SECONDS.get(unit)
        if seconds is None:
            raise ValueError(f"{what}, not {unit!r}")
        return timedelta(seconds=amount * seconds)

    def _add_days(self, t_utc: datetime, amount: int) -> datetime:
        begin = self._next_opening_utc(t_utc)
        if amount == 0:
            return begin
        local = begin.astimezone(self.tz)
        day = local.date()
        for _ in range(amount):
            day = self._next_open_day(day)
        wall = local.time()
        target = self._local(day, wall.hour * 60 + wall.minute, wall.second, wall.microsecond)
        first = self._next_opening_utc(target)
        if first == target:
            return target
        segments = self._day_segments(day)
        later = [start for start, _ in segments if start > target]
        if later:
            return min(later)
        if segments:
            return max(end for _, end in segments)
        return first  # only when a DST gap swallowed that day's every interval

    def _next_open_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT_DAYS):
            day += _ONE_DAY
            if self.is_open_day(day):
                return day
        raise ValueError(f"calendar {self.name} has no open day after {day}")

    def open_days(self, start: date, end: date) -> Iterator[date]:
        """The open days from `start` to `end` inclusive (for reports and tooling)."""
        day = start
        while day <= end:
            if self.is_open_day(day):
                yield day
            day += _ONE_DAY
