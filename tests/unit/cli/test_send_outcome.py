"""The exit code of `textopt send` says what became of the message."""

from __future__ import annotations

import datetime as dt

import pytest

from textopt.cli.dispatch import SendOutcome, send_outcome

NOW = dt.datetime(2026, 12, 7, 1, 52, tzinfo=dt.UTC)
LATER = (NOW + dt.timedelta(hours=6)).isoformat()


@pytest.mark.parametrize(
    ("status", "send_at", "queue_only", "outcome"),
    [
        ("delivered", None, False, SendOutcome.SENT),
        ("submitted", None, False, SendOutcome.SENT),
        ("unknown", None, False, SendOutcome.SENT),
        ("planned", NOW.isoformat(), True, SendOutcome.SENT),  # due, left to a dispatcher
        ("planned", LATER, True, SendOutcome.DEFERRED),  # quiet hours
        ("planned", LATER, False, SendOutcome.DEFERRED),
        ("planned", NOW.isoformat(), False, SendOutcome.DEFERRED),  # not sent by this run
        ("queued", NOW.isoformat(), False, SendOutcome.DEFERRED),  # a retry
        ("blocked", None, False, SendOutcome.BLOCKED),
        ("cancelled", None, False, SendOutcome.BLOCKED),
        ("failed", None, False, SendOutcome.FAILED),
        ("expired", None, False, SendOutcome.FAILED),
    ],
)
def test_each_state_has_its_exit_code(
    status: str, send_at: str | None, queue_only: bool, outcome: SendOutcome
) -> None:
    data = {"status": status, "send_at": send_at}
    assert send_outcome(data, now=NOW, queue_only=queue_only) == outcome


def test_the_codes_are_distinct_from_errors_and_usage_mistakes() -> None:
    assert {int(o) for o in SendOutcome} == {0, 3, 4, 5}  # 1: aborted, 2: bad input
