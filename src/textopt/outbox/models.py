"""The outbox (`messages`) and the history of each message (`message_events`).

Planning, one-off sends and the dispatcher all write these tables; the row planning
writes in bulk is spelled once in `textopt.outbox.rows`. A message's common steps (claimed,
submitted) are held by its row; `textopt.outbox.history` rebuilds the whole history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["Message", "MessageEvent", "status_in"]

#: The states the dispatcher's partial indexes hold: due (a claim's), sending (recovery's)
#: and open (a campaign's completion). A message leaves them as it goes through instead of
#: moving inside one index on every change of state.
_DUE = "status IN ('planned', 'queued')"
_SENDING = "status = 'sending'"
_OPEN = "status IN ('planned', 'queued', 'sending')"


def status_in(*states: str) -> ColumnElement[bool]:
    """`messages.status IN (...)` with the states written as SQL literals.

    A partial index serves a query only when its condition is written out in the query (a
    bound parameter could be anything); the due and sending indexes need this form.
    """
    if len(states) == 1:  # `= 'x'`, as the sending index is written (SQLite matches terms)
        return Message.status == literal_column(f"'{states[0]}'")
    return Message.status.in_([literal_column(f"'{state}'") for state in states])


class Message(Base):
    """One message to one recipient: planned, sent, or blocked with its reason.

    Unique per (campaign, contact, channel), so planning a campaign twice never creates a
    second message, and a campaign on both channels gives a contact one SMS and one email.
    One-off messages have no campaign and are unique by their idempotency key.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", "channel"),
        # the dispatcher's claim: an account's due messages, oldest first
        Index(
            "ix_messages_due",
            "provider",
            "send_at",
            "id",
            sqlite_where=text(_DUE),
            postgresql_where=text(_DUE),
        ),
        # completion: a campaign's messages not yet through the dispatcher
        Index(
            "ix_messages_open",
            "campaign_id",
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # recovery: messages whose worker may have died, by lease
        Index(
            "ix_messages_sending",
            "lease_until",
            sqlite_where=text(_SENDING),
            postgresql_where=text(_SENDING),
        ),
        # caps: a contact's recent marketing across campaigns
        Index("ix_messages_contact_time", "contact_id", "send_at"),
        # listing by creation time (`dispatch.listing`): written once, never moved
        Index("ix_messages_created", "created_at"),
        # receipts: the message an SMSC id names (only messages that have one)
        Index(
            "ix_messages_provider_id",
            "provider",
            "provider_message_id",
            sqlite_where=text("provider_message_id IS NOT NULL"),
            postgresql_where=text("provider_message_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(320))  # E.164 or address; erasable
    sender: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)  # erasable
    subject: Mapped[str | None] = mapped_column(String(300))
    html: Mapped[str | None] = mapped_column(Text)  # an email's HTML part (body: its text part)
    # An email's stored headers (From, List-Unsubscribe...): the provider writes them as given.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(default=0)
    # Estimated cost in millionths of the currency unit: exact, and summed in SQL.
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    country: Mapped[str | None] = mapped_column(String(2))
    pack: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(32))  # policy or failure code
    reason_text: Mapped[str | None] = mapped_column(Text)  # the sentence a user reads
    deferred: Mapped[bool] = mapped_column(default=False)  # planned later than asked
    send_at: Mapped[dt.datetime | None] = mapped_column()  # when it may go
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # The last claim's instant while the row holds it (`textopt.outbox.history`); NULL once
    # written out as an event, or never claimed.
    claimed_at: Mapped[dt.datetime | None] = mapped_column()
    # Where the facts the row holds (its last claim, its submission) stand in the history:
    # after the event rows with an id up to this one. NULL: the row holds none, every step
    # is an event row (and every message written before the rows held their facts).
    row_facts_after: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    done_at: Mapped[dt.datetime | None] = mapped_column()


class MessageEvent(Base):
    """One step in a message's life the row cannot hold: a retry, a failover, a receipt…

    The last claim and its submission are held by the message row itself
    (`Message.claimed_at`, `submitted_at`, `row_facts_after`); `outbox.history` merges both.
    """

    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
