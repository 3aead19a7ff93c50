"""Flow timing: durations, local hours, dates without offsets read in the recipient's zone,
anniversaries (29 February included) across a change of clocks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from textopt.flows.timing import (
    at_local_hour,
    format_duration,
    next_yearly,
    parse_date_value,
    parse_duration,
    recipient_zone,
)

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2h", dt.timedelta(hours=2)),
        ("3d", dt.timedelta(days=3)),
        ("1d12h", dt.timedelta(days=1, hours=12)),
        ("90m", dt.timedelta(minutes=90)),
        ("2w", dt.timedelta(weeks=2)),
        ("24x", None),
        ("h2", None),
        ("", None),
        ("800d", None),
    ],
)
def test_durations(text: str, span: dt.timedelta | None) -> None:
    assert parse_duration(text) == span
    if span is not None:
        assert parse_duration(format_duration(span)) == span


def test_a_local_hour_follows_the_change_of_clocks() -> None:
    summer = dt.datetime(2026, 7, 1, 3, 0, tzinfo=dt.UTC)
    winter = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    assert at_local_hour(summer, (10, 0), PARIS) == dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    assert at_local_hour(winter, (10, 0), PARIS) == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_a_date_without_offset_is_read_in_the_recipient_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    assert parse_date_value("2026-12-10T09:00", new_york) == dt.datetime(
        2026, 12, 10, 14, 0, tzinfo=dt.UTC
    )
    assert parse_date_value("2026-12-10T09:00Z", new_york) == dt.datetime(
        2026, 12, 10, 9, 0, tzinfo=dt.UTC
    )
    assert parse_date_value("2026-12-10", PARIS) == dt.datetime(2026, 12, 9, 23, 0, tzinfo=dt.UTC)
    assert parse_date_value("demain", PARIS) is None
    assert parse_date_value(42, PARIS) is None


def test_an_anniversary_is_the_next_one_at_the_local_hour() -> None:
    after = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert next_yearly("1990-11-25", hour=(10, 0), where=PARIS, after=after) == (
        2027,
        dt.datetime(2027, 11, 25, 9, 0, tzinfo=dt.UTC),
    )
    assert next_yearly("--11-27", hour=(10, 0), where=PARIS, after=after) == (
        2026,
        dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC),
    )
    leap = next_yearly("2000-02-29", hour=(10, 0), where=PARIS, after=after)
    assert leap == (2027, dt.datetime(2027, 2, 28, 9, 0, tzinfo=dt.UTC))
    assert next_yearly("soon", hour=(10, 0), where=PARIS, after=after) is None


def test_the_recipient_zone_is_theirs_else_their_number_else_the_workspace() -> None:
    assert recipient_zone("America/Chicago", ["Europe/Paris"], "UTC").key == "America/Chicago"
    assert recipient_zone(None, ["Europe/Paris"], "UTC").key == "Europe/Paris"
    assert recipient_zone(None, [], "Europe/Berlin").key == "Europe/Berlin"
    assert recipient_zone("Not/AZone", [], "Europe/Berlin").key == "Europe/Berlin"
