"""Tables of the contacts domain."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textopt.db.base import Base, JSONType, utcnow

__all__ = ["Contact", "ContactTag", "ImportJob", "ImportJobState"]


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


class ImportJobState(StrEnum):
    """Where the import of one upload stands."""

    # a thread of the web process is reading the file and committing batches
    RUNNING = "running"
    # every row was read; `result` is the whole report
    FINISHED = "finished"
    # stopped by an error before the end; the committed batches stay, `result` counts them
    FAILED = "failed"
    # its process stopped or died mid-way; the committed batches stay, `result` counts them
    INTERRUPTED = "interrupted"


#: The transitions a job may take: it runs once, and ends once.
IMPORT_JOB_TRANSITIONS: dict[ImportJobState, frozenset[ImportJobState]] = {
    ImportJobState.RUNNING: frozenset(
        {ImportJobState.FINISHED, ImportJobState.FAILED, ImportJobState.INTERRUPTED}
    ),
    ImportJobState.FINISHED: frozenset(),
    ImportJobState.FAILED: frozenset(),
    ImportJobState.INTERRUPTED: frozenset(),
}


class ImportJob(Base):
    """The import of one dashboard upload, run in the background: one job per upload.

    Its counts and `result` are written in the transaction of each batch, so after a crash
    they say exactly what was kept. `owner` names the process running it (host, pid and a
    random token of that process) so a job whose process died can be told from a live one.
    """

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(2))
    # column header → field, `attribute` or `ignore`, as chosen on the mapping page
    mapping: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(12), default=ImportJobState.RUNNING)
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None] = mapped_column()
    # `ImportReport.to_dict()` without server paths, as of the last committed batch
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    has_rejects: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    started_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
