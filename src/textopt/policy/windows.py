"""Allowed sending windows in one time zone, DST-correct, and their intersection across zones.

An instant is allowed in a zone when its local wall-clock time falls on an allowed day that
is not a public holiday, at or after the window's start and before its end. The allowed
instants of one local day are computed by splitting the day into spans of constant UTC
offset: on a spring-forward day a window starting inside the missing hour opens when the
clocks jump; on a fall-back day a wall time that happens twice is allowed both times when
it lies inside the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from textopt.errors import InvalidTimezone

__all__ = [
    "Calendar",
    "day_intervals",
    "earliest_common",
    "holiday_name",
    "local_block",
    "next_allowed",
    "quiet_hours",
    "wall_clock_block",
    "zone",
]

UTC = dt.UTC
_SUNDAY = 6
_DAY = dt.timedelta(days=1)
# Every UTC offset in the tz database lies within these bounds.
_MAX_EAST = dt.timedelta(hours=15)
_MAX_WEST = dt.timedelta(hours=13)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The timing rules for one recipient: allowed days, daily window, holidays."""

    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after local midnight, inclusive
    end: int  # minutes after local midnight, exclusive (1440 = end of day)
    holiday_country: str | None  # None: holidays do not matter
    holiday_subdivision: str | None = None


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or InvalidTimezone."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise InvalidTimezone(f"unknown time zone {name!r}", field="timezone") from exc


@lru_cache(maxsize=1024)
def _holidays(country: str, subdivision: str | None, year: int) -> dict[dt.date, str]:
    """Public holidays of `country` (and subdivision) in `year`; empty if unknown."""
    try:
        table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:
        if subdivision is None:
            return {}
        return _holidays(country, None, year)
    return dict(table.items())


def holiday_name(calendar: Calendar, day: dt.date) -> str | None:
    """The name of the public holiday on `day` under `calendar`, or None."""
    if calendar.holiday_country is None:
        return None
    return _holidays(calendar.holiday_country, calendar.holiday_subdivision, day.year).get(day)


def quiet_hours(calendar: Calendar, day: dt.date) -> frozenset[int]:
    """The local hours of `day` not wholly allowed: all of them on a closed day or holiday."""
    if day.weekday() not in calendar.days or holiday_name(calendar, day) is not None:
        return frozenset(range(24))
    return frozenset(
        hour for hour in range(24) if hour * 60 < calendar.start or (hour + 1) * 60 > calendar.end
    )


def local_block(zone_name: str, calendar: Calendar, instant: dt.datetime) -> str | None:
    """Why `instant` is not allowed in the zone (`holiday`, `sunday`, `closed_day`,
    `quiet_hours`), or None when it is allowed."""
    return wall_clock_block(calendar, instant.astimezone(zone(zone_name)))


def wall_clock_block(calendar: Calendar, local: dt.datetime) -> str | None:
    """`local_block` for an instant already expressed in the zone's local time."""
    day = local.date()
    if holiday_name(calendar, day) is not None:
        return "holiday"
    weekday = day.weekday()
    if weekday not in calendar.days:
        return "sunday" if weekday == _SUNDAY else "closed_day"
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    if calendar.start * 60 <= seconds < calendar.end * 60:
        return None
    return "quiet_hours"


def _offset(tz: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return offset


def _transition(tz: ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """The first instant in (low, high] whose offset differs from low's (to the second)."""
    before = _offset(tz, low)
    lo, hi = 0, int((high - low).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(tz, low + dt.timedelta(seconds=mid)) == before:
            lo = mid
        else:
            hi = mid
    return low + dt.timedelta(seconds=hi)


@lru_cache(maxsize=65536)
def day_intervals(
    zone_name: str, calendar: Calendar, day: dt.date
) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """The UTC intervals [start, end) of allowed instants whose local date is `day`."""
    if day.weekday() not in calendar.days or holiday_name(calendar, day) is not None:
        return ()
    tz = zone(zone_name)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    wall_start = midnight + dt.timedelta(minutes=calendar.start)
    wall_end = midnight + dt.timedelta(minutes=calendar.end)
    # Instants whose wall time may lie in the window, as UTC; split where the offset changes.
    low, high = wall_start - _MAX_EAST, wall_end + _MAX_WEST
    spans: list[tuple[dt.datetime, dt.datetime, dt.timedelta]] = []
    cursor = low
    while True:
        offset = _offset(tz, cursor)
        if _offset(tz, high) == offset:
            spans.append((cursor, high, offset))
            break
        change = _transition(tz, cursor, high)
        spans.append((cursor, change, offset))
        cursor = change
    intervals: list[tuple[dt.datetime, dt.datetime]] = []
    for span_start, span_end, offset in spans:
        # Within a span the wall time is the UTC time plus the offset.
        start = max(span_start, wall_start - offset)
        end = min(span_end, wall_end - offset)
        if start < end:
            if intervals and intervals[-1][1] == start:
                intervals[-1] = (intervals[-1][0], end)
            else:
                intervals.append((start, end))
    return tuple(intervals)


def next_allowed(
    zone_name: str, calendar: Calendar, instant: dt.datetime, limit: dt.datetime
) -> dt.datetime | None:
    """The earliest allowed instant at or after `instant` and before `limit`, or None."""
    day = instant.astimezone(zone(zone_name)).date() - _DAY  # a fall-back may revisit a date
    last = limit.astimezone(zone(zone_name)).date() + _DAY
    while day <= last:
        for start, end in day_intervals(zone_name, calendar, day):
            if end > instant:
                found = max(start, instant)
                return found if found < limit else None
        day += _DAY
    return None


def earliest_common(
    zones: tuple[str, ...],
    calendar: Calendar,
    instant: dt.datetime,
    limit: dt.datetime,
) -> dt.datetime | None:
    """The earliest instant in [instant, limit) allowed in every zone, or None."""
    current = instant
    while True:
        moved = False
        for name in zones:
            found = next_allowed(name, calendar, current, limit)
            if found is None:
                return None
            if found != current:
                current, moved = found, True
        if not moved:
            return current
