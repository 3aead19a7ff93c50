"""A person's preferences: what they keep on each channel, and how often.

The preference centre (the page an unsubscribe link opens) shows them and records each
change the person makes as ledger events, one per channel and purpose: stopping promotions
is a revocation of marketing, stopping or keeping reminders and order updates a revocation
or a grant of transactional messages, a lower frequency a `limit-…` event on marketing.
Nothing else is ever written, so the ledger alone says what the person chose.

Promotions stopped are not resumed from the page: a link forwarded or scanned must never
sign anyone up again; the person replies START or signs up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.accounts.service import Actor, record_audit
from textopt.consent.models import ConsentAction, ConsentSource, ConsentState, FrequencyLimit
from textopt.consent.service import NewConsentEvent, append_events, current_consent
from textopt.consent.suppression import Digester
from textopt.contacts.models import Contact
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.vocab import Channel, Purpose

__all__ = [
    "ChannelPreferences",
    "PreferenceChoice",
    "merge_choices",
    "preference_events",
    "read_preferences",
    "save_preferences",
    "set_preferences",
]

_LIMIT_ACTION = {
    None: ConsentAction.LIMIT_DEFAULT,
    FrequencyLimit.TWO_A_MONTH: ConsentAction.LIMIT_TWO_A_MONTH,
    FrequencyLimit.ONE_A_WEEK: ConsentAction.LIMIT_ONE_A_WEEK,
}
_RECEIVING = (ConsentAction.GRANTED, ConsentAction.CONFIRMED, ConsentAction.REQUESTED)


@dataclass(frozen=True, slots=True)
class ChannelPreferences:
    """What a person receives on one channel, as the ledger says."""

    channel: Channel
    has_address: bool  # the contact has a number (SMS) or an address (email)
    promotions: str  # "subscribed", "pending" (awaiting the double opt-in), "stopped", "none"
    reminders: bool  # transactional messages (reminders, order updates) kept
    frequency: FrequencyLimit | None  # the person's own limit; None: the workspace's caps

    @property
    def receiving(self) -> bool:
        """Whether promotions still go to the person (given, or awaiting the double opt-in)."""
        return self.promotions in ("subscribed", "pending")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's `--json` and the API)."""
        return {
            "channel": str(self.channel),
            "has_address": self.has_address,
            "promotions": self.promotions,
            "reminders": self.reminders,
            "frequency": str(self.frequency) if self.frequency else None,
        }


@dataclass(frozen=True, slots=True)
class PreferenceChoice:
    """What the person asked for on one channel."""

    channel: Channel
    promotions: bool  # False stops them; True keeps them (never resumes stopped ones)
    reminders: bool
    frequency: FrequencyLimit | None


def _promotions(state: ConsentState | None) -> str:
    if state is None:
        return "none"
    return {
        ConsentAction.GRANTED: "subscribed",
        ConsentAction.CONFIRMED: "subscribed",
        ConsentAction.REQUESTED: "pending",
    }.get(ConsentAction(state.status), "stopped")


def _channel_preferences(
    contact: Contact, channel: Channel, states: Mapping[tuple[str, str], ConsentState]
) -> ChannelPreferences:
    marketing = states.get((str(channel), str(Purpose.MARKETING)))
    transactional = states.get((str(channel), str(Purpose.TRANSACTIONAL)))
    frequency = marketing.frequency if marketing is not None else None
    return ChannelPreferences(
        channel=channel,
        has_address=bool(contact.phone if channel == Channel.SMS else contact.email),
        promotions=_promotions(marketing),
        reminders=transactional is None or transactional.status != ConsentAction.REVOKED,
        frequency=FrequencyLimit(frequency) if frequency else None,
    )


def read_preferences(session: Session, *, contact_id: int) -> list[ChannelPreferences]:
    """The person's preferences on every channel (SMS first), from the derived state."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    states = current_consent(session, contact_id=contact_id)
    return [_channel_preferences(contact, channel, states) for channel in Channel]


def preference_events(
    *,
    contact_id: int,
    current: Sequence[ChannelPreferences],
    choices: Sequence[PreferenceChoice],
    source: ConsentSource | str,
    occurred_at: dt.datetime,
    proof: Mapping[str, Any] | None = None,
) -> list[NewConsentEvent]:
    """The ledger events that take `current` to `choices`: only what changed."""
    now_by_channel = {p.channel: p for p in current}
    events: list[NewConsentEvent] = []

    def event(channel: Channel, purpose: Purpose, action: ConsentAction) -> None:
        events.append(
            NewConsentEvent(
                contact_id=contact_id,
                channel=channel,
                purpose=purpose,
                action=action,
                source=source,
                occurred_at=occurred_at,
                proof=proof,
            )
        )

    for choice in choices:
        held = now_by_channel.get(choice.channel)
        if held is None:
            continue
        if held.receiving and not choice.promotions:
            event(choice.channel, Purpose.MARKETING, ConsentAction.REVOKED)
        if held.reminders != choice.reminders:
            action = ConsentAction.GRANTED if choice.reminders else ConsentAction.REVOKED
            event(choice.channel, Purpose.TRANSACTIONAL, action)
        if held.receiving and choice.promotions and held.frequency != choice.frequency:
            event(choice.channel, Purpose.MARKETING, _LIMIT_ACTION[choice.frequency])
    return events


def save_preferences(
    session: Session,
    *,
    digest: Digester,
    contact_id: int,
    choices: Sequence[PreferenceChoice],
    source: ConsentSource | str,
    now: dt.datetime,
    proof: Mapping[str, Any] | None = None,
) -> list[int]:
    """Record what changed between the person's preferences and `choices`; the new events' ids.

    The contact's row lock makes two submissions of the page record each change once.
    An erased contact records nothing: it is suppressed for good.
    """
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    if contact.erased_at is not None:
        return []
    events = preference_events(
        contact_id=contact_id,
        current=read_preferences(session, contact_id=contact_id),
        choices=choices,
        source=source,
        occurred_at=now,
        proof=proof,
    )
    return append_events(session, digest=digest, events=events, now=now)


def set_preferences(
    session: Session,
    *,
    actor: Actor,
    digest: Digester,
    contact_id: int,
    choices: Sequence[PreferenceChoice],
    now: dt.datetime,
) -> list[int]:
    """The team records a person's preferences (they asked by phone, at the counter, by
    email): the same ledger events as the page, with the actor as their source and proof,
    and an audit entry. Promotions stopped are not resumed here either: that is a consent
    grant, with its own proof. Returns the new events' ids."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    if contact.erased_at is not None:
        raise ConflictError(f"contact {contact_id} is erased: it receives nothing, for good")
    source = ConsentSource.CLI if actor.operator else ConsentSource.API
    recorded = save_preferences(
        session,
        digest=digest,
        contact_id=contact_id,
        choices=choices,
        source=source,
        now=now,
        proof={"recorded_by": actor.label, "via": "preferences"},
    )
    record_audit(
        session,
        actor=actor,
        action="consent.preferences",
        target_type="contact",
        target_id=contact_id,
        detail={
            "choices": [
                {
                    "channel": str(c.channel),
                    "promotions": c.promotions,
                    "reminders": c.reminders,
                    "frequency": str(c.frequency) if c.frequency else None,
                }
                for c in choices
            ],
            "events": recorded,
        },
    )
    return recorded


def merge_choices(
    current: Sequence[ChannelPreferences],
    changes: Mapping[Channel, Mapping[str, Any]],
) -> list[PreferenceChoice]:
    """The choices that keep every preference not named in `changes` (channel -> field ->
    value: `promotions` and `reminders` booleans, `frequency` a FrequencyLimit or None).

    Asking to keep promotions that are stopped (or were never given) is refused rather than
    ignored: they start again only with the person's consent and its proof."""
    choices = []
    for held in current:
        change = changes.get(held.channel)
        if change is None:
            continue
        if change.get("promotions") is True and not held.receiving:
            if held.promotions == "none":
                raise ValidationError(
                    f"promotions by {held.channel} were never given: they start again only "
                    "with the person's consent and its proof (record a consent grant), never "
                    "from preferences",
                    field="promotions",
                )
            raise ValidationError(
                f"promotions by {held.channel} are stopped: they start again only with the "
                "person's consent and its proof (record a consent grant), never from "
                "preferences",
                field="promotions",
            )
        choices.append(
            PreferenceChoice(
                channel=held.channel,
                promotions=bool(change.get("promotions", held.receiving)),
                reminders=bool(change.get("reminders", held.reminders)),
                frequency=change.get("frequency", held.frequency),
            )
        )
    return choices
