"""The inbound messages table: every message a person sent us, whatever it says."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["SENDER_MAX", "WORD_MAX", "InboundAction", "InboundMessage", "WorkspaceKeyword"]

#: The longest sender address kept. SMPP's source_addr is at most 21 octets, but HTTP
#: providers may send more (`whatsapp:+…`, long alphanumeric names); a longer one is cut
#: to this length rather than refused, so the message itself is never lost.
SENDER_MAX = 64

#: The longest word a workspace keyword may be, normalised (`HORAIRES` is `horaires`).
WORD_MAX = 32

#: Messages stored but not yet applied: what the partial index holds and the queue reads.
_PENDING = "handled_at IS NULL"
#: Messages that matched a workspace keyword: what the rate limit's partial index holds.
_KEYWORDED = "workspace_keyword IS NOT NULL"


class InboundAction(StrEnum):
    """What textopt did about one inbound message."""

    STORED = "stored"  # no keyword: kept for a person to read
    STOPPED = "stopped"  # consent revoked, number suppressed, confirmation sent
    ALREADY_STOPPED = "already_stopped"  # a repeated STOP: nothing new, no second reply
    RESTARTED = "restarted"  # consent granted again, STOP lifted, confirmation sent
    START_REFUSED = "start_refused"  # an erasure, complaint or operator's entry stays
    START_WITHOUT_CONTACT = "start_without_contact"  # STOP lifted; no contact to consent
    HELPED = "helped"  # the brand's help text sent
    CONFIRMED = "confirmed"  # a pending double opt-in confirmed
    NOTHING_TO_CONFIRM = "nothing_to_confirm"  # YES/OUI with no pending double opt-in
    # A keyword from a sender that is no phone number (short code, operator's name, empty
    # address): there is no number to suppress or answer, so the message is only kept.
    NOT_A_NUMBER = "not_a_number"
    # Erased (GDPR) between storage and application: nothing is left to act on, and the
    # erasure has already suppressed the person's number for good.
    ERASED = "erased"
    # Applying it raised: `error` says why, for a person to read and act on by hand.
    FAILED = "failed"
    # A keyword of the workspace (HORAIRES): its answer written to the outbox.
    KEYWORD_ANSWERED = "keyword_answered"
    # The same keyword from the same number was answered less than 10 minutes before: not
    # answered again, so two auto-responders never talk to each other in a loop.
    KEYWORD_RATE_LIMITED = "keyword_rate_limited"
    # A keyword of the workspace that is switched off: kept for a person to read.
    KEYWORD_OFF = "keyword_off"
    # The answer to the person's latest open question (an appointment reminder's OUI or
    # ANNULER): its event recorded, the question closed, an acknowledgement sent.
    QUESTION_CONFIRMED = "question_confirmed"
    QUESTION_CANCELLED = "question_cancelled"


class InboundMessage(Base):
    """One mobile-originated message, stored once per provider message id.

    A provider that retries its webhook gives the same id again: the unique constraint
    keeps one row, so the keyword is applied (and answered) once. A message is stored
    first (`action` and `handled_at` empty) and applied afterwards, possibly after a crash.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id"),
        Index("ix_inbound_messages_contact", "contact_id", "received_at"),
        # the queue of messages stored but not applied yet, oldest first; it stays small
        # earlier asks of one keyword from one number: the answers' rate limit
        Index(
            "ix_inbound_messages_workspace_keyword",
            "workspace_keyword",
            "phone",
            "received_at",
            sqlite_where=text(_KEYWORDED),
            postgresql_where=text(_KEYWORDED),
        ),
        Index(
            "ix_inbound_messages_pending",
            "id",
            sqlite_where=text(_PENDING),
            postgresql_where=text(_PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column()
    provider: Mapped[str] = mapped_column(String(64))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    # the address as the provider gave it (number, short code, name, or ""); erasable
    sender: Mapped[str | None] = mapped_column(String(SENDER_MAX))
    # E.164, only when the sender is a valid number; erasable
    phone: Mapped[str | None] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(32))  # our number or short code
    text: Mapped[str | None] = mapped_column(Text)  # erasable
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    keyword: Mapped[str] = mapped_column(String(12))  # a KeywordKind value
    # the workspace keyword it matched (normalised word), when `keyword` is "none"
    workspace_keyword: Mapped[str | None] = mapped_column(String(WORD_MAX))
    language: Mapped[str | None] = mapped_column(String(8))  # of the keyword or the reply
    action: Mapped[str | None] = mapped_column(String(24))  # an InboundAction value
    consent_event_id: Mapped[int | None] = mapped_column(ForeignKey("consent_events.id"))
    reply_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    handled_at: Mapped[dt.datetime | None] = mapped_column()  # None: not applied yet
    error: Mapped[str | None] = mapped_column(Text)  # why applying it failed; erasable
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkspaceKeyword(Base):
    """A word the workspace answers automatically (HORAIRES -> the opening hours).

    `word` is normalised (lower case, no accents) and unique; `label` is how the marketer
    wrote it, in capitals. `texts` maps a language (fr, en, es, de) to its answer. A
    keyword switched off (`enabled` false) is matched but not answered.
    """

    __tablename__ = "workspace_keywords"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(WORD_MAX), unique=True)
    label: Mapped[str] = mapped_column(String(WORD_MAX * 2))
    texts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
