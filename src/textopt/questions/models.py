"""The questions table: what a message asked a contact, and how the contact answered."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, utcnow

__all__ = ["REFERENCE_MAX", "Answer", "Question"]

#: The longest reference kept (an appointment's id in the clinic's system, a flow's
#: occurrence key).
REFERENCE_MAX = 200

#: Questions not answered yet: what the partial index holds and an answer looks through.
_UNANSWERED = "answered_at IS NULL"


class Answer(StrEnum):
    """How a question was answered."""

    CONFIRMED = "confirmed"  # OUI, YES, SI, JA
    CANCELLED = "cancelled"  # ANNULER, NO, NEIN


class Question(Base):
    """One question asked by one outbound message (one per message).

    A question is open while it is unanswered, its `expires_at` has not passed and its
    message was sent and did not end undelivered (`failed`, `expired`, `blocked`,
    `cancelled`): the message's state is read, never copied. An answer writes `answered_at`,
    `answer`, the inbound message that gave it and the event it recorded.
    """

    __tablename__ = "questions"
    __table_args__ = (
        # a contact's unanswered questions, the latest first: what an OUI looks through
        Index(
            "ix_questions_open",
            "contact_id",
            "asked_at",
            sqlite_where=text(_UNANSWERED),
            postgresql_where=text(_UNANSWERED),
        ),
        Index("ix_questions_contact", "contact_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # a QuestionKind's name: appointment
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    # what the question is about in the sender's system: an appointment id, an occurrence key
    reference: Mapped[str | None] = mapped_column(String(REFERENCE_MAX))
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answer: Mapped[str | None] = mapped_column(String(16))  # an Answer value
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_events.id", ondelete="SET NULL")
    )
