"""The shared rate bucket: every worker of every machine together stays under the rate.

Workers read their clock before they wait for the bucket's row lock, so the `now` of the
one that gets the lock next may be earlier than the bucket's last refill. Measured with
four dispatcher processes on one PostgreSQL (bench/scaleout.py), moving the refill time
back let the next worker refill the same interval again: 365 segments/s for 300.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from textopt.db.engine import session_scope
from textopt.dispatch.claim import reserve_tokens
from textopt.dispatch.models import RateBucket

T0 = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
RATE = 100.0


def _take(engine: Engine, at: dt.datetime, wanted: int = 1000) -> int:
    with session_scope(engine) as s:
        return reserve_tokens(s, account="smsc", rate=RATE, wanted=wanted, now=at)


def _refilled_at(engine: Engine) -> dt.datetime:
    with session_scope(engine) as s:
        value = s.scalar(select(RateBucket.updated_at).where(RateBucket.account == "smsc"))
        assert value is not None
        return value


def test_a_late_worker_refills_nothing_and_the_next_refills_each_interval_once(
    engine: Engine,
) -> None:
    assert _take(engine, T0) == 100  # a full bucket: one second's worth
    later = T0 + dt.timedelta(seconds=0.5)
    assert _take(engine, later) == 50
    # a worker that read its clock before the one above took the lock
    assert _take(engine, T0 + dt.timedelta(seconds=0.2)) == 0
    assert _refilled_at(engine) == later  # the bucket's clock did not go back
    # the next half second refills 50 tokens, not 80 (0.2 s → 1.0 s counted twice)
    assert _take(engine, T0 + dt.timedelta(seconds=1.0)) == 50


def test_over_a_simulated_minute_of_interleaved_clocks_the_grants_match_the_rate(
    engine: Engine,
) -> None:
    # four workers each claim every 50 ms, each with a clock read up to 40 ms before its
    # turn: the order they reach the lock is not the order of their clocks
    granted = 0
    for tick in range(1200):
        base = T0 + dt.timedelta(milliseconds=50 * tick)
        for worker, lag in enumerate((0, 40, 10, 30)):
            at = base + dt.timedelta(milliseconds=worker * 12 - lag)
            granted += _take(engine, at, wanted=20)
    seconds = 1200 * 0.05
    assert granted <= RATE * seconds + RATE  # the rate, plus the first second's burst
    assert granted >= RATE * seconds * 0.97
