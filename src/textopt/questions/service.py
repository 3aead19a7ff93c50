"""Questions: ask one with a message, find a contact's latest open one, record its answer.

A one-off send (`campaigns.sends.enqueue_message`, with `asks`) records its question in the
message's transaction. An inbound answer (`inbound.service.apply_inbound`) records the event
of the answer, marks the question answered and queues the `question.answered` webhook in
the inbound message's transaction: all or nothing, once per inbound message.

The moment a question was put to the person is when its message left (`submitted_at`), or
when it was written for one whose provider gave no time: "the latest open question" is the
one whose message the person received last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from textopt.contacts.fields import check_storable
from textopt.contacts.models import Contact
from textopt.errors import ValidationError
from textopt.events.models import ContactEvent, EventSource
from textopt.events.service import record_event
from textopt.instants import utc_instant
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.questions.kinds import QuestionKind, question_kind
from textopt.questions.models import REFERENCE_MAX, Answer, Question
from textopt.webhooks.models import WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "Ask",
    "OpenQuestion",
    "QuestionView",
    "ask_question",
    "check_ask",
    "delete_questions_of",
    "latest_open_question",
    "list_questions",
    "question_fields",
    "record_answer",
]

#: How long a question stays open when the sender gives no `answer_by`.
DEFAULT_LIFETIME = dt.timedelta(hours=72)
#: The longest a question may stay open.
MAX_LIFETIME = dt.timedelta(days=60)

_S = MessageStatus
#: The states of a message the person may have read: a question is open only in these.
_SENT = (str(_S.SENDING), str(_S.SUBMITTED), str(_S.DELIVERED), str(_S.UNKNOWN))
#: The states of a message that will never reach the person: its question is closed.
_UNDELIVERED = (str(_S.FAILED), str(_S.EXPIRED), str(_S.BLOCKED), str(_S.CANCELLED))


@dataclass(frozen=True, slots=True)
class Ask:
    """A question checked before its message is written: kind, reference, deadline."""

    kind: QuestionKind
    reference: str | None
    expires_at: dt.datetime


def check_ask(
    *,
    kind: str,
    reference: str | None,
    answer_by: dt.datetime | None,
    now: dt.datetime,
) -> Ask:
    """A question's kind, reference and deadline, checked (fields `asks`, `asks_reference`,
    `answer_by`); the deadline defaults to 72 hours and is at most 60 days away."""
    found = question_kind(kind)
    ref = None
    if reference is not None and reference.strip():
        ref = reference.strip()
        check_storable(ref, field="asks_reference")
        if len(ref) > REFERENCE_MAX:
            raise ValidationError(
                f"asks_reference: {len(ref)} characters; at most {REFERENCE_MAX}",
                field="asks_reference",
            )
    if answer_by is None:
        expires = now + DEFAULT_LIFETIME
    else:
        expires = utc_instant(answer_by, field="answer_by")
        if expires <= now:
            raise ValidationError(
                f"answer_by: {expires.isoformat()} has passed: a question needs time to be "
                "answered",
                field="answer_by",
            )
        if expires > now + MAX_LIFETIME:
            raise ValidationError(
                f"answer_by: {expires.isoformat()} is more than {MAX_LIFETIME.days} days away",
                field="answer_by",
            )
    return Ask(found, ref, expires)


def ask_question(session: Session, *, message: Message, ask: Ask, now: dt.datetime) -> Question:
    """Record the question `message` asks (its contact answers it); flushes."""
    if message.contact_id is None:
        raise ValidationError(
            "asks: the recipient is no contact: only a contact's answer can be recorded "
            "(add the contact first)",
            field="asks",
        )
    question = Question(
        contact_id=message.contact_id,
        kind=ask.kind.name,
        message_id=message.id,
        reference=ask.reference,
        asked_at=now,
        expires_at=ask.expires_at,
    )
    session.add(question)
    session.flush()
    return question


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """A contact's latest open question and when it was put to the person."""

    question: Question
    asked: dt.datetime


def latest_open_question(
    session: Session, *, contact_id: int, now: dt.datetime
) -> OpenQuestion | None:
    """The open question whose message reached the person last, or None.

    On PostgreSQL the row is locked: two answers applied at once answer it once (the second
    finds it answered and looks no further).
    """
    asked = func.coalesce(Message.submitted_at, Question.asked_at)
    query = (
        select(Question, asked)
        .join(Message, Message.id == Question.message_id)
        .where(
            Question.contact_id == contact_id,
            Question.answered_at.is_(None),
            Question.expires_at > now,
            Message.status.in_(_SENT),
        )
        .order_by(asked.desc(), Question.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Question)
    row = session.execute(query).first()
    if row is None:
        return None
    return OpenQuestion(row[0], row[1])


def record_answer(
    session: Session,
    *,
    question: Question,
    contact: Contact,
    answer: Answer,
    inbound_message_id: int,
    at: dt.datetime,
    secret: bytes,
    now: dt.datetime,
) -> ContactEvent:
    """Answer `question`: its event (`appointment_confirmed`…), the question closed and the
    `question.answered` webhook queued, in the caller's transaction."""
    kind = question_kind(question.kind, field="kind")
    properties: dict[str, Any] = {
        "question_id": question.id,
        "message_id": question.message_id,
        "inbound_message_id": inbound_message_id,
    }
    if question.reference is not None:
        properties[kind.reference_property] = question.reference
    event, _ = record_event(
        session,
        contact=contact,
        type=kind.events[answer],
        properties=properties,
        occurred_at=min(at, now),
        # no key: an inbound message is applied once, its event, answer and the question's
        # closing committed together
        key=None,
        source=EventSource.INBOUND,
        recorded_by="reply",
        secret=secret,
        now=now,
    )
    question.answered_at = now
    question.answer = str(answer)
    question.inbound_message_id = inbound_message_id
    question.event_id = event.id
    session.flush()
    data = {
        "question_id": question.id,
        "contact_id": contact.id,
        "kind": kind.name,
        "answer": str(answer),
        "reference": question.reference,
        "message_id": question.message_id,
        "inbound_message_id": inbound_message_id,
        "event_id": event.id,
        "event_type": event.type,
        "answered_at": now.astimezone(dt.UTC).isoformat(),
    }
    emit_events(session, events=[(WebhookEvent.QUESTION_ANSWERED, data)], now=now)
    return event


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A question with its message's state and where it stands."""

    question: Question
    message_status: str
    state: str  # waiting, open, answered, expired, undelivered


def _state(question: Question, message_status: str, now: dt.datetime) -> str:
    if question.answered_at is not None:
        return "answered"
    if message_status in _UNDELIVERED:
        return "undelivered"
    if question.expires_at <= now:
        return "expired"
    if message_status in _SENT:
        return "open"
    return "waiting"  # its message waits in the outbox: not asked yet


def list_questions(
    session: Session,
    *,
    contact_id: int,
    now: dt.datetime,
    before_id: int | None = None,
    limit: int = 50,
) -> list[QuestionView]:
    """A contact's questions, the latest first (by descending id, a keyset cursor: those
    before `before_id`), each with where it stands."""
    query = (
        select(Question, Message.status)
        .join(Message, Message.id == Question.message_id)
        .where(Question.contact_id == contact_id)
        .order_by(Question.id.desc())
        .limit(max(1, min(limit, 1_000)))
    )
    if before_id is not None:
        query = query.where(Question.id < before_id)
    return [
        QuestionView(question, status, _state(question, status, now))
        for question, status in session.execute(query)
    ]


def question_fields(view: QuestionView) -> dict[str, Any]:
    """One question as JSON-ready data (the API, `--json`)."""
    q = view.question
    return {
        "id": q.id,
        "contact_id": q.contact_id,
        "kind": q.kind,
        "reference": q.reference,
        "message_id": q.message_id,
        "message_status": view.message_status,
        "state": view.state,
        "asked_at": q.asked_at.isoformat(),
        "expires_at": q.expires_at.isoformat(),
        "answered_at": q.answered_at.isoformat() if q.answered_at else None,
        "answer": q.answer,
        "inbound_message_id": q.inbound_message_id,
        "event_id": q.event_id,
    }


def delete_questions_of(session: Session, *, contact_ids: Collection[int]) -> int:
    """Delete every question of these contacts (an erasure: a reference names an
    appointment of the person); returns how many."""
    if not contact_ids:
        return 0
    result = session.execute(delete(Question).where(Question.contact_id.in_(list(contact_ids))))
    return int(result.rowcount)  # type: ignore[attr-defined]
