"""The conversations table (one per contact, or per number when no contact matches) and the
replies the team wrote in them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, utcnow

__all__ = ["Conversation", "ConversationReply", "ConversationState", "party_of"]


class ConversationState(StrEnum):
    """Whether the team still has something to do in a conversation."""

    OPEN = "open"  # a person wrote and the team has not closed it (a new message reopens it)
    CLOSED = "closed"  # handled; kept with its messages, reopened by the next inbound message


def party_of(*, contact_id: int | None, phone: str | None) -> str | None:
    """The key of the conversation a message belongs to: its contact's, else its number's."""
    if contact_id is not None:
        return f"c:{contact_id}"
    if phone is not None:
        return f"n:{phone}"
    return None  # a short code or a name: nobody to answer


class Conversation(Base):
    """The thread of one person: opened by their first message, reopened by each new one.

    `party` is `c:<contact id>`, or `n:<E.164>` for a number no contact has; the messages
    themselves stay in `inbound_messages` and `messages`, read by contact or number.
    `unread_count` counts inbound messages since the team last read the thread.
    """

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_state_activity", "state", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party: Mapped[str] = mapped_column(String(32), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164; erasable
    state: Mapped[str] = mapped_column(String(8), default=ConversationState.OPEN)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unread_count: Mapped[int] = mapped_column(default=0)
    last_inbound_at: Mapped[dt.datetime] = mapped_column()
    last_activity_at: Mapped[dt.datetime] = mapped_column()  # last message either way
    read_at: Mapped[dt.datetime | None] = mapped_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConversationReply(Base):
    """A message a user wrote from the inbox: who, and whether it went as conversational.

    The message itself (text, status, the policy's reason when it was not sent) is the
    outbox row `message_id`.
    """

    __tablename__ = "conversation_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(320))
    # "conversational" (within 24 h of the person's message), "transactional" or "marketing"
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
