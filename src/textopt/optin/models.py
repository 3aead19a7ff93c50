"""Tables of the public opt-in: signup lists and each signup asked on their form."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["Signup", "SignupList"]


class SignupList(Base):
    """A hosted signup page (`/s/{slug}`): the brand, the consent text shown, who may join."""

    __tablename__ = "signup_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    # The registered consent text shown verbatim above the box; the ledger cites it.
    consent_text_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="fr")  # of the page and the SMS
    countries: Mapped[list[str] | None] = mapped_column(JSONType)  # None: the workspace's
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Signup(Base):
    """One submission of a signup form: the pending grant and its confirmation SMS.

    Whether it is confirmed is read from the ledger (a `confirmed` event citing the grant),
    the one place that says so.
    """

    __tablename__ = "signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("signup_lists.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    consent_event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)  # why no SMS went (blocked by policy...)
