"""`/v1/messages`: one-off (transactional) messages with an `Idempotency-Key`, status, lists."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from textopt.accounts.models import IdempotencyRecord, Scope
from textopt.accounts.service import (
    Actor,
    idempotency_fingerprint,
    purge_idempotency_records,
)
from textopt.api.pagination import Page
from textopt.api.schemas import MessageDetail, MessageRead, MessageSent
from textopt.campaigns.report import message_history
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.db.ids import MAX_ID
from textopt.dispatch import listing
from textopt.dispatch.listing import message_fields
from textopt.errors import ConflictError, InvalidPhoneNumber
from textopt.http.deps import CurrentActor, DbSession, get_settings_dep, require_detached
from textopt.http.params import After, Limit, RowId
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.vocab import Channel, Purpose

router = APIRouter(prefix="/v1/messages", tags=["messages"])
# The caller is checked in a transaction of its own and the route opens and commits its own:
# on SQLite, the write lock is then held within one thread's turn, never across the event
# loop's hops between a request's dependencies (decisions.md, "The API's tail latency").
Sender = Annotated[Actor, Depends(require_detached(Scope.SEND))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
_KEY_HEADER = "Idempotency-Key"
_ASK_FIELDS = ("asks", "asks_reference", "answer_by")
# the key's record is read and written as a table: the ORM cost more than the statements
_RECORDS = cast(Table, IdempotencyRecord.__table__)


class MessageCreate(BaseModel):
    """One message to one number, through the same policy and outbox as campaigns."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=40, description="Number in any notation")
    text: str = Field(min_length=1, max_length=5000, description="A template: {{ first_name }}")
    variables: dict[str, str] = Field(default_factory=dict, max_length=100)
    purpose: Purpose = Purpose.TRANSACTIONAL
    sender_id: str | None = Field(default=None, max_length=32)
    provider: str | None = Field(default=None, max_length=64)
    validity_hours: int = Field(default=24, ge=1, le=72)
    asks: Literal["appointment"] | None = Field(
        default=None,
        description="The question the message asks, answered by reply (OUI/ANNULER, YES/NO…): "
        "the answer becomes an event (`appointment_confirmed`, `appointment_cancelled`) and a "
        "`question.answered` webhook. The recipient must be a contact.",
    )
    asks_reference: str | None = Field(
        default=None,
        max_length=200,
        description="What the question is about in your system (the appointment's id): "
        "the event's `appointment_id`",
    )
    answer_by: dt.datetime | None = Field(
        default=None,
        description="Until when an answer counts (with an offset; 72 hours by default, at "
        "most 60 days)",
    )


def _enqueue(
    session: Session, settings: Settings, body: MessageCreate, key: str, *, state: Any
) -> tuple[Message, bool]:
    return enqueue_message(
        session,
        settings=settings,
        to=body.to,
        text=body.text,
        variables=body.variables,
        purpose=body.purpose,
        sender_id=body.sender_id,
        idempotency_key=f"api:{key}",
        provider=body.provider,
        validity=dt.timedelta(hours=body.validity_hours),
        asks=body.asks,
        asks_reference=body.asks_reference,
        answer_by=body.answer_by,
        digest=state.digester,
        now=utcnow(),
    )


@router.post(
    "",
    response_model=MessageSent,
    status_code=201,
    responses={200: {"model": MessageSent, "description": "A retry: the message of this key"}},
)
def send_message(
    body: MessageCreate,
    actor: Sender,
    request: Request,
    settings: AppSettings,
    response: Response,
    idempotency_key: Annotated[
        str,
        Header(
            alias=_KEY_HEADER,
            min_length=1,
            max_length=100,
            pattern=r"^[\x21-\x7e]+$",
            description="Your unique id of this message: a retry with it never sends twice",
        ),
    ],
) -> dict[str, Any]:
    """Queue one message; the dispatcher sends it. A retry with the same key returns it (200).

    Keys are remembered for `idempotency_window_hours`.
    """
    # the route's own transaction, committed here, in the route's thread: see `Sender`
    with session_scope(request.app.state.engine) as session:
        return _send(session, settings, body, idempotency_key, response, state=request.app.state)


#: How often a web process purges expired keys on its way (the hourly sweep does it too).
_PURGE_EVERY = dt.timedelta(minutes=1)


def _send(
    session: Session,
    settings: Settings,
    body: MessageCreate,
    key: str,
    response: Response,
    *,
    state: Any,
) -> dict[str, Any]:
    now = utcnow()
    expired = now - dt.timedelta(hours=settings.idempotency_window_hours)
    # a delete on every request cost a tenth of the route's time: once a minute is enough
    # for a process without the sweep (`serve --no-dispatch`), and a record found past the
    # window is treated as gone meanwhile
    last = getattr(state, "idempotency_purged_at", None)
    if last is None or now - last >= _PURGE_EVERY:
        state.idempotency_purged_at = now
        purge_idempotency_records(session, before=expired)
    request = body.model_dump(mode="json")
    for name in _ASK_FIELDS:  # a request without a question has the fingerprint it always had
        if request[name] is None:
            del request[name]
    fingerprint = idempotency_fingerprint(workspace_key=state.secret_key, request=request)
    record = session.execute(
        select(_RECORDS.c.fingerprint, _RECORDS.c.message_id, _RECORDS.c.created_at).where(
            _RECORDS.c.key == key
        )
    ).first()
    if record is not None and record.created_at < expired:
        # past the window: as if purged
        session.execute(delete(_RECORDS).where(_RECORDS.c.key == key))
        record = None
    if record is not None:
        if not hmac.compare_digest(record.fingerprint, fingerprint):
            raise ConflictError(
                f"{_KEY_HEADER} {key!r} was used for a different request", field=_KEY_HEADER
            )
        response.status_code = 200
        return {**message_history(session, message_id=record.message_id), "created": False}
    try:
        message, created = _enqueue(session, settings, body, key, state=state)
    except InvalidPhoneNumber as exc:
        exc.field = "to"  # the request's name for the number
        raise
    try:
        session.execute(
            insert(_RECORDS).values(
                key=key, fingerprint=fingerprint, message_id=message.id, created_at=now
            )
        )
    except IntegrityError as exc:  # the same key in a concurrent request
        raise ConflictError(
            f"a request with {_KEY_HEADER} {key!r} is being processed: retry",
            field=_KEY_HEADER,
        ) from exc
    if not created:
        response.status_code = 200
        return {**message_history(session, message_id=message.id), "created": False}
    # a message written by this transaction has no step yet: its history is empty
    return {**message_fields(message), "events": [], "created": True}


@router.get("", response_model=Page[MessageRead])
def list_messages(
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    contact: Annotated[int | None, Query(ge=1, le=MAX_ID, description="A contact's id")] = None,
    phone: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
    campaign: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    one_off: Annotated[
        bool | None, Query(description="true: messages sent by `POST /v1/messages` only")
    ] = None,
    status: MessageStatus | None = None,
    channel: Channel | None = None,
    purpose: Purpose | None = None,
    created_since: dt.datetime | None = None,
    created_until: Annotated[dt.datetime | None, Query(description="Exclusive")] = None,
    updated_since: dt.datetime | None = None,
    updated_until: Annotated[dt.datetime | None, Query(description="Exclusive")] = None,
    after: After = None,
    limit: Limit = 50,
) -> Page[MessageRead]:
    """Messages by ascending id. A page may hold fewer than `limit` (even none) and a `next`.

    Status, channel, purpose and update times are checked over a bounded window of the
    outbox per page; keep following `next` until it is null.
    """
    where = listing.MessageFilter(
        contact_id=contact,
        phone=phone,
        email=email,
        campaign_id=campaign,
        one_off=one_off,
        status=status,
        channel=channel,
        purpose=purpose,
        created_since=created_since,
        created_until=created_until,
        updated_since=updated_since,
        updated_until=updated_until,
    )
    found = listing.list_messages(
        session, where=where, after=after, limit=limit, default_region=settings.default_region
    )
    return Page[MessageRead](
        items=[MessageRead.model_validate(listing.message_fields(m)) for m in found.messages],
        next=str(found.next_after) if found.next_after is not None else None,
    )


@router.get("/{message_id}", response_model=MessageDetail)
def get_message(message_id: RowId, actor: CurrentActor, session: DbSession) -> dict[str, Any]:
    """One message: its state, reason, cost and every event (receipts included)."""
    return message_history(session, message_id=message_id)
