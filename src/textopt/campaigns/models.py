"""Campaigns and their lifecycle."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow
from textopt.errors import InvalidTransition
from textopt.vocab import Channel

__all__ = [
    "CAMPAIGN_TRANSITIONS",
    "Campaign",
    "CampaignStatus",
    "ChannelRule",
    "check_campaign_transition",
]


class ChannelRule(StrEnum):
    """Which channels a campaign uses for each recipient."""

    SMS = "sms"  # the SMS only
    EMAIL = "email"  # the email only
    BOTH = "both"  # the SMS and the email, each decided on its own
    SMS_ELSE_EMAIL = "sms-else-email"  # the email only to those the SMS cannot reach
    EMAIL_ELSE_SMS = "email-else-sms"  # the SMS only to those the email cannot reach

    @property
    def primary(self) -> Channel:
        """The channel decided first (the only one of a single-channel rule)."""
        if self in (ChannelRule.EMAIL, ChannelRule.EMAIL_ELSE_SMS):
            return Channel.EMAIL
        return Channel.SMS

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every channel the rule may use, the primary first."""
        if self in (ChannelRule.SMS, ChannelRule.EMAIL):
            return (self.primary,)
        other = Channel.EMAIL if self.primary == Channel.SMS else Channel.SMS
        return (self.primary, other)

    @property
    def is_fallback(self) -> bool:
        """Whether the second channel is used only when the first cannot reach the person."""
        return self in (ChannelRule.SMS_ELSE_EMAIL, ChannelRule.EMAIL_ELSE_SMS)


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
    # The rule (a ChannelRule) and its primary channel, kept for readers of one channel.
    channels: Mapped[str] = mapped_column(String(16), default=ChannelRule.SMS)
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    brand_name: Mapped[str] = mapped_column(String(100))
    sender_id: Mapped[str | None] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(Text)  # the SMS; empty for an email-only campaign
    email_subject: Mapped[str | None] = mapped_column(String(300))  # a template too
    email_template: Mapped[str | None] = mapped_column(Text)  # HTML (Jinja2)
    email_text_template: Mapped[str | None] = mapped_column(Text)  # None: derived from the HTML
    email_from: Mapped[str | None] = mapped_column(String(320))  # None: brand + settings address
    email_provider: Mapped[str | None] = mapped_column(String(64))  # None: no email channel
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
