"""A reply that answers the person's latest open question (OUI, ANNULER, YES, NO…).

The latest open question wins, never both: an OUI answers either the pending double opt-in
(the ledger's `requested`, confirmed by `keyword_actions`) or the latest open question a
message asked (an appointment reminder), whichever was put to the person last. A cancel word
(ANNULER, NO, NEIN) answers the latest open question; a double opt-in has nothing to cancel.
A reply with no open question does what it did before questions existed (`None` here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.inbound.answers import classify_answer
from textopt.inbound.keyword_actions import pending_request
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.inbound.replies import reply_language
from textopt.outbox.models import Message
from textopt.questions.kinds import acknowledgement, question_kind
from textopt.questions.models import Answer
from textopt.questions.service import latest_open_question, record_answer
from textopt.vocab import Purpose

__all__ = ["QuestionReply", "answer_question"]

_ACTIONS = {
    Answer.CONFIRMED: InboundAction.QUESTION_CONFIRMED,
    Answer.CANCELLED: InboundAction.QUESTION_CANCELLED,
}


@dataclass(frozen=True, slots=True)
class QuestionReply:
    """What an answer did: the action, the acknowledgement written, its language."""

    action: InboundAction
    reply: Message
    language: str


def answer_question(
    session: Session,
    *,
    inbound: InboundMessage,
    contact: Contact | None,
    country: str | None,
    settings: Settings,
    now: dt.datetime,
) -> QuestionReply | None:
    """Answer the contact's latest open question with this message; None when it answers
    none (not an answer, no open question, or a later double opt-in takes the OUI)."""
    if contact is None or inbound.phone is None:
        return None
    match = classify_answer(inbound.text or "")
    if match is None:
        return None
    latest = latest_open_question(session, contact_id=contact.id, now=now)
    if latest is None:
        return None
    if match.answer == Answer.CONFIRMED:
        pending = pending_request(session, contact_id=contact.id)
        if pending is not None and pending.occurred_at >= latest.asked:
            return None  # the double opt-in was asked last: the OUI confirms it
    question = latest.question
    record_answer(
        session,
        question=question,
        contact=contact,
        answer=match.answer,
        inbound_message_id=inbound.id,
        at=inbound.received_at,
        secret=settings.resolved_secret_key(),
        now=now,
    )
    language = reply_language(match.language, contact.language, country)
    reply, _ = enqueue_message(
        session,
        settings=settings,
        to=inbound.phone,
        text="{{ reply }}",  # the acknowledgement is a value, never parsed as a template
        variables={"reply": acknowledgement(question_kind(question.kind), match.answer, language)},
        purpose=Purpose.TRANSACTIONAL,
        idempotency_key=f"inbound-{inbound.id}-reply",
        provider=inbound.provider if inbound.provider in settings.providers else None,
        now=now,
    )
    return QuestionReply(_ACTIONS[match.answer], reply, language)
