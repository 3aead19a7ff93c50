"""Tables of the events domain: one row per thing that happened to a contact."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["ContactEvent", "EventSource"]


class EventSource(StrEnum):
    """Which face recorded an event."""

    API = "api"  # `POST /v1/events`, from the shop's or the clinic's systems
    CLI = "cli"  # `textopt events add`
    IMPORT = "import"  # `textopt events import`, a CSV file of past events


class ContactEvent(Base):
    """Something that happened to one contact: `order_shipped` with its properties.

    `type` is a lower-case slug (compared like tags, whatever the case it was sent in).
    `idempotency_key` is unique in the workspace, with the keyed fingerprint of the request
    that recorded it: a retry with the same key and body returns this row, another body under
    the key is refused. Events are deleted with the contact at a GDPR erasure.
    """

    __tablename__ = "contact_events"
    __table_args__ = (
        # a contact's events of one type by time: the contact page, `event:` segments
        Index("ix_contact_events_contact_type_time", "contact_id", "type", "occurred_at"),
        # every event of one type by time: `event:x within 7d` over the whole workspace
        Index("ix_contact_events_type_time", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[dt.datetime] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    # who recorded it: the API key's name, the operator's OS user, the imported file's name
    recorded_by: Mapped[str] = mapped_column(String(320))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
