"""The inbox: conversations with unread counts (open, closed, mine, all), one conversation with
its messages both ways, the reply box (conversational or not, its SMS parts), assign, close
and reopen. Everything needs the `inbox` permission (what people wrote is personal data)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from textopt.accounts.models import Scope
from textopt.accounts.service import list_users
from textopt.config import Settings
from textopt.conversations import replies, service
from textopt.db.base import utcnow
from textopt.errors import TextoptError
from textopt.http.deps import DbSession
from textopt.http.params import RowId
from textopt.web.auth import CsrfField, Viewer, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import request_translator
from textopt.web.rendering import counted, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_NOTICES = ("replied", "held", "blocked", "assigned", "unassigned", "closed", "reopened")
_KINDS = tuple(str(k) for k in replies.ReplyKind)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/app/inbox")
def inbox_page(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    show: Annotated[str, Query(max_length=10)] = "open",
) -> HTMLResponse:
    """The conversations of one list, the latest activity first."""
    viewer.require(Scope.INBOX)
    if show not in service.FILTERS:
        show = "open"
    found = service.list_conversations(session, show=show, user_id=viewer.actor.user_id, limit=200)
    return render(
        request,
        "inbox.html",
        section="Inbox",
        show=show,
        filters=service.FILTERS,
        conversations=found,
    )


def _conversation_page(
    request: Request,
    session: DbSession,
    viewer: Viewer,
    *,
    conversation_id: int,
    error: str | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    conversation = service.get_conversation_or_raise(session, conversation_id=conversation_id)
    now = utcnow()
    window = replies.reply_window(session, conversation=conversation, now=now)
    _ = request_translator(request)
    # the navigation counts what is unread once this conversation is read
    request.state.viewer = dataclasses.replace(viewer, unread=service.unread_total(session))
    return render(
        request,
        "conversation.html",
        status_code=422 if error else 200,
        section="Inbox",
        summary=service.summary_of(session, conversation=conversation),
        entries=service.thread(session, conversation=conversation),
        window=window,
        kinds=_KINDS,
        users=[u for u in list_users(session) if service.can_answer(u)],
        form=form or {},
        error=error,
        notice=_(f"inbox.{notice}") if notice in _NOTICES else None,
    )


@router.get("/app/inbox/{conversation_id}")
def conversation_page(
    conversation_id: RowId,
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    notice: str | None = None,
) -> HTMLResponse:
    """One conversation; opening it marks it read."""
    viewer.require(Scope.INBOX)
    service.mark_read(session, conversation_id=conversation_id, now=utcnow())
    return _conversation_page(
        request, session, viewer, conversation_id=conversation_id, notice=notice
    )


@router.get("/app/inbox/{conversation_id}/preview")
def preview(
    conversation_id: RowId,
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    text: Annotated[str, Query(max_length=replies.TEXT_MAX * 2)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
) -> JSONResponse:
    """The reply box's live line: how the reply goes and how many SMS parts it takes."""
    viewer.require(Scope.INBOX)
    _ = request_translator(request)
    conversation = service.get_conversation_or_raise(session, conversation_id=conversation_id)
    try:
        found = replies.preview_reply(
            session,
            settings=_settings(request),
            conversation=conversation,
            text=text,
            kind=kind or None,
            now=utcnow(),
        )
    except TextoptError as exc:
        return JSONResponse({"error": translate_message(_, exc.message)})
    parts = counted(request, found.segments, "SMS part", "SMS parts")
    return JSONResponse(
        {"label": f"{_(f'reply.{found.kind}')} · {parts} ({found.encoding})", "text": found.text}
    )


@router.post("/app/inbox/{conversation_id}/reply")
def reply(
    conversation_id: RowId,
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    text: Annotated[str, Form(max_length=replies.TEXT_MAX * 2)],
    kind: Annotated[str, Form(max_length=20)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Reply through the outbox; a refusal of the form is shown on it, a message the policy
    holds or blocks is shown in the thread with its reason."""
    check_form(viewer, csrf_token, Scope.INBOX)
    try:
        with session.begin_nested():
            result = replies.reply_to_conversation(
                session,
                actor=viewer.actor,
                settings=_settings(request),
                conversation_id=conversation_id,
                text=text,
                kind=kind or None,
                now=utcnow(),
            )
    except TextoptError as exc:
        error = translate_message(request_translator(request), exc.message)
        return _conversation_page(
            request,
            session,
            viewer,
            conversation_id=conversation_id,
            error=error,
            form={"text": text, "kind": kind},
        )
    message = result.message
    notice = "blocked" if message.status == "blocked" else "held" if message.reason else "replied"
    return RedirectResponse(
        f"/app/inbox/{conversation_id}?notice={notice}#message-{message.id}", status_code=303
    )


@router.post("/app/inbox/{conversation_id}/assign")
def assign(
    conversation_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    user: Annotated[str, Form(max_length=320)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Assign the conversation to a user (`me`: the viewer), or to nobody."""
    check_form(viewer, csrf_token, Scope.INBOX)
    chosen: Any = None
    if user == "me":
        chosen = viewer.actor.user_id
    elif user:
        chosen = user
    service.assign_conversation(
        session, actor=viewer.actor, conversation_id=conversation_id, user=chosen, now=utcnow()
    )
    notice = "assigned" if chosen is not None else "unassigned"
    return RedirectResponse(f"/app/inbox/{conversation_id}?notice={notice}", status_code=303)


_STATE_CHANGES = {
    "close": (service.close_conversation, "closed"),
    "reopen": (service.reopen_conversation, "reopened"),
}


@router.post("/app/inbox/{conversation_id}/{action}")
def change_state(
    conversation_id: RowId,
    action: Literal["close", "reopen"],
    viewer: WebViewer,
    session: DbSession,
    csrf_token: CsrfField = None,
) -> Response:
    """Close the conversation (the person's next message reopens it), or reopen it."""
    check_form(viewer, csrf_token, Scope.INBOX)
    command, notice = _STATE_CHANGES[action]
    command(session, actor=viewer.actor, conversation_id=conversation_id, now=utcnow())
    return RedirectResponse(f"/app/inbox/{conversation_id}?notice={notice}", status_code=303)
