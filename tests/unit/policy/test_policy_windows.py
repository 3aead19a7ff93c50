"""Allowed windows in one zone across DST changes, and their intersection across zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from textopt.errors import InvalidTimezone
from textopt.policy import (
    Calendar,
    WorkspacePolicy,
    day_intervals,
    describe_calendar,
    earliest_common,
    local_block,
    next_allowed,
    quiet_hours,
    select_pack,
    sending_calendar,
)

EVERY_DAY = frozenset(range(7))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def window(start: str, end: str) -> Calendar:
    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return Calendar(EVERY_DAY, minutes(start), minutes(end), None)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "expected"),
    [
        # Paris spring forward 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        ("Europe/Paris", "2026-03-29", "08:00", "20:00", [("06:00", "18:00")]),
        ("Europe/Paris", "2026-03-29", "02:30", "05:00", [("01:00", "03:00")]),  # opens at the jump
        ("Europe/Paris", "2026-03-29", "02:10", "02:50", []),  # wholly in the missing hour
        ("Europe/Paris", "2026-03-29", "00:00", "24:00", [("-23:00", "22:00")]),  # a 23 h day
        # Paris fall back 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC).
        ("Europe/Paris", "2026-10-25", "08:00", "20:00", [("07:00", "19:00")]),
        ("Europe/Paris", "2026-10-25", "02:00", "02:30", [("00:00", "00:30"), ("01:00", "01:30")]),
        ("Europe/Paris", "2026-10-25", "00:00", "24:00", [("-22:00", "23:00")]),  # a 25 h day
        # New York spring forward 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        ("America/New_York", "2026-03-08", "08:00", "21:00", [("12:00", "+01:00")]),
        ("America/New_York", "2026-03-08", "02:30", "03:30", [("07:00", "07:30")]),
        # New York fall back 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 twice.
        ("America/New_York", "2026-11-01", "08:00", "21:00", [("13:00", "+02:00")]),
        (
            "America/New_York",
            "2026-11-01",
            "01:00",
            "01:45",
            [("05:00", "05:45"), ("06:00", "06:45")],
        ),
        (
            "America/New_York",
            "2026-11-01",
            "01:30",
            "03:00",
            [("05:30", "06:00"), ("06:30", "08:00")],
        ),
    ],
)
def test_day_intervals_follow_the_wall_clock_through_dst(
    zone: str, day: str, start: str, end: str, expected: list[tuple[str, str]]
) -> None:
    date = dt.date.fromisoformat(day)

    def at(text: str) -> dt.datetime:
        # "-hh:mm": that UTC time on the day before; "+hh:mm": on the day after.
        shift = {"-": -1, "+": 1}.get(text[0], 0)
        hours, mins = text.lstrip("+-").split(":")
        base = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
        return base + dt.timedelta(days=shift, hours=int(hours), minutes=int(mins))

    got = day_intervals(zone, window(start, end), date)
    assert got == tuple((at(a), at(b)) for a, b in expected)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Paris", "2026-03-29"),
        ("Europe/Paris", "2026-10-25"),
        ("America/New_York", "2026-03-08"),
        ("America/New_York", "2026-11-01"),
        ("America/Santiago", "2026-04-05"),  # changes at midnight
        ("America/Santiago", "2026-09-06"),
        ("Australia/Lord_Howe", "2026-04-05"),  # a 30-minute change
    ],
)
@pytest.mark.parametrize(
    ("start", "end"), [("08:00", "20:00"), ("00:00", "02:30"), ("01:15", "03:45")]
)
def test_wall_clock_check_and_intervals_agree_minute_by_minute(
    zone: str, day: str, start: str, end: str
) -> None:
    calendar = window(start, end)
    date = dt.date.fromisoformat(day)
    first = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC) - dt.timedelta(hours=16)
    intervals = [
        iv
        for d in (date + dt.timedelta(days=shift) for shift in range(-2, 3))
        for iv in day_intervals(zone, calendar, d)
    ]
    for minute in range(0, 56 * 60, 5):
        instant = first + dt.timedelta(minutes=minute)
        inside = any(a <= instant < b for a, b in intervals)
        local = instant.astimezone(ZoneInfo(zone))
        wall = local.hour * 60 + local.minute
        expected = calendar.start <= wall < calendar.end
        assert inside is expected, instant
        assert (local_block(zone, calendar, instant) is None) is expected, instant


def test_next_allowed_crosses_the_spring_forward_night() -> None:
    calendar = window("08:00", "20:00")
    found = next_allowed(
        "Europe/Paris", calendar, utc("2026-03-28T20:00+01:00"), utc("2026-04-30T00:00Z")
    )
    assert found == utc("2026-03-29T08:00+02:00")


def test_next_allowed_returns_none_at_the_limit() -> None:
    calendar = window("08:00", "20:00")
    limit = utc("2026-03-29T08:00+02:00")
    assert next_allowed("Europe/Paris", calendar, utc("2026-03-28T20:00+01:00"), limit) is None


def test_earliest_common_instant_of_several_zones_is_allowed_in_each() -> None:
    calendar = window("08:00", "20:00")
    zones = ("Europe/Paris", "America/New_York")  # 6 h apart: 14:00-20:00 Paris
    found = earliest_common(
        zones, calendar, utc("2026-06-10T20:00+02:00"), utc("2026-07-01T00:00Z")
    )
    assert found == utc("2026-06-11T08:00-04:00")
    for zone in zones:
        assert local_block(zone, calendar, found) is None


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidTimezone, match="Mars/Olympus"):
        local_block("Mars/Olympus", window("08:00", "20:00"), utc("2026-06-10T12:00Z"))


def test_quiet_hours_come_from_the_recipients_pack_with_its_regions_holidays() -> None:
    france = sending_calendar(select_pack("FR"))
    moselle = sending_calendar(select_pack("FR", "57"))
    all_day = frozenset(range(24))
    outside_8_to_20 = frozenset(range(8)) | frozenset(range(20, 24))
    wednesday, good_friday, christmas = (
        dt.date(2026, 11, 25),
        dt.date(2026, 4, 3),
        dt.date(2026, 12, 25),
    )
    assert quiet_hours(france, wednesday) == outside_8_to_20
    assert quiet_hours(moselle, wednesday) == outside_8_to_20
    # Good Friday is a public holiday in Alsace-Moselle only; Christmas everywhere in France.
    assert quiet_hours(france, good_friday) == outside_8_to_20
    assert quiet_hours(moselle, good_friday) == all_day
    assert quiet_hours(france, christmas) == quiet_hours(moselle, christmas) == all_day
    assert quiet_hours(france, dt.date(2026, 11, 29)) == all_day  # a Sunday
    assert describe_calendar(france) == "Mon-Sat 08:00-20:00"


def test_quiet_hours_follow_the_workspaces_narrower_window_and_holiday_rule() -> None:
    workspace = WorkspacePolicy(earliest=dt.time(9, 30), latest=dt.time(18), block_holidays=True)
    germany = sending_calendar(select_pack("DE"), workspace)
    assert quiet_hours(germany, dt.date(2026, 11, 25)) == frozenset(range(10)) | frozenset(
        range(18, 24)
    )
    assert quiet_hours(germany, dt.date(2026, 10, 3)) == frozenset(range(24))  # Unity Day
