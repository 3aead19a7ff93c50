"""Tables of the consent domain.

The ledger (`consent_events`) is append-only: no code path updates or deletes its rows, and
database triggers refuse it on both SQLite and PostgreSQL. Ledger rows hold no personal
data; the personal proof (number, IP, user agent, form contents...) lives in
`consent_proofs`, whose salted digest is part of the chained row, so erasure deletes the
proof and the chain still verifies.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = [
    "LEDGER_TRIGGERS",
    "LIMIT_ACTIONS",
    "ConsentAction",
    "ConsentEvent",
    "ConsentProof",
    "ConsentSource",
    "ConsentState",
    "ConsentText",
    "FrequencyLimit",
    "LedgerHead",
    "Suppression",
    "SuppressionReason",
]


class ConsentAction(StrEnum):
    """What a ledger event says about a person's consent."""

    REQUESTED = "requested"  # asked to subscribe (signup form); not consent until confirmed
    GRANTED = "granted"  # the person agreed (form, keyword, import with proof, soft opt-in)
    CONFIRMED = "confirmed"  # the person confirmed a request (double opt-in reply)
    REVOKED = "revoked"  # the person withdrew (STOP, unsubscribe, request)
    # The person's own frequency limit for marketing on the channel (the preference centre);
    # not consent: the consent stays what the other events say.
    LIMIT_TWO_A_MONTH = "limit-2-a-month"  # at most 2 marketing messages in 30 days
    LIMIT_ONE_A_WEEK = "limit-1-a-week"  # at most 1 marketing message in 7 days
    LIMIT_DEFAULT = "limit-default"  # back to the workspace's own caps


class FrequencyLimit(StrEnum):
    """A person's own limit on the marketing they receive on one channel."""

    TWO_A_MONTH = "2-a-month"  # at most 2 in any 30 days
    ONE_A_WEEK = "1-a-week"  # at most 1 in any 7 days


#: The ledger action that sets each limit, and the one that lifts it (None).
LIMIT_ACTIONS: dict[str, FrequencyLimit | None] = {
    ConsentAction.LIMIT_TWO_A_MONTH: FrequencyLimit.TWO_A_MONTH,
    ConsentAction.LIMIT_ONE_A_WEEK: FrequencyLimit.ONE_A_WEEK,
    ConsentAction.LIMIT_DEFAULT: None,
}


class ConsentSource(StrEnum):
    """How the event reached us."""

    IMPORT = "import"  # a CSV import with consent columns
    FORM = "form"  # a signup form
    KEYWORD = "keyword"  # an inbound SMS keyword (STOP, START, OUI)
    API = "api"  # the REST API
    CLI = "cli"  # the command line
    SOFT_OPT_IN = "soft-opt-in"  # existing customer, similar products, opt-out offered
    UNSUBSCRIBE_LINK = "unsubscribe-link"  # the signed link of an email (RFC 8058 one-click)
    PROVIDER = "provider"  # the SMS provider refused a message: the person opted out with it
    IN_STORE = "in-store"  # given in person (shop, counter), as an import or operator says


class SuppressionReason(StrEnum):
    """Why a number or address must not receive marketing."""

    KEYWORD = "keyword"  # a STOP-word (also one sent to the provider); lifted by START
    COMPLAINT = "complaint"  # a complaint to the operator or a regulator
    ERASURE = "erasure"  # GDPR art. 17; never lifted
    MANUAL = "manual"  # an operator's decision


class ConsentText(Base):
    """A versioned text shown to people when they consent (what they were told)."""

    __tablename__ = "consent_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsentEvent(Base):
    """One append-only, hash-chained ledger row.

    `id` is the position in the chain, assigned by the appender under the ledger head's
    lock; `hash` covers every other column, `prev_hash` and the proof's digest.
    """

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_contact", "contact_id", "channel", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[dt.datetime] = mapped_column()  # when the person consented
    recorded_at: Mapped[dt.datetime] = mapped_column()  # when we wrote it down
    consent_text_version: Mapped[str | None] = mapped_column(String(64))
    proof_digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ConsentProof(Base):
    """The personal evidence behind one ledger event; deleted by erasure."""

    __tablename__ = "consent_proofs"

    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ConsentState(Base):
    """The current consent per contact, channel and purpose, derived from the ledger.

    Updated in the same transaction as each append; `textopt consent rebuild` recomputes it.
    """

    __tablename__ = "consent_state"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # a ConsentAction value
    source: Mapped[str] = mapped_column(String(16))
    since: Mapped[dt.datetime] = mapped_column()
    event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    # The person's own marketing limit on this channel (a FrequencyLimit value), or None.
    frequency: Mapped[str | None] = mapped_column(String(16), default=None)


class LedgerHead(Base):
    """The single row holding the chain's last position and hash; locked by appenders."""

    __tablename__ = "consent_ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_event_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class Suppression(Base):
    """A number or address that must not receive marketing, kept as a keyed hash only."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("digest", "channel", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # "sms", "email" or "all"
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(200))


#: Triggers that make the ledger append-only in the database itself, per dialect.
LEDGER_TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        """CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
           BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END""",
        """CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
           BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'consent_events is append-only'; END $$""",
        """CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
           ON consent_events FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only()""",
    ],
}

for _dialect, _statements in LEDGER_TRIGGERS.items():
    for _statement in _statements:
        event.listen(
            ConsentEvent.__table__,
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )
