"""Listing the outbox: messages by contact, campaign, state, channel, purpose and time.

A page is a keyset walk by id (`id > after`), like every list of the API. Filters the
outbox has an index for narrow the walk: a contact (`ix_messages_contact_time`), a campaign
(its unique key), and creation times, turned into an id range through `ix_messages_created`
(ids and creation times grow together). The others (status, channel, purpose, update
times, a number that no contact has) are applied to a window of at most `SCAN_WINDOW` rows
after the cursor: a page never reads more than that, however rare the rows it looks for,
and may come back short (even empty) with a `next` cursor that continues after the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from textopt.contacts.fields import normalise_email
from textopt.contacts.models import Contact
from textopt.contacts.service import normalise_phone
from textopt.errors import ValidationError
from textopt.outbox.models import Message

__all__ = [
    "CREATION_SKEW",
    "SCAN_WINDOW",
    "MessageFilter",
    "MessagePage",
    "list_messages",
    "message_fields",
]

#: The most rows one page examines after its cursor when a filter has no index.
SCAN_WINDOW = 5_000
#: How far apart creation order and id order may be (a long plan inserts under one `now`):
#: the id range of a time filter is widened by it, the times themselves still filter.
CREATION_SKEW = dt.timedelta(hours=1)
_MICROS = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages to list; every field given must match (None: any)."""

    contact_id: int | None = None
    phone: str | None = None  # the contact with this number (any notation), else the number
    email: str | None = None  # the contact with this address
    campaign_id: int | None = None
    one_off: bool | None = None  # True: messages without a campaign; False: campaigns'
    status: str | None = None
    channel: str | None = None
    purpose: str | None = None
    created_since: dt.datetime | None = None
    created_until: dt.datetime | None = None
    updated_since: dt.datetime | None = None
    updated_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page: the messages, and the id to continue after (None: the end)."""

    messages: list[Message]
    next_after: int | None


def message_fields(message: Message) -> dict[str, Any]:
    """A message as JSON-ready values (the API's and the CLI's one shape, no history)."""
    return {
        "id": message.id,
        "campaign": message.campaign_id,
        "contact": message.contact_id,
        "to": message.recipient,
        "channel": message.channel,
        "purpose": message.purpose,
        "status": message.status,
        "reason": message.reason,
        "reason_text": message.reason_text,
        "body": message.body,
        "encoding": message.encoding,
        "segments": message.segments,
        "cost": str(Decimal(message.cost_micros) / _MICROS),
        "currency": message.currency,
        "send_at": message.send_at.isoformat() if message.send_at else None,
        "expires_at": message.expires_at.isoformat() if message.expires_at else None,
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "idempotency_key": message.idempotency_key,
        "attempts": message.attempts,
        "error_code": message.error_code,
        "error_text": message.error_text,
        "created_at": message.created_at.isoformat(),
        "updated_at": message.updated_at.isoformat(),
    }


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationError(f"{field} needs a time zone offset", field=field)
    return value


def _contact_ids(
    session: Session, where: MessageFilter, *, default_region: str
) -> list[int] | None:
    """The contacts the filter names (None: no contact filter; []: none matches)."""
    wanted: set[int] | None = None
    if where.contact_id is not None:
        wanted = {where.contact_id}
    conditions = []
    if where.phone:
        e164 = normalise_phone(where.phone, default_region=default_region).e164
        conditions.append(Contact.phone == e164)
    if where.email:
        conditions.append(Contact.email == normalise_email(where.email))
    for condition in conditions:  # an unknown number or address has no messages
        found = set(session.scalars(select(Contact.id).where(condition)))
        wanted = found if wanted is None else wanted & found
    return None if wanted is None else sorted(wanted)


def _first_id_created(session: Session, since: dt.datetime) -> int | None:
    """The id of the first message created at `since` or later, by creation time."""
    return session.scalar(
        select(Message.id).where(Message.created_at >= since).order_by(Message.created_at).limit(1)
    )


def list_messages(
    session: Session, *, where: MessageFilter, after: int | None, limit: int, default_region: str
) -> MessagePage:
    """One page of the messages matching `where`, by ascending id, after the id `after`.

    A number in `where` written in national notation is read in `default_region`.
    """
    created_since = _aware(where.created_since, "created_since")
    created_until = _aware(where.created_until, "created_until")
    updated_since = _aware(where.updated_since, "updated_since")
    updated_until = _aware(where.updated_until, "updated_until")
    # Narrowing conditions (indexed) define the walk; the others filter its window.
    walk: list[ColumnElement[bool]] = []
    if after is not None:
        walk.append(Message.id > after)
    kept: list[ColumnElement[bool]] = []
    contacts = _contact_ids(session, where, default_region=default_region)
    if contacts:
        walk.append(Message.contact_id.in_(contacts))
    elif contacts is not None:
        if where.phone is None or where.contact_id is not None or where.email is not None:
            return MessagePage(messages=[], next_after=None)
        # A number without a contact (a one-off message to anyone): its messages are found
        # by recipient, checked within the window like the other unindexed filters.
        recipient = normalise_phone(where.phone, default_region=default_region).e164
        kept.append(Message.recipient == recipient)
    if where.campaign_id is not None:
        walk.append(Message.campaign_id == where.campaign_id)
    if created_since is not None:
        start = _first_id_created(session, created_since - CREATION_SKEW)
        if start is None:
            return MessagePage(messages=[], next_after=None)
        walk.append(Message.id >= start)
    if created_until is not None:
        end = _first_id_created(session, created_until + CREATION_SKEW)
        if end is not None:
            walk.append(Message.id < end)
    window = select(Message.id).where(*walk).order_by(Message.id).limit(SCAN_WINDOW).subquery()
    if where.one_off is not None:
        kept.append(
            Message.campaign_id.is_(None) if where.one_off else Message.campaign_id.is_not(None)
        )
    if where.status is not None:
        kept.append(Message.status == where.status)
    if where.channel is not None:
        kept.append(Message.channel == where.channel)
    if where.purpose is not None:
        kept.append(Message.purpose == where.purpose)
    if created_since is not None:
        kept.append(Message.created_at >= created_since)
    if created_until is not None:
        kept.append(Message.created_at < created_until)
    if updated_since is not None:
        kept.append(Message.updated_at >= updated_since)
    if updated_until is not None:
        kept.append(Message.updated_at < updated_until)
    rows: Sequence[Message] = list(
        session.scalars(
            select(Message)
            .where(Message.id.in_(select(window.c.id)), *kept)
            .order_by(Message.id)
            .limit(limit + 1)
        )
    )
    if len(rows) > limit:
        return MessagePage(messages=list(rows[:limit]), next_after=rows[limit - 1].id)
    scanned, last = session.execute(select(func.count(), func.max(window.c.id))).one()
    more = int(scanned) >= SCAN_WINDOW  # the window was full: rows may follow it
    return MessagePage(messages=list(rows), next_after=int(last) if more else None)
