"""The event cursor stops before a gap in the ids (a transaction still open on PostgreSQL)
until the row after it is old enough, then passes it."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from textopt.flows.triggers import GAP_GRACE, _advance_past_gaps

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _rows(*ids: int, age: dt.timedelta = dt.timedelta(0)) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=i, received_at=NOW - age) for i in ids]


def test_the_cursor_moves_over_contiguous_ids() -> None:
    assert _advance_past_gaps(10, _rows(11, 12, 13), now=NOW) == 13


def test_the_cursor_waits_at_a_recent_gap() -> None:
    assert _advance_past_gaps(10, _rows(11, 13, 14), now=NOW) == 11
    assert _advance_past_gaps(10, _rows(12), now=NOW) == 10


def test_a_gap_older_than_the_grace_is_passed() -> None:
    old = GAP_GRACE + dt.timedelta(seconds=1)
    assert _advance_past_gaps(10, _rows(11, 13, 14, age=old), now=NOW) == 14
