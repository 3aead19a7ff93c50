"""Tables of tracked links: one short code per (campaign, contact, URL), and each click."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, utcnow

__all__ = ["LinkClick", "LinkCode"]


class LinkCode(Base):
    """A short code standing for one URL sent to one contact in one campaign.

    The code is the primary key, so the redirect is one primary-key lookup. A contact's
    code reveals nothing of anyone else: it maps to one URL and nothing more is shown.
    """

    __tablename__ = "link_codes"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id", "url"),)

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LinkClick(Base):
    """One follow of a short link; campaign and contact copied so reports need no join."""

    __tablename__ = "link_clicks"
    __table_args__ = (Index("ix_link_clicks_campaign", "campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("link_codes.code", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column()
    contact_id: Mapped[int | None] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A digest, not the string: enough to tell robots and repeat clicks apart, nothing more.
    user_agent_hash: Mapped[str | None] = mapped_column(String(16))
