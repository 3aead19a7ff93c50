"""Tables of the contacts domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["Contact", "ContactTag"]


class Contact(Base):
    """A person who may receive messages.

    `phone` is E.164 and unique. After a GDPR erasure the row stays as a tombstone (every
    personal field emptied, `erased_at` set) so that consent ledger rows keep their target.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # The number's type per libphonenumber ("mobile", "fixed_line"...); None when unknown
    # (numbers stored before it was recorded). Fixed lines get no SMS (`SMS_REFUSED_TYPES`).
    phone_type: Mapped[str | None] = mapped_column(String(24))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    # US/CA state or FR department, used to pick state overlays and regional holidays.
    region: Mapped[str | None] = mapped_column(String(16))
    # Explicit IANA zone given by the contact or importer; wins over the candidates.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Candidate zones derived from the number (several for US, CA, AU, ...).
    timezones: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    # Permanent SMTP failures in a row; past the limit the address is undeliverable.
    email_bounces: Mapped[int] = mapped_column(default=0, server_default="0")
    email_undeliverable_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_activity_at: Mapped[dt.datetime | None] = mapped_column()
    erased_at: Mapped[dt.datetime | None] = mapped_column()

    tags: Mapped[list[ContactTag]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def tag_names(self) -> list[str]:
        """The contact's tags, sorted."""
        return sorted(t.tag for t in self.tags)


class ContactTag(Base):
    """One tag on one contact (a table, so segments filter on tags in SQL)."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    contact: Mapped[Contact] = relationship(back_populates="tags")
