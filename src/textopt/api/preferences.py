"""`PUT /v1/contacts/{id}/preferences`: the team records what a person chose to receive (by
phone, at the counter, by email), as the preference centre would: one ledger event per
channel and purpose that changes, the caller as its source, and an audit entry."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.api.contacts import PreferencesRead
from textopt.consent.models import FrequencyLimit
from textopt.consent.preferences import merge_choices, read_preferences, set_preferences
from textopt.contacts.service import get_contact_or_raise
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.http.deps import AddressDigest, DbSession, require
from textopt.http.params import RowId
from textopt.vocab import Channel

router = APIRouter(prefix="/v1", tags=["consent"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]


class ChannelChoice(BaseModel):
    """What the person wants on one channel; a field left out is kept as it is."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    promotions: bool | None = Field(
        default=None,
        description="false stops promotions (a revocation); true keeps them. Promotions "
        "stopped (or never given) are not resumed here: true is refused (422); record a "
        "consent grant with its proof instead",
    )
    reminders: bool | None = Field(
        default=None, description="Reminders and order updates (transactional) kept or stopped"
    )
    frequency: Literal["2-a-month", "1-a-week", "default"] | None = Field(
        default=None, description="The person's own marketing limit; `default` lifts it"
    )


class PreferencesUpdate(BaseModel):
    """The person's choices, per channel."""

    model_config = ConfigDict(extra="forbid")

    channels: list[ChannelChoice] = Field(min_length=1, max_length=len(Channel))


class PreferencesSaved(BaseModel):
    """The preferences now, and the ledger events that recorded the change (none: nothing
    changed)."""

    contact_id: int
    preferences: list[PreferencesRead]
    events: list[int]


def _changes(body: PreferencesUpdate) -> dict[Channel, dict[str, Any]]:
    changes: dict[Channel, dict[str, Any]] = {}
    for choice in body.channels:
        if choice.channel in changes:
            raise ValidationError(
                f"channels: {choice.channel} is given twice; give each channel once",
                field="channels",
            )
        fields: dict[str, Any] = {}
        if choice.promotions is not None:
            fields["promotions"] = choice.promotions
        if choice.reminders is not None:
            fields["reminders"] = choice.reminders
        if choice.frequency is not None:
            fields["frequency"] = (
                None if choice.frequency == "default" else FrequencyLimit(choice.frequency)
            )
        changes[choice.channel] = fields
    return changes


@router.put("/contacts/{contact_id}/preferences", response_model=PreferencesSaved)
def put_preferences(
    contact_id: RowId,
    body: PreferencesUpdate,
    actor: Writer,
    session: DbSession,
    digest: AddressDigest,
) -> PreferencesSaved:
    """Record the person's preferences; only what changes reaches the ledger."""
    contact = get_contact_or_raise(session, contact_id=contact_id)
    choices = merge_choices(read_preferences(session, contact_id=contact.id), _changes(body))
    events = set_preferences(
        session, actor=actor, digest=digest, contact_id=contact.id, choices=choices, now=utcnow()
    )
    return PreferencesSaved(
        contact_id=contact.id,
        preferences=[
            PreferencesRead.model_validate(p.as_dict())
            for p in read_preferences(session, contact_id=contact.id)
        ],
        events=events,
    )
