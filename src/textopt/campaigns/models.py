"""Campaigns and their lifecycle."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow
from textopt.errors import InvalidTransition

__all__ = ["CAMPAIGN_TRANSITIONS", "Campaign", "CampaignStatus", "check_campaign_transition"]


class CampaignStatus(StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"  # being written; preview allowed, nothing planned
    SCHEDULED = "scheduled"  # launched with a future start; planned, waiting for send_at
    RUNNING = "running"  # messages are being claimed and sent
    PAUSED = "paused"  # no message is claimed until resumed
    COMPLETED = "completed"  # every message reached a final state (final)
    CANCELLED = "cancelled"  # stopped for good; unsent messages cancelled (final)


_C = CampaignStatus

CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    _C.DRAFT: frozenset({_C.SCHEDULED, _C.RUNNING, _C.CANCELLED}),
    _C.SCHEDULED: frozenset({_C.RUNNING, _C.PAUSED, _C.CANCELLED}),
    _C.RUNNING: frozenset({_C.PAUSED, _C.COMPLETED, _C.CANCELLED}),
    _C.PAUSED: frozenset({_C.RUNNING, _C.SCHEDULED, _C.CANCELLED}),
    _C.COMPLETED: frozenset(),
    _C.CANCELLED: frozenset(),
}


def check_campaign_transition(current: CampaignStatus | str, new: CampaignStatus | str) -> None:
    """Raise InvalidTransition unless a campaign may move from `current` to `new`."""
    if CampaignStatus(new) not in CAMPAIGN_TRANSITIONS[CampaignStatus(current)]:
        raise InvalidTransition(f"a {current} campaign cannot become {new}")


class Campaign(Base):
    """A message to an audience, with its identity, timing and limits."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    brand_name: Mapped[str] = mapped_column(String(100))
    sender_id: Mapped[str | None] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(Text)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    audience_filter: Mapped[str] = mapped_column(Text, default="")  # copied at creation
    status: Mapped[str] = mapped_column(String(12), default=CampaignStatus.DRAFT)
    send_at: Mapped[dt.datetime | None] = mapped_column()  # start; None = at launch
    expires_at: Mapped[dt.datetime | None] = mapped_column()  # None = start + validity
    validity_hours: Mapped[int] = mapped_column(default=24)
    throughput: Mapped[float | None] = mapped_column()  # segments per second, None = account's
    provider: Mapped[str] = mapped_column(String(64), default="sandbox")
    smart_encoding: Mapped[bool] = mapped_column(default=True)
    fold_accents: Mapped[bool] = mapped_column(default=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    launched_at: Mapped[dt.datetime | None] = mapped_column()
    planned_at: Mapped[dt.datetime | None] = mapped_column()
    completed_at: Mapped[dt.datetime | None] = mapped_column()
