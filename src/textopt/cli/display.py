"""How the CLI shows values people read: instants in a time zone, the send-time histogram.

`--json` output keeps ISO 8601 with its offset; these are for the human output only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from rich.table import Table

from textopt.config import get_settings

__all__ = [
    "HOUR_LABELS",
    "counted",
    "hour_bars",
    "human_instant",
    "person_zone",
    "send_time_histogram",
    "workspace_zone",
]


def counted(count: int, one: str, many: str | None = None) -> str:
    """`1 contact`, `2,976 contacts`: a count and its word, singular for exactly one."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def workspace_zone() -> ZoneInfo:
    """The workspace's time zone (`workspace_timezone`), in which the CLI prints instants."""
    return ZoneInfo(get_settings().workspace_timezone)


def person_zone(timezone: str | None, timezones: Sequence[str]) -> ZoneInfo:
    """A contact's own zone (set, or the only one of its number), else the workspace's."""
    if timezone:
        return ZoneInfo(timezone)
    if len(timezones) == 1:
        return ZoneInfo(timezones[0])
    return workspace_zone()


def human_instant(
    value: dt.datetime | str | None,
    zone: ZoneInfo | None = None,
    *,
    seconds: bool = True,
    now: dt.datetime | None = None,
) -> str:
    """An instant as `2026-12-07 10:12:30 CET` in `zone` (the workspace's); "" for none.

    With `now`, an instant on the same local day is shown as its time only (`08:00 CET`).
    An ISO 8601 string (as the JSON-shaped dictionaries hold) is read first.
    """
    if value is None or value == "":
        return ""
    instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:  # stored instants are UTC
        instant = instant.replace(tzinfo=dt.UTC)
    local = instant.astimezone(zone or workspace_zone())
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if now is not None and now.astimezone(local.tzinfo).date() == local.date():
        return local.strftime(f"{clock} %Z")
    return local.strftime(f"%Y-%m-%d {clock} %Z")


def _hour_labels() -> str:
    """24 characters, one per hour, with 00, 06, 12, 18 and 23 above their hour's cell."""
    cells = [" "] * 24
    for start, label in ((0, "00"), (6, "06"), (12, "12"), (18, "18"), (22, "23")):
        cells[start : start + 2] = label
    return "".join(cells)


#: The histogram's header: each hour's label starts above that hour's cell (23 ends there).
HOUR_LABELS = _hour_labels()

_LEVELS = " ▁▂▃▄▅▆▇█"


def hour_bars(hours: Sequence[int]) -> str:
    """One character per hour (24): a bar scaled to the busiest hour, `·` for none."""
    peak = max(hours, default=0) or 1
    return "".join(_LEVELS[max(1, min(8, round(8 * h / peak)))] if h else "·" for h in hours)


def send_time_histogram(by_day: Mapping[str, Iterable[int]], *, title: str) -> Table:
    """A table of send times per day and local hour, its header aligned on the hour cells."""
    table = Table(title=title)
    table.add_column("day", no_wrap=True)
    table.add_column(HOUR_LABELS, no_wrap=True, min_width=24)
    for day, hours in sorted(by_day.items()):
        table.add_row(day, hour_bars(list(hours)))
    return table
