"""Frequency caps over rolling windows, from the instants of past and planned sends.

A cap "at most N per W" holds when every half-open window (x - W, x] holds at most N sends.
A new send at t is allowed when adding it keeps that true for every window containing t,
including windows that also contain sends planned after t.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "PERSONAL_LABEL",
    "PERSONAL_LIMITS",
    "Cap",
    "cap_allows",
    "cap_next_allowed",
    "personal_cap",
]

#: The limits a person may choose for themselves: at most N marketing messages per window.
PERSONAL_LIMITS: dict[str, tuple[int, dt.timedelta]] = {
    "2-a-month": (2, dt.timedelta(days=30)),
    "1-a-week": (1, dt.timedelta(days=7)),
}
#: The label of a cap the person chose, which `decide` reports with its own reason.
PERSONAL_LABEL = "the person's own limit"


@dataclass(frozen=True, slots=True)
class Cap:
    """One cap in force for a decision."""

    max_messages: int
    window: dt.timedelta
    channels: frozenset[str]  # the channels whose sends count
    label: str  # who imposes it, for the trace: "pack US-FL", "workspace"

    def describe(self) -> str:
        """`3 per 24 h` style summary."""
        hours = self.window.total_seconds() / 3600
        span = f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} h"
        return f"{self.max_messages} per {span}"


def personal_cap(limit: str | None, channel: str) -> Cap | None:
    """The cap a person's own limit on `channel` stands for; None for no (or an unknown) one."""
    found = PERSONAL_LIMITS.get(limit or "")
    if found is None:
        return None
    return Cap(found[0], found[1], frozenset({channel}), PERSONAL_LABEL)


def _count(sends: Sequence[dt.datetime], after: dt.datetime, upto: dt.datetime) -> int:
    """How many of the sorted `sends` lie in (after, upto]."""
    return bisect_right(sends, upto) - bisect_right(sends, after)


def cap_allows(cap: Cap, sends: Sequence[dt.datetime], instant: dt.datetime) -> bool:
    """Whether one more send at `instant` keeps every window within the cap."""
    if cap.max_messages <= 0:
        return False
    limit = cap.max_messages - 1  # the new send takes one place in every window containing it
    window = cap.window
    if _count(sends, instant - window, instant) > limit:
        return False
    # Windows ending at a later send that still contain `instant`.
    first = bisect_left(sends, instant)
    last = bisect_left(sends, instant + window)
    return all(_count(sends, s - window, s) <= limit for s in sends[first:last])


def cap_next_allowed(
    cap: Cap, sends: Sequence[dt.datetime], instant: dt.datetime
) -> dt.datetime | None:
    """The earliest instant at or after `instant` where the cap allows a send; None if never.

    Allowance only changes where a past send leaves the window, so the candidates are
    `instant` and each send's instant plus the window.
    """
    if cap.max_messages <= 0:
        return None
    if cap_allows(cap, sends, instant):
        return instant
    for send in sends:
        candidate = send + cap.window
        if candidate > instant and cap_allows(cap, sends, candidate):
            return candidate
    return None  # unreachable: after the last send leaves every window, a send is allowed
