"""`/v1/events`: what happened around a contact, recorded once per `Idempotency-Key`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.api.pagination import Page, page_from_list
from textopt.config import Settings
from textopt.contacts import service as contacts
from textopt.db.base import utcnow
from textopt.db.ids import MAX_ID
from textopt.events import service
from textopt.events.models import ContactEvent, EventSource
from textopt.events.schemas import EventCreate, EventRead, EventRecorded
from textopt.http.deps import CurrentActor, DbSession, get_settings_dep, require
from textopt.http.params import After, Limit, RowId

router = APIRouter(tags=["events"])
Recorder = Annotated[Actor, Depends(require(Scope.EVENTS))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
_KEY_HEADER = "Idempotency-Key"
EventType = Annotated[
    str | None, Query(min_length=1, max_length=64, description="An event type: order_shipped")
]
Since = Annotated[
    dt.datetime | None, Query(description="Events that occurred at or after this instant")
]


def _read(event: ContactEvent) -> EventRead:
    return EventRead.model_validate(event)


@router.post(
    "/v1/events",
    response_model=EventRecorded,
    status_code=201,
    responses={200: {"model": EventRecorded, "description": "A retry: the event of this key"}},
)
def record_event(
    body: EventCreate,
    actor: Recorder,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=_KEY_HEADER,
            min_length=1,
            max_length=100,
            pattern=r"^[\x21-\x7e]+$",
            description="Your unique id of this event: a retry with it never records it twice",
        ),
    ] = None,
) -> EventRecorded:
    """Record an event of an existing contact. A retry with the same key returns it (200).

    Keys are kept with the event: the same key with another body is a 409.
    """
    contact = service.find_event_contact(
        session,
        default_region=settings.default_region,
        contact_id=body.contact_id,
        phone=body.phone,
        email=body.email,
    )
    event, created = service.record_event(
        session,
        contact=contact,
        type=body.type,
        properties=body.properties,
        occurred_at=body.occurred_at,
        key=idempotency_key,
        source=EventSource.API,
        recorded_by=actor.label,
        secret=settings.resolved_secret_key(),
        now=utcnow(),
        key_field=_KEY_HEADER,
    )
    if not created:
        response.status_code = 200
    return EventRecorded(**_read(event).model_dump(), created=created)


@router.get("/v1/events", response_model=Page[EventRead])
def list_events(
    actor: CurrentActor,
    session: DbSession,
    contact: Annotated[int | None, Query(ge=1, le=MAX_ID, description="A contact's id")] = None,
    type: EventType = None,
    since: Since = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[EventRead]:
    """Events by ascending id, filtered by contact, type and occurrence time."""
    if contact is not None:
        contacts.get_contact_or_raise(session, contact_id=contact)
    rows = service.list_events(
        session, contact_id=contact, type=type, since=since, after_id=after, limit=limit + 1
    )
    return page_from_list(rows, limit=limit, convert=_read)


@router.get("/v1/contacts/{contact_id}/events", response_model=Page[EventRead])
def contact_events(
    contact_id: RowId,
    actor: CurrentActor,
    session: DbSession,
    type: EventType = None,
    since: Since = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[EventRead]:
    """One contact's events by ascending id (404 for an unknown or erased contact)."""
    contacts.get_contact_or_raise(session, contact_id=contact_id)
    rows = service.list_events(
        session, contact_id=contact_id, type=type, since=since, after_id=after, limit=limit + 1
    )
    return page_from_list(rows, limit=limit, convert=_read)
