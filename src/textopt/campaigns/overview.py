"""The dashboard's figures: the workspace funnel, sends per hour, opt-out rate, a contact's mail.

Read-only aggregates over the outbox and the ledger, each one grouped query; the web
overview, the campaign report page and the contact page read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.consent.models import ConsentAction, ConsentEvent
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.vocab import Channel, Purpose

__all__ = [
    "Overview",
    "contact_messages",
    "sends_by_hour",
    "workspace_overview",
]

_S = MessageStatus
# An expired message counts as sent (and failed) only if it was handed to a provider: one
# that could not go before its expiry never left.
_SENT = (_S.SUBMITTED, _S.DELIVERED, _S.FAILED, _S.UNKNOWN)
_WAITING = (_S.PLANNED, _S.QUEUED, _S.SENDING)


@dataclass(slots=True)
class Overview:
    """The workspace over a window: messages by stage, sends per hour, opt-outs."""

    since: dt.datetime
    planned: int = 0  # every message decided in the window, blocked ones included
    blocked: int = 0
    waiting: int = 0  # planned, queued or being sent: not yet handed to a provider
    sent: int = 0  # handed to a provider
    delivered: int = 0
    failed: int = 0  # refused by the provider or the network, or expired after submission
    expired: int = 0  # could not go before its expiry: never handed to a provider
    hours: list[tuple[dt.datetime, int]] = field(default_factory=list)  # the last 24 hours
    marketing_recipients: int = 0  # distinct contacts sent marketing in the window
    opt_outs: int = 0  # distinct contacts who withdrew SMS marketing in the window

    @property
    def opt_out_rate(self) -> float:
        """Opt-outs per contact reached by marketing (0 when nobody was)."""
        return self.opt_outs / self.marketing_recipients if self.marketing_recipients else 0.0


def _hour_bucket(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24')
    return func.strftime("%Y-%m-%dT%H", column)


def sends_by_hour(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime,
    campaign_id: int | None = None,
) -> list[tuple[dt.datetime, int]]:
    """Messages handed to a provider per UTC hour from `since` to `until` (empty hours: 0)."""
    start = since.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    bucket = _hour_bucket(session, Message.submitted_at)
    query = (
        select(bucket, func.count())
        .where(Message.submitted_at >= start, Message.submitted_at < until)
        .group_by(bucket)
    )
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    counts = {str(key): int(count) for key, count in session.execute(query)}
    hours = []
    at = start
    while at < until:
        hours.append((at, counts.get(at.strftime("%Y-%m-%dT%H"), 0)))
        at += dt.timedelta(hours=1)
    return hours


def workspace_overview(session: Session, *, now: dt.datetime, days: int = 30) -> Overview:
    """The funnel and opt-out rate of the last `days`, and sends per hour of the last day."""
    since = now - dt.timedelta(days=days)
    overview = Overview(since=since)
    by_status: dict[tuple[str, bool], int] = {
        (str(status), bool(handed)): int(count)
        for status, handed, count in session.execute(
            select(Message.status, Message.submitted_at.is_not(None), func.count())
            .where(Message.decided_at >= since)
            .group_by(Message.status, Message.submitted_at.is_not(None))
        )
    }

    def count(*statuses: MessageStatus, handed: bool | None = None) -> int:
        return sum(
            n
            for (status, was_handed), n in by_status.items()
            if status in statuses and (handed is None or was_handed == handed)
        )

    overview.planned = sum(by_status.values())
    overview.blocked = count(_S.BLOCKED)
    overview.waiting = count(*_WAITING)
    overview.sent = count(*_SENT) + count(_S.EXPIRED, handed=True)
    overview.delivered = count(_S.DELIVERED)
    overview.failed = count(_S.FAILED) + count(_S.EXPIRED, handed=True)
    overview.expired = count(_S.EXPIRED, handed=False)
    overview.hours = sends_by_hour(session, since=now - dt.timedelta(hours=23), until=now)
    overview.marketing_recipients = int(
        session.scalar(
            select(func.count(func.distinct(Message.contact_id))).where(
                Message.submitted_at >= since,
                Message.purpose == Purpose.MARKETING,
                Message.channel == Channel.SMS,
            )
        )
        or 0
    )
    overview.opt_outs = int(
        session.scalar(
            select(func.count(func.distinct(ConsentEvent.contact_id))).where(
                ConsentEvent.action == ConsentAction.REVOKED,
                ConsentEvent.channel == Channel.SMS,
                ConsentEvent.purpose == Purpose.MARKETING,
                ConsentEvent.occurred_at >= since,
            )
        )
        or 0
    )
    return overview


def contact_messages(session: Session, *, contact_id: int, limit: int = 200) -> list[Message]:
    """The newest messages to one contact, campaigns and one-offs alike."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.contact_id == contact_id)
            .order_by(Message.decided_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )
