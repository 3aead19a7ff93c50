"""Pydantic shapes of a contact as the faces (CLI JSON, API) exchange it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ContactCreate", "ContactRead", "ContactUpdate"]


class ContactCreate(BaseModel):
    """What a face passes to `create_contact`; the service validates and normalises.

    A contact has a phone number, an email address or both.
    """

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, description="In any notation; stored in E.164")
    email: str | None = Field(default=None, description="Needed when there is no phone number")
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    is_customer: bool = False


class ContactUpdate(BaseModel):
    """Fields to change; a field left out is kept, a field set to null is cleared."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None
    attributes: dict[str, Any] | None = None
    is_customer: bool | None = None


class ContactRead(BaseModel):
    """A contact as shown: `ContactRead.model_validate(contact)`."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    language: str | None
    country: str | None
    region: str | None
    timezone: str | None
    timezones: list[str] = Field(description="Candidate zones derived from the number")
    attributes: dict[str, Any]
    tags: list[str] = Field(validation_alias="tag_names")
    is_customer: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime | None
