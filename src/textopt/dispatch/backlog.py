"""What the outbox still holds: messages due now, messages waiting, and the next send time.

Read by `textopt dispatch` for its live status and its summary when stopped; it needs no
running dispatcher, only the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from textopt.outbox.models import Message, status_in
from textopt.outbox.states import MessageStatus

__all__ = ["Backlog", "OpenMessages", "open_messages", "outbox_backlog"]

#: The states of a message that has not gone yet and still may.
_UNSENT = (MessageStatus.PLANNED, MessageStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Unsent messages at one instant: those due, those waiting, and when the next one is."""

    due: int
    waiting: int
    next_send_at: dt.datetime | None  # the earliest send time of the waiting ones


def outbox_backlog(session: Session, *, now: dt.datetime) -> Backlog:
    """Count the unsent messages due at `now` and later, and the earliest later send time."""
    later = Message.send_at > now
    row = session.execute(
        select(
            func.count(case((later, None), else_=Message.id)),
            func.count(case((later, Message.id))),
            func.min(case((later, Message.send_at))),
        ).where(Message.status.in_(_UNSENT))
    ).one()
    due, waiting, next_send_at = row
    return Backlog(due=int(due), waiting=int(waiting), next_send_at=next_send_at)


@dataclass(frozen=True, slots=True)
class OpenMessages:
    """Messages not through the dispatcher yet, counted by state, reason and account."""

    status: str  # planned, queued or sending
    due: bool  # its send time has come (always true of a message in `sending`)
    reason: str | None  # why it waits (quiet hours, a cap, a retry's error), if it does
    provider: str | None  # the account chosen for it, once chosen
    count: int
    oldest_send_at: dt.datetime | None  # the earliest send time of the group


def open_messages(session: Session, *, now: dt.datetime) -> list[OpenMessages]:
    """The open messages (planned, queued, sending) in one grouped read of the open index."""
    due = Message.send_at.is_(None) | (Message.send_at <= now)
    rows = session.execute(
        select(
            Message.status,
            due,
            Message.reason,
            Message.provider,
            func.count(),
            func.min(Message.send_at),
        )
        .where(status_in(MessageStatus.PLANNED, MessageStatus.QUEUED, MessageStatus.SENDING))
        .group_by(Message.status, due, Message.reason, Message.provider)
    ).all()
    return [
        OpenMessages(
            status=str(status),
            due=bool(is_due) or status == MessageStatus.SENDING,
            reason=reason,
            provider=provider,
            count=int(count),
            oldest_send_at=oldest,
        )
        for status, is_due, reason, provider, count, oldest in rows
    ]
