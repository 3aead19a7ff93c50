"""`/v1/events`: what happened around a contact, recorded once per `Idempotency-Key`, and
imported from a CSV file (`/v1/events/import`), all rows or none."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.api.contacts import csv_upload_body, upload_form
from textopt.api.pagination import Page, page_from_list
from textopt.config import Settings
from textopt.contacts import service as contacts
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.db.ids import MAX_ID
from textopt.errors import ValidationError
from textopt.events import service
from textopt.events.importer import EventImportReport, import_events_upload
from textopt.events.models import ContactEvent, EventSource
from textopt.events.schemas import EventCreate, EventRead, EventRecorded
from textopt.http.deps import (
    CurrentActor,
    DbSession,
    get_settings_dep,
    require,
    require_detached,
)
from textopt.http.params import After, Limit, RowId
from textopt.http.problems import problem_response

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


class EventRowError(BaseModel):
    """One refused row of an events CSV."""

    line: int = Field(description="The row's line in the file (the header is line 1)")
    column: str = Field(description="The column at fault (or `row`)")
    message: str


class EventImportResult(BaseModel):
    """What an events CSV recorded: all its rows, or none."""

    file: str
    rows_read: int
    recorded: int = Field(description="Events written by this import")
    already_recorded: int = Field(description="Rows whose event was recorded before (same key)")
    rejected: int = Field(description="Rows refused (then nothing is recorded)")
    committed: bool = Field(description="true: recorded; false: refused whole, see `errors`")
    errors: list[EventRowError]


_IMPORT_BODY = csv_upload_body(
    "CSV (`,` `;` or tab; UTF-8 or Latin-1): contact_id, phone or email; type; occurred_at "
    "(ISO 8601 with an offset); an optional key; any other column is a property"
)
Importer = Annotated[Actor, Depends(require_detached(Scope.EVENTS))]


@router.post(
    "/v1/events/import",
    response_model=EventImportResult,
    openapi_extra=_IMPORT_BODY,
)
async def import_events_file(
    request: Request, actor: Importer, settings: AppSettings
) -> EventImportResult | JSONResponse:
    """Import events from a CSV: every row is checked, then all are recorded or none.

    A row without a key gets one derived from its content: sending the same file again
    records nothing twice (`already_recorded`). A refused file is a 422 problem (`code`
    `invalid_rows`) carrying this report's fields: `errors` lists every refused row (line,
    column, message), and nothing is recorded.
    """
    form = await upload_form(request)
    try:
        file, region = form.get("file"), form.get("region")
        if not isinstance(file, FormFile):
            raise ValidationError("send the CSV as multipart/form-data `file`", field="file")
        if region is not None and (not isinstance(region, str) or len(region) > 2):
            raise ValidationError("region: a two-letter country code", field="region")
        report = await run_in_threadpool(
            _import, request, actor=actor, settings=settings, file=file, region=region or None
        )
    finally:
        await form.close()
    data = report.as_dict()
    if report.committed:
        return EventImportResult.model_validate(data)
    first = report.errors[0]
    return problem_response(
        422,
        f"{data['rejected']} of {report.rows_read} rows refused; nothing recorded "
        f"(line {first.line}, {first.column}: {first.message})",
        code="invalid_rows",
        field="file",
        extra=data,
    )


def _import(
    request: Request, *, actor: Actor, settings: Settings, file: FormFile, region: str | None
) -> EventImportReport:
    with session_scope(request.app.state.engine) as session:
        return import_events_upload(
            session,
            source=file.file,
            filename=file.filename,
            default_region=(region or settings.default_region).upper(),
            secret=settings.resolved_secret_key(),
            actor=actor,
            now=utcnow(),
        )
