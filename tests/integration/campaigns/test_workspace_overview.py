"""The workspace overview counts each message once, in the stage it reached."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from textopt.campaigns.overview import workspace_overview
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus as S

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


def _message(n: int, status: S, *, submitted: bool) -> Message:
    return Message(
        channel="sms",
        purpose="marketing",
        recipient=f"+3361234{n:04d}",
        status=status,
        idempotency_key=f"overview-{n}",
        decided_at=NOW - dt.timedelta(days=1),
        submitted_at=NOW - dt.timedelta(hours=20) if submitted else None,
    )


def test_an_expired_message_counts_as_sent_only_if_it_was_handed_to_a_provider(
    session: Session,
) -> None:
    cases = [
        (S.PLANNED, False),
        (S.QUEUED, False),
        (S.SUBMITTED, True),
        (S.DELIVERED, True),
        (S.FAILED, True),
        (S.EXPIRED, True),  # the network gave up after submission
        (S.EXPIRED, False),  # could not go before its expiry: never left
        (S.BLOCKED, False),
    ]
    session.add_all(
        _message(n, status, submitted=handed) for n, (status, handed) in enumerate(cases)
    )
    session.flush()

    overview = workspace_overview(session, now=NOW)

    assert overview.planned == 8
    assert overview.waiting == 2
    assert overview.sent == 4  # submitted, delivered, failed, expired after submission
    assert overview.delivered == 1
    assert overview.failed == 2  # failed, expired after submission
    assert overview.expired == 1
    assert overview.blocked == 1
