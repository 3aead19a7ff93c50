"""`/v1/conversations`: the inbox. List, read a thread, reply, assign, close, reopen, mark read;
everything needs the `inbox` scope (a thread is what people wrote: personal data)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.api.accounts import AppSettings
from textopt.api.pagination import Page
from textopt.conversations import replies as reply_service
from textopt.conversations import service
from textopt.conversations.replies import ReplyKind
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.http.deps import DbSession, require
from textopt.http.params import Limit, RowId

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
Inbox = Annotated[Actor, Depends(require(Scope.INBOX))]


class ConversationRead(BaseModel):
    """A conversation as the inbox lists it."""

    id: int
    contact_id: int | None = Field(description="Null for a number no contact has")
    number: str | None = Field(description="Where replies go (E.164); null once erased")
    name: str = Field(description="The contact's name, else the number")
    state: Literal["open", "closed"]
    assigned_to: str | None = Field(description="The assigned user's email")
    unread: int = Field(description="Messages from the person since the team last read")
    last_inbound_at: dt.datetime
    last_activity_at: dt.datetime
    last_text: str | None = Field(description="The person's last message")


class ReplyWindowRead(BaseModel):
    """Whether a reply now is conversational (within 24 h of the person's last message)."""

    conversational: bool
    state: Literal["open", "expired", "stopped", "none"] = Field(
        description="open; expired (24 h or more); stopped (the last message is a STOP); none"
    )
    last_inbound_at: dt.datetime | None
    closes_at: dt.datetime | None = Field(description="When replies stop being conversational")


class ThreadMessage(BaseModel):
    """One message of the thread, either way."""

    direction: Literal["in", "out"]
    at: dt.datetime
    text: str | None = Field(description="Null once erased")
    inbound_id: int | None = None
    keyword: str | None = Field(default=None, description="In: stop, start, help, confirm, none")
    action: str | None = Field(default=None, description="In: what textopt did about it")
    message_id: int | None = None
    purpose: str | None = None
    status: str | None = Field(default=None, description="Out: planned, sent, blocked…")
    reason: str | None = Field(default=None, description="Out: why it was not sent (yet)")
    reason_text: str | None = None
    campaign_id: int | None = None
    segments: int | None = None
    replied_by: str | None = Field(default=None, description="Out: the user who replied")
    reply_kind: str | None = Field(default=None, description="conversational, transactional…")


class ConversationDetail(ConversationRead):
    """A conversation with its messages (oldest first) and its reply window."""

    window: ReplyWindowRead
    messages: list[ThreadMessage]


class ReplyCreate(BaseModel):
    """A reply from the team."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=reply_service.TEXT_MAX)
    kind: ReplyKind | None = Field(
        default=None,
        description="Null: conversational within 24 h of the person's last message, else "
        "refused (422). transactional or marketing: decided by the policy as usual "
        "(marketing needs consent and gets the brand, the STOP footer, the hours and caps)",
    )


class ReplyRead(BaseModel):
    """The reply as written to the outbox."""

    conversation_id: int
    message_id: int
    kind: ReplyKind
    status: str = Field(description="planned (goes now or at `send_at`) or blocked")
    reason: str | None = Field(description="Why it is held or blocked")
    reason_text: str | None
    send_at: dt.datetime | None
    segments: int
    text: str | None = Field(description="As it goes (a marketing reply with its footer)")
    created: bool = Field(description="False: this Idempotency-Key was used before")


class AssignBody(BaseModel):
    """Who handles the conversation."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(
        max_length=320, description="A user's id or email; null unassigns the conversation"
    )


def _read(summary: service.ConversationSummary) -> ConversationRead:
    return ConversationRead.model_validate(summary.as_dict())


def _cursor(raw: str | None) -> tuple[dt.datetime, int] | None:
    if raw is None:
        return None
    at, _, last = raw.rpartition("_")
    try:
        micros, last_id = int(at), int(last)
        return dt.datetime.fromtimestamp(micros / 1_000_000, dt.UTC), last_id
    except (ValueError, OverflowError, OSError):
        raise ValidationError(
            "after: not a cursor of this list (pass a page's `next`)", field="after"
        ) from None


@router.get("", response_model=Page[ConversationRead])
def list_conversations(
    actor: Inbox,
    session: DbSession,
    show: Annotated[
        Literal["open", "closed", "mine", "all"],
        Query(description="open, closed, mine (open and assigned to you) or all"),
    ] = "open",
    after: Annotated[
        str | None,
        Query(max_length=40, pattern=r"^\d{1,20}_\d{1,10}$", description="A page's `next`"),
    ] = None,
    limit: Limit = 50,
) -> Page[ConversationRead]:
    """Conversations, the latest activity first."""
    found = service.list_conversations(
        session, show=show, user_id=actor.user_id, limit=limit + 1, before=_cursor(after)
    )
    more = len(found) > limit
    kept = found[:limit]
    cursor = None
    if more and kept:
        last = kept[-1].conversation
        micros = int(last.last_activity_at.timestamp() * 1_000_000)
        cursor = f"{micros}_{last.id}"
    return Page[ConversationRead](items=[_read(s) for s in kept], next=cursor)


def _detail(session: DbSession, conversation_id: int) -> ConversationDetail:
    conversation = service.get_conversation_or_raise(session, conversation_id=conversation_id)
    summary = service.summary_of(session, conversation=conversation)
    window = reply_service.reply_window(session, conversation=conversation, now=utcnow())
    entries = service.thread(session, conversation=conversation)
    return ConversationDetail(
        **_read(summary).model_dump(),
        window=ReplyWindowRead(
            conversational=window.conversational,
            state=window.state,
            last_inbound_at=window.last_inbound_at,
            closes_at=window.closes_at,
        ),
        messages=[ThreadMessage.model_validate(e.as_dict()) for e in entries],
    )


@router.get("/{conversation_id}", response_model=ConversationDetail)
def get_conversation(conversation_id: RowId, actor: Inbox, session: DbSession) -> Any:
    """A conversation with its messages both ways, oldest first (not marked read)."""
    return _detail(session, conversation_id)


@router.post("/{conversation_id}/replies", response_model=ReplyRead, status_code=201)
def reply(
    conversation_id: RowId,
    body: ReplyCreate,
    actor: Inbox,
    session: DbSession,
    settings: AppSettings,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=64)
    ] = None,
) -> ReplyRead:
    """Reply through the outbox; a reply held or blocked by the policy says why (201 still:
    the reply is recorded, with its reason, in the conversation)."""
    result = reply_service.reply_to_conversation(
        session,
        actor=actor,
        settings=settings,
        conversation_id=conversation_id,
        text=body.text,
        kind=body.kind,
        idempotency_key=idempotency_key,
        now=utcnow(),
    )
    if not result.created:
        response.status_code = 200
    message = result.message
    return ReplyRead(
        conversation_id=result.reply.conversation_id,
        message_id=message.id,
        kind=ReplyKind(result.reply.kind),
        status=message.status,
        reason=message.reason,
        reason_text=message.reason_text,
        send_at=message.send_at,
        segments=message.segments,
        text=message.body,
        created=result.created,
    )


@router.post("/{conversation_id}/assign", response_model=ConversationRead)
def assign(
    conversation_id: RowId, body: AssignBody, actor: Inbox, session: DbSession
) -> ConversationRead:
    """Assign the conversation to a user, or to nobody."""
    conversation = service.assign_conversation(
        session, actor=actor, conversation_id=conversation_id, user=body.user, now=utcnow()
    )
    return _read(service.summary_of(session, conversation=conversation))


@router.post("/{conversation_id}/close", response_model=ConversationRead)
def close(conversation_id: RowId, actor: Inbox, session: DbSession) -> ConversationRead:
    """Close the conversation; the person's next message reopens it."""
    conversation = service.close_conversation(
        session, actor=actor, conversation_id=conversation_id, now=utcnow()
    )
    return _read(service.summary_of(session, conversation=conversation))


@router.post("/{conversation_id}/reopen", response_model=ConversationRead)
def reopen(conversation_id: RowId, actor: Inbox, session: DbSession) -> ConversationRead:
    """Reopen a closed conversation."""
    conversation = service.reopen_conversation(
        session, actor=actor, conversation_id=conversation_id, now=utcnow()
    )
    return _read(service.summary_of(session, conversation=conversation))


@router.post("/{conversation_id}/read", response_model=ConversationRead)
def read(conversation_id: RowId, actor: Inbox, session: DbSession) -> ConversationRead:
    """Mark everything in the conversation read by the team."""
    conversation = service.mark_read(session, conversation_id=conversation_id, now=utcnow())
    return _read(service.summary_of(session, conversation=conversation))
