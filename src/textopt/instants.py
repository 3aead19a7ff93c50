"""Bounds on the instants callers give us: what happened cannot be in the future, a schedule
cannot be absurdly far away, and no instant may overflow when made UTC.

Every face (API, CLI, import, web) reaches these through the domain services, so a bad
instant is one `ValidationError` naming its field (a 4xx, a one-line CLI error), never a
500 and never a silent clamp.
"""

from __future__ import annotations

import datetime as dt

from textopt.errors import ValidationError

__all__ = [
    "MAX_CLOCK_SKEW",
    "MAX_SCHEDULE_AHEAD",
    "check_happened",
    "check_scheduled",
    "utc_instant",
]

#: How far in the future "something that happened" may be stamped (clocks differ a little).
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
#: How far ahead a start or an expiry may be set.
MAX_SCHEDULE_AHEAD = dt.timedelta(days=366)


def utc_instant(value: dt.datetime, *, field: str) -> dt.datetime:
    """`value` in UTC; refuses a naive instant and one that leaves the calendar in UTC."""
    if value.tzinfo is None:
        raise ValidationError(f"{field} needs a time zone offset", field=field)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValidationError(
            f"{field}: {value.isoformat()} is outside the dates we can store", field=field
        ) from exc


def check_happened(value: dt.datetime, *, now: dt.datetime, field: str) -> dt.datetime:
    """An instant at which something happened: not after `now` (plus a little clock skew)."""
    instant = utc_instant(value, field=field)
    if instant > now + MAX_CLOCK_SKEW:
        raise ValidationError(
            f"{field}: {value.isoformat()} is in the future; a consent or an event is "
            "recorded when it has happened",
            field=field,
        )
    return instant


def check_scheduled(value: dt.datetime, *, now: dt.datetime, field: str) -> dt.datetime:
    """A planned instant (a start, an expiry): at most `MAX_SCHEDULE_AHEAD` from `now`."""
    instant = utc_instant(value, field=field)
    if instant > now + MAX_SCHEDULE_AHEAD:
        raise ValidationError(
            f"{field}: {value.isoformat()} is more than {MAX_SCHEDULE_AHEAD.days} days ahead",
            field=field,
        )
    return instant
