"""Replies from the inbox: the 24-hour conversational window, the preview of a reply, and the
audited command that writes one through the outbox.

A reply to a person whose last message is less than `WINDOW` old, and is not a STOP, is
**conversational**: an answer they asked for, not prospection. It goes to the outbox as a
non-marketing message: no brand and no STOP footer, not counted by marketing caps, not held
by quiet hours, and the policy still decides it — an erasure, a complaint or an operator's
block refuses it, and a person who stopped reminders and order updates is not answered
either (the strict default). Anything else is the user's choice, transactional or marketing,
decided by the policy as any one-off message: marketing needs consent and gets the footer,
the hours and the caps. A message the policy holds or refuses keeps its reason on the
outbox row, which the conversation shows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.accounts.service import Actor, record_audit
from textopt.campaigns.sends import enqueue_message
from textopt.compose import message_frame
from textopt.config import Settings
from textopt.contacts.fields import check_storable
from textopt.contacts.phones import parse_phone
from textopt.conversations.models import Conversation, ConversationReply
from textopt.conversations.service import get_conversation_or_raise, summary_of
from textopt.errors import ValidationError
from textopt.inbound.keywords import KeywordKind
from textopt.inbound.models import InboundMessage
from textopt.outbox.models import Message
from textopt.vocab import Purpose

__all__ = [
    "TEXT_MAX",
    "WINDOW",
    "ReplyKind",
    "ReplyPreview",
    "ReplyResult",
    "ReplyWindow",
    "preview_reply",
    "reply_to_conversation",
    "reply_window",
]

#: How long after a person's message a reply is conversational.
WINDOW = dt.timedelta(hours=24)
#: The longest reply, in characters (the segment limit of the workspace applies as well).
TEXT_MAX = 1_600


class ReplyKind(StrEnum):
    """How a reply is sent."""

    CONVERSATIONAL = "conversational"  # within 24 h of the person's message: an answer
    TRANSACTIONAL = "transactional"  # an order or appointment notice: the policy as usual
    MARKETING = "marketing"  # a promotion: consent, brand, STOP footer, hours and caps


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    """Whether a reply now is conversational, and why not when it is not."""

    conversational: bool
    last_inbound_at: dt.datetime | None
    closes_at: dt.datetime | None  # when the conversational window ends (if open)
    # "open", "expired" (the last message is 24 h old or more), "stopped" (it was a STOP),
    # "none" (the person never wrote)
    state: str
    provider: str | None  # the account the person wrote to: the reply goes through it


def reply_window(session: Session, *, conversation: Conversation, now: dt.datetime) -> ReplyWindow:
    """The conversational window of `conversation` at `now`, from its last inbound message."""
    query = select(InboundMessage.received_at, InboundMessage.keyword, InboundMessage.provider)
    if conversation.contact_id is not None:
        query = query.where(InboundMessage.contact_id == conversation.contact_id)
    else:
        query = query.where(
            InboundMessage.contact_id.is_(None), InboundMessage.phone == conversation.phone
        )
    last = session.execute(
        query.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(1)
    ).first()
    if last is None:
        return ReplyWindow(False, None, None, "none", None)
    received, keyword, provider = last
    if keyword == str(KeywordKind.STOP):
        # the answer to a STOP is its confirmation, sent already: nothing else is asked for
        return ReplyWindow(False, received, None, "stopped", provider)
    closes = received + WINDOW
    if closes <= now:
        return ReplyWindow(False, received, None, "expired", provider)
    return ReplyWindow(True, received, closes, "open", provider)


def _kind(window: ReplyWindow, kind: ReplyKind | str | None) -> ReplyKind:
    """The kind a reply goes as: the window's when not chosen; never conversational when the
    window is closed."""
    if kind is None or kind == "":
        if window.conversational:
            return ReplyKind.CONVERSATIONAL
        raise ValidationError(
            f"kind: {_closed(window)}: choose whether the reply is transactional or marketing",
            field="kind",
        )
    try:
        chosen = ReplyKind(kind)
    except ValueError:
        raise ValidationError(
            f"kind: {str(kind)[:20]!r} is not a kind of reply "
            "(conversational, transactional or marketing)",
            field="kind",
        ) from None
    if chosen is ReplyKind.CONVERSATIONAL and not window.conversational:
        raise ValidationError(f"kind: {_closed(window)}", field="kind")
    return chosen


def _closed(window: ReplyWindow) -> str:
    """Why a reply cannot be conversational, as a sentence."""
    if window.state == "stopped":
        return "the person's last message is a STOP, so a reply is not conversational"
    if window.state == "none":
        return "the person has not written, so a reply is not conversational"
    return "the person's last message is 24 hours old or more, so a reply is not conversational"


def _purpose(kind: ReplyKind) -> Purpose:
    return Purpose.MARKETING if kind is ReplyKind.MARKETING else Purpose.TRANSACTIONAL


def _text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise ValidationError("text: the reply is empty", field="text")
    if len(text) > TEXT_MAX:
        raise ValidationError(
            f"text: the reply has {len(text)} characters; at most {TEXT_MAX}", field="text"
        )
    check_storable(text, field="text")
    return text


@dataclass(frozen=True, slots=True)
class ReplyPreview:
    """What a reply would be: its kind, its text as framed, its SMS parts."""

    kind: ReplyKind
    text: str
    segments: int
    encoding: str
    window: ReplyWindow


def preview_reply(
    session: Session,
    *,
    settings: Settings,
    conversation: Conversation,
    text: str,
    kind: ReplyKind | str | None,
    now: dt.datetime,
) -> ReplyPreview:
    """The reply as it would go now: a marketing one framed with brand and footer."""
    window = reply_window(session, conversation=conversation, now=now)
    chosen = _kind(window, kind)
    summary = summary_of(session, conversation=conversation)
    number = summary.number
    country = (
        summary.contact.country
        if summary.contact is not None and summary.contact.country
        else (parse_phone(number).country if number else settings.default_region)
    )
    composed = message_frame(
        purpose=_purpose(chosen),
        country=country or settings.default_region,
        brand=settings.brand_name,
        stop_number=settings.stop_number,
        language=(summary.contact.language or "") if summary.contact else "",
    ).compose(text.strip(), smart_encoding=True)
    analysis = composed.analysis
    return ReplyPreview(chosen, composed.text, analysis.segments, str(analysis.encoding), window)


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """A reply written: its row, its outbox message (sent, planned, held or blocked), and
    whether it is new (False: the same idempotency key was used before)."""

    reply: ConversationReply
    message: Message
    created: bool


def reply_to_conversation(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    conversation_id: int | str,
    text: str,
    kind: ReplyKind | str | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime,
) -> ReplyResult:
    """Write a user's reply to the outbox, decided by the policy; audited with the user.

    `kind` None is conversational when the window is open, else refused: the user says
    whether the reply is transactional or marketing.
    """
    conversation = get_conversation_or_raise(session, conversation_id=conversation_id)
    body = _text(text)
    window = reply_window(session, conversation=conversation, now=now)
    chosen = _kind(window, kind)
    number = summary_of(session, conversation=conversation).number
    if number is None:
        raise ValidationError(
            "the person has no number to reply to (erased, or the contact has none)",
            field="conversation",
        )
    key = f"reply-{conversation.id}-{idempotency_key or uuid.uuid4().hex}"[:100]
    message, created = enqueue_message(
        session,
        settings=settings,
        to=number,
        text="{{ reply }}",  # the user's words are a value, never parsed as a template
        variables={"reply": body},
        purpose=_purpose(chosen),
        idempotency_key=key,
        provider=window.provider if window.provider in settings.providers else None,
        now=now,
    )
    if not created:
        existing = session.scalars(
            select(ConversationReply).where(ConversationReply.message_id == message.id)
        ).one()
        return ReplyResult(existing, message, False)
    reply = ConversationReply(
        conversation_id=conversation.id,
        message_id=message.id,
        user_id=actor.user_id,
        actor_label=actor.label,
        kind=str(chosen),
        created_at=now,
    )
    session.add(reply)
    conversation.last_activity_at = max(conversation.last_activity_at, now)
    conversation.unread_count = 0
    conversation.read_at = now
    conversation.updated_at = now
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="conversation.reply",
        target_type="conversation",
        target_id=conversation.id,
        detail={
            "message_id": message.id,
            "kind": str(chosen),
            "status": message.status,
            "reason": message.reason,
        },
    )
    return ReplyResult(reply, message, True)
