"""Tables of outbound webhooks: endpoints, deliveries (the outbox) and the attempt log."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["DeliveryStatus", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]


class WebhookEvent(StrEnum):
    """What a webhook endpoint can subscribe to."""

    MESSAGE_STATUS = "message.status_changed"  # submitted, delivered, failed, expired, unknown
    OPT_OUT = "contact.opted_out"  # a consent revocation reached the ledger
    CAMPAIGN_COMPLETED = "campaign.completed"  # nothing left to send; receipts may follow
    QUESTION_ANSWERED = "question.answered"  # a reply confirmed or cancelled what was asked


class DeliveryStatus(StrEnum):
    """Where one delivery of one event to one endpoint is."""

    PENDING = "pending"  # waiting for its (next) attempt at `next_attempt_at`
    DELIVERED = "delivered"  # the endpoint answered 2xx (final)
    FAILED = "failed"  # every attempt failed, or the endpoint was deleted (final)


class WebhookEndpoint(Base):
    """A URL of the user's that receives signed events.

    The signing secret is not stored: it is an HMAC of `secret_salt` under the workspace
    secret key, computed when needed, so a database dump alone cannot forge signatures.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret_salt: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint, written in the transaction that produced the event."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))  # the same for every endpoint of an event
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()


class WebhookAttempt(Base):
    """The log of every POST: when, what came back, how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[dt.datetime] = mapped_column()
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
