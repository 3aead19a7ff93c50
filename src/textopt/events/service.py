"""Events: record one (idempotently), list them, find a contact's latest, delete a person's.

Functions flush but never commit: the caller owns the transaction. The contact must exist
(an event never creates one: a person enters textopt through consent, not through a shop's
order feed), and erased contacts have no events.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from textopt.accounts.service import idempotency_fingerprint
from textopt.contacts import service as contacts
from textopt.contacts.fields import check_storable
from textopt.contacts.models import Contact
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.events.models import ContactEvent, EventSource
from textopt.events.types import normalise_type
from textopt.instants import check_happened, utc_instant

__all__ = [
    "KEY_PATTERN",
    "MAX_PROPERTIES_BYTES",
    "MAX_PROPERTIES_DEPTH",
    "check_key",
    "check_properties",
    "delete_events_of",
    "event_fields",
    "event_fingerprint",
    "find_event_contact",
    "latest_events",
    "list_events",
    "normalise_type",
    "record_event",
]

#: An idempotency key: 1 to 100 visible ASCII characters (as `Idempotency-Key` on messages).
KEY_PATTERN = r"^[\x21-\x7e]{1,100}$"
_KEY = re.compile(KEY_PATTERN)
#: The properties of one event, as compact JSON: enough for an order's summary, not a file.
MAX_PROPERTIES_BYTES = 16_384
#: Objects and lists inside the properties, counting the properties themselves as 1.
MAX_PROPERTIES_DEPTH = 5
_MAX_PROPERTY_NAME = 64
_MAX_LIMIT = 10_000


def check_key(raw: str, *, field: str = "idempotency_key") -> str:
    """An idempotency key: 1 to 100 visible ASCII characters, no spaces."""
    if not _KEY.fullmatch(raw):
        raise ValidationError(
            f"{field}: an idempotency key is 1 to 100 visible ASCII characters without spaces",
            field=field,
        )
    return raw


def _depth(value: Any) -> int:
    if isinstance(value, Mapping):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def check_properties(raw: Any, *, field: str = "properties") -> dict[str, Any]:
    """An event's properties: a JSON object, storable, at most 16 KiB and 5 levels deep."""
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{field} must be an object of names and values", field=field)
    for name in raw:
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_PROPERTY_NAME:
            raise ValidationError(
                f"{field}: a property name is 1 to {_MAX_PROPERTY_NAME} characters",
                field=field,
            )
    check_storable(raw, field=field)  # NUL, lone surrogates, NaN and ±Infinity
    if _depth(raw) > MAX_PROPERTIES_DEPTH:
        raise ValidationError(
            f"{field} nest objects and lists more than {MAX_PROPERTIES_DEPTH} levels deep",
            field=field,
        )
    size = len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PROPERTIES_BYTES:
        raise ValidationError(
            f"{field} take {size} bytes as JSON; at most {MAX_PROPERTIES_BYTES} are kept",
            field=field,
        )
    return dict(raw)


def find_event_contact(
    session: Session,
    *,
    default_region: str,
    contact_id: int | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> Contact:
    """The contact an event is about, named by exactly one of id, number or address."""
    given = [
        name
        for name, value in (("contact_id", contact_id), ("phone", phone), ("email", email))
        if value is not None and str(value).strip()
    ]
    if len(given) != 1:
        raise ValidationError(
            "name the contact by exactly one of contact_id, phone or email"
            + (f" (got {', '.join(given)})" if given else ""),
            field=given[1] if len(given) > 1 else "contact_id",
        )
    field = given[0]
    try:
        if contact_id is not None:
            return contacts.get_contact_or_raise(session, contact_id=contact_id)
        if phone is not None:
            return contacts.get_contact_by_phone_or_raise(
                session, phone=phone, default_region=default_region
            )
        return contacts.get_contact_by_email_or_raise(session, email=email or "")
    except NotFoundError as exc:
        raise NotFoundError(
            f"{exc.message}: events are recorded for existing contacts only "
            "(add the contact, with its consent, first)",
            field=field,
        ) from None


def event_fingerprint(
    *,
    secret: bytes,
    contact_id: int,
    type: str,
    properties: Mapping[str, Any],
    occurred_at: dt.datetime | None,
) -> str:
    """The keyed fingerprint of an event's request, stored with its idempotency key."""
    request = {
        "contact_id": contact_id,
        "type": type,
        "properties": dict(properties),
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat() if occurred_at else None,
    }
    return idempotency_fingerprint(workspace_key=secret, request=request)


def _retry_or_conflict(
    session: Session, *, key: str, fingerprint: str, field: str
) -> ContactEvent | None:
    event = session.scalars(
        select(ContactEvent).where(ContactEvent.idempotency_key == key)
    ).one_or_none()
    if event is None:
        return None
    if event.fingerprint is None or not hmac.compare_digest(event.fingerprint, fingerprint):
        raise ConflictError(f"{field} {key!r} was used for a different event", field=field)
    return event


def record_event(
    session: Session,
    *,
    contact: Contact,
    type: str,
    properties: Mapping[str, Any],
    occurred_at: dt.datetime | None,
    key: str | None,
    source: EventSource,
    recorded_by: str,
    secret: bytes,
    now: dt.datetime,
    key_field: str = "idempotency_key",
) -> tuple[ContactEvent, bool]:
    """Record one event of `contact`; returns it and whether it is new.

    With a `key`, a retry of the same request returns the first event (False) and another
    request under the key is a `ConflictError` naming `key_field`. `occurred_at` defaults to
    `now` and may not be in the future; `secret` keys the request's fingerprint.
    """
    kind = normalise_type(type)
    props = check_properties(properties)
    when = now if occurred_at is None else check_happened(occurred_at, now=now, field="occurred_at")
    fingerprint = None
    if key is not None:
        check_key(key, field=key_field)
        fingerprint = event_fingerprint(
            secret=secret,
            contact_id=contact.id,
            type=kind,
            properties=props,
            occurred_at=occurred_at,
        )
        first = _retry_or_conflict(session, key=key, fingerprint=fingerprint, field=key_field)
        if first is not None:
            return first, False
    event = ContactEvent(
        contact_id=contact.id,
        type=kind,
        properties=props,
        occurred_at=when,
        received_at=now,
        source=str(source),
        recorded_by=recorded_by[:320],
        idempotency_key=key,
        fingerprint=fingerprint,
    )
    try:
        with session.begin_nested():  # the same key in a concurrent request: one row wins
            session.add(event)
            session.flush()
    except IntegrityError:
        # the key is the only unique column
        assert key is not None
        assert fingerprint is not None
        first = _retry_or_conflict(session, key=key, fingerprint=fingerprint, field=key_field)
        if first is None:
            raise
        return first, False
    return event, True


def list_events(
    session: Session,
    *,
    contact_id: int | None = None,
    type: str | None = None,
    since: dt.datetime | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[ContactEvent]:
    """Events by ascending id (a keyset cursor), by contact, type and `occurred_at >= since`."""
    query = select(ContactEvent).order_by(ContactEvent.id).limit(min(limit, _MAX_LIMIT))
    if contact_id is not None:
        query = query.where(ContactEvent.contact_id == contact_id)
    if type is not None:
        query = query.where(ContactEvent.type == normalise_type(type))
    if since is not None:
        query = query.where(ContactEvent.occurred_at >= utc_instant(since, field="since"))
    if after_id is not None:
        query = query.where(ContactEvent.id > after_id)
    return list(session.scalars(query))


def latest_events(session: Session, *, contact_id: int, limit: int = 20) -> list[ContactEvent]:
    """A contact's most recent events, the latest first (the contact page)."""
    query = (
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc())
        .limit(min(limit, _MAX_LIMIT))
    )
    return list(session.scalars(query))


def delete_events_of(session: Session, *, contact_ids: Collection[int]) -> int:
    """Delete every event of these contacts (an erasure); returns how many."""
    if not contact_ids:
        return 0
    result = session.execute(
        delete(ContactEvent).where(ContactEvent.contact_id.in_(list(contact_ids)))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def event_fields(event: ContactEvent) -> dict[str, Any]:
    """One event as JSON-ready data (the API, `--json`, the GDPR export)."""
    return {
        "id": event.id,
        "contact_id": event.contact_id,
        "type": event.type,
        "properties": dict(event.properties or {}),
        "occurred_at": event.occurred_at.isoformat(),
        "received_at": event.received_at.isoformat(),
        "source": event.source,
        "recorded_by": event.recorded_by,
        "idempotency_key": event.idempotency_key,
    }
