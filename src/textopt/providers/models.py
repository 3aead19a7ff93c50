"""Provider-side memory that must outlive a process: the parts of multipart SMS."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, utcnow

__all__ = ["SmsPart"]


class SmsPart(Base):
    """One part of a message sent as several SMS, and what its receipt said so far.

    The outbox knows a multipart message by its first part's id; a receipt for another part,
    arriving after a restart, finds its message here. Single-part messages need no row.
    """

    __tablename__ = "sms_parts"
    __table_args__ = (
        Index("ix_sms_parts_account_part", "account", "part_id"),
        Index("ix_sms_parts_account_message", "account", "message_key"),
        Index("ix_sms_parts_account_created", "account", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))  # the provider account's name
    part_id: Mapped[str] = mapped_column(String(100))  # the SMSC's id of this part
    message_key: Mapped[str] = mapped_column(String(100))  # the message's provider id
    part_index: Mapped[int] = mapped_column()  # 1-based
    total: Mapped[int] = mapped_column()
    stat: Mapped[str | None] = mapped_column(String(12))  # final receipt word, once known
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
