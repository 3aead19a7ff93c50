"""The dispatcher's own tables: rate buckets, early receipts and numbers that keep failing.

The outbox itself (`messages`, `message_events`) lives in `textopt.outbox.models`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, utcnow

__all__ = ["FailureStage", "NumberFailure", "OrphanReceipt", "RateBucket"]

#: The numbers planning and the claim look up: only those marked undeliverable.
_UNDELIVERABLE = "undeliverable_at IS NOT NULL"


class RateBucket(Base):
    """A token bucket per provider account, counted in segments, shared by every worker."""

    __tablename__ = "rate_buckets"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrphanReceipt(Base):
    """A receipt that arrived before the provider's answer to the submission.

    SMSCs may send the receipt before `submit_sm_resp`; it waits here and is applied as soon
    as the answer gives us the provider's message id.
    """

    __tablename__ = "orphan_receipts"
    __table_args__ = (Index("ix_orphan_receipts_provider_id", "provider", "provider_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_text: Mapped[str | None] = mapped_column(Text)
    stat: Mapped[str | None] = mapped_column(String(16))  # the SMSC's word, for the event


class FailureStage(StrEnum):
    """Where a permanent failure of a number came from."""

    SUBMIT = "submit"  # the provider refused the message when it was handed over
    RECEIPT = "receipt"  # the network reported it failed, after the provider took it


class NumberFailure(Base):
    """One number's permanent failures in a row, under its keyed digest (`dispatch.feedback`).

    Kept per number like the suppression list, not per contact: a one-off message may go to
    a number without a contact, and a contact given a new number starts clean. At the limit
    the number is undeliverable (`undeliverable_at`) and the policy blocks every SMS to it.
    """

    __tablename__ = "number_failures"
    __table_args__ = (
        # planning's and the claim's lookups read the undeliverable numbers only
        Index(
            "ix_number_failures_undeliverable",
            "digest",
            sqlite_where=text(_UNDELIVERABLE),
            postgresql_where=text(_UNDELIVERABLE),
        ),
    )

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(8))  # a FailureStage: where the last one came
    last_code: Mapped[str | None] = mapped_column(String(32))  # the provider's error code
    last_provider: Mapped[str | None] = mapped_column(String(64))  # the account that said it
    last_message_id: Mapped[int | None] = mapped_column()  # a repeated receipt counts once
    last_failure_at: Mapped[dt.datetime] = mapped_column()
    undeliverable_at: Mapped[dt.datetime | None] = mapped_column()
