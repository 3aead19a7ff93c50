"""What the outbox still holds: messages due now, messages waiting, and the next send time.

Read by `textopt dispatch` for its live status and its summary when stopped; it needs no
running dispatcher, only the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus

__all__ = ["Backlog", "outbox_backlog"]

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
