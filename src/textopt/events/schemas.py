"""Pydantic shapes of an event as the faces (API, CLI JSON) exchange it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from textopt.db.ids import MAX_ID

__all__ = ["EventCreate", "EventRead", "EventRecorded"]


class EventCreate(BaseModel):
    """One event of one existing contact, named by exactly one of id, number or address."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The contact's id")
    phone: str | None = Field(
        default=None, min_length=1, max_length=40, description="Or its number, in any notation"
    )
    email: str | None = Field(
        default=None, min_length=3, max_length=320, description="Or its email address"
    )
    type: str = Field(
        min_length=1,
        max_length=64,
        description="A slug such as order_shipped (letters, digits, _ . -; any case, stored lower)",
    )
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description="A JSON object: at most 16 KiB as JSON, 5 levels deep; no NaN or Infinity",
    )
    occurred_at: dt.datetime | None = Field(
        default=None,
        description="When it happened, with its offset; default now; never in the future",
    )


class EventRead(BaseModel):
    """A recorded event."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    type: str
    properties: dict[str, Any]
    occurred_at: dt.datetime
    received_at: dt.datetime
    source: str = Field(description="api, cli or import")
    recorded_by: str = Field(description="The API key, operator or file that recorded it")
    idempotency_key: str | None


class EventRecorded(EventRead):
    """The answer to `POST /v1/events`: the event, and whether this request created it."""

    created: bool = Field(description="false: a retry with the same key, the first event")
