"""Flow timing, pure: durations (`2h`, `3d`), times relative to a date (`appointment_at - 24h`),
local hours (`10:00` in the recipient's zone) and yearly dates (birthdays).

Values in, values out: `now` and zones are arguments. Local times that a change of clocks
skips or repeats resolve as `zoneinfo` does (`fold = 0`): 02:30 on a spring-forward night
is 03:30, the first 01:30 of an autumn night is taken.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from textopt.errors import ValidationError
from textopt.policy.windows import zone

__all__ = [
    "DURATION_RULE",
    "LocalHour",
    "at_local_hour",
    "format_duration",
    "next_yearly",
    "parse_date_value",
    "parse_duration",
    "parse_local_hour",
    "recipient_zone",
]

_PART = re.compile(r"(\d{1,5})([mhdw])")
_UNIT = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
#: The longest wait a flow may hold: two years (a yearly date is a trigger, not a wait).
MAX_DURATION = dt.timedelta(days=731)
#: What a duration may be, as the error messages say it.
DURATION_RULE = "a number and a unit m, h, d or w, possibly several (90m, 2h, 3d, 1d12h, 2w)"
_HOUR = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_duration(raw: str) -> dt.timedelta | None:
    """`2h`, `3d`, `1d12h`, `90m`, `2w` as a timedelta (at most two years), or None."""
    text = raw.strip().lower().replace(" ", "")
    if not text:
        return None
    total = 0
    position = 0
    for match in _PART.finditer(text):
        if match.start() != position:
            return None
        total += int(match.group(1)) * _UNIT[match.group(2)]
        position = match.end()
    if position != len(text):
        return None
    span = dt.timedelta(seconds=total)
    return span if span <= MAX_DURATION else None


def format_duration(span: dt.timedelta) -> str:
    """A timedelta written back as a duration (`1d12h`, `0m` for nothing)."""
    seconds = int(span.total_seconds())
    parts = []
    for unit in ("w", "d", "h", "m"):
        count, seconds = divmod(seconds, _UNIT[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


LocalHour = tuple[int, int]


def parse_local_hour(raw: str, *, field: str) -> LocalHour:
    """`10:00` as (10, 0); a ValidationError naming `field` otherwise."""
    match = _HOUR.fullmatch(raw.strip())
    if match is None:
        raise ValidationError(
            f"{field}: {raw.strip()[:20]!r} is not a local time like 10:00 (00:00 to 23:59)",
            field=field,
        )
    return int(match.group(1)), int(match.group(2))


def recipient_zone(timezone: str | None, timezones: Sequence[str], default: str) -> ZoneInfo:
    """The zone a person's flow times are read in: their own, else their number's first
    candidate (the policy still judges quiet hours in every candidate), else the workspace's."""
    for name in (timezone, *timezones, default):
        if name:
            try:
                return zone(name)
            except ValidationError:
                continue
    return ZoneInfo("UTC")


def at_local_hour(instant: dt.datetime, hour: LocalHour, where: ZoneInfo) -> dt.datetime:
    """The instant at `hour` on the local day of `instant` in `where`, in UTC."""
    local = instant.astimezone(where)
    wall = dt.datetime.combine(local.date(), dt.time(hour[0], hour[1]), tzinfo=where)
    return wall.astimezone(dt.UTC)


def parse_date_value(value: object, where: ZoneInfo) -> dt.datetime | None:
    """A stored date or date-time as an instant: ISO-8601 text (`2026-12-08T10:30:00+01:00`,
    `2026-12-08 10:30`, `2026-12-08`); a local time without offset is read in `where`, a
    bare date is its local midnight. None for anything else."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and 8 <= len(value.strip()) <= 40:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=where)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        return None


def _month_day(value: object) -> tuple[int, int] | None:
    if isinstance(value, dt.date):
        return value.month, value.day
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("--"):  # ISO 8601 without a year: --05-12
        text = "2000" + text[1:]
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return day.month, day.day


def next_yearly(
    value: object, *, hour: LocalHour, where: ZoneInfo, after: dt.datetime
) -> tuple[int, dt.datetime] | None:
    """The first anniversary of a date (`1990-05-12`, `--05-12`) at `hour` local time that is
    not before `after`, as (year, instant in UTC); 29 February is kept on 28 February in
    common years. None when `value` is not a date."""
    month_day = _month_day(value)
    if month_day is None:
        return None
    month, day = month_day
    local = after.astimezone(where)
    for year in (local.year, local.year + 1):
        wanted = day if (month, day) != (2, 29) or _leap(year) else 28
        wall = dt.datetime(year, month, wanted, hour[0], hour[1], tzinfo=where)
        instant = wall.astimezone(dt.UTC)
        if instant >= after:
            return year, instant
    return None


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
