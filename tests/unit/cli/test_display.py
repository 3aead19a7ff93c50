"""What the CLI shows people: instants in a zone without microseconds, an aligned histogram."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from textopt.cli.display import HOUR_LABELS, counted, hour_bars, human_instant, send_time_histogram

PARIS = ZoneInfo("Europe/Paris")


def test_an_instant_is_shown_in_the_zone_to_the_second_without_microseconds() -> None:
    given = dt.datetime(2025, 11, 14, 9, 12, 30, 575033, tzinfo=dt.UTC)  # 10:12:30 in Paris
    assert human_instant(given, PARIS) == "2025-11-14 10:12:30 CET"
    assert human_instant(given, PARIS, seconds=False) == "2025-11-14 10:12 CET"
    assert human_instant(given.isoformat(), ZoneInfo("America/New_York")) == (
        "2025-11-14 04:12:30 EST"
    )


def test_an_instant_of_the_same_local_day_is_shown_as_its_time() -> None:
    now = dt.datetime(2026, 12, 7, 0, 30, tzinfo=dt.UTC)  # 01:30 in Paris
    eight = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)
    assert human_instant(eight, PARIS, seconds=False, now=now) == "08:00 CET"
    tomorrow = eight + dt.timedelta(days=1)
    assert human_instant(tomorrow, PARIS, seconds=False, now=now) == "2026-12-08 08:00 CET"


def test_a_missing_instant_is_shown_as_nothing_and_a_naive_one_as_utc() -> None:
    assert human_instant(None, PARIS) == ""
    assert human_instant(dt.datetime(2026, 7, 1, 12, 0), PARIS) == "2026-07-01 14:00:00 CEST"


def test_the_hour_labels_stand_above_their_hour_cells() -> None:
    assert len(HOUR_LABELS) == 24
    for hour in (0, 6, 12, 18):
        assert HOUR_LABELS[hour : hour + 2] == f"{hour:02d}"
    assert HOUR_LABELS.endswith("23")
    hours = [0] * 24
    hours[8], hours[12] = 5, 10
    bars = hour_bars(hours)
    assert len(bars) == 24
    assert (bars[8], bars[12], bars[0]) == ("▄", "█", "·")
    assert hour_bars([1] + [800] + [0] * 22)[0] == "▁"  # a few sends still show


def test_the_printed_histogram_puts_each_bar_under_its_hour() -> None:
    hours = [0] * 24
    hours[12] = 3
    console = Console(width=80, record=True, color_system=None)
    console.print(send_time_histogram({"2026-12-07 Mon": hours}, title="send times"))
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "06" in line and "18" in line)
    row = next(line for line in lines if "2026-12-07 Mon" in line)
    assert row.index("█") == header.index("12")
    assert row.index("·") == header.index("00")


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 contacts"), (1, "1 contact"), (2, "2 contacts"), (2976, "2,976 contacts")],
)
def test_a_count_takes_the_singular_for_exactly_one(count: int, expected: str) -> None:
    assert counted(count, "contact") == expected
