"""Inbound messages: store each one once, then apply its keyword through the ledger.

STOP revokes SMS marketing consent (a ledger event with source `keyword` and the inbound
message as proof), suppresses the number and answers once; START grants again, lifts a
STOP's suppression (never an erasure's, a complaint's or an operator's) and answers; HELP
answers with the brand's help text; YES/OUI/JA/SÍ confirms a pending double opt-in.

Everything happens in the caller's transaction: the stored message, the ledger event, the
suppression and the reply in the outbox commit together or not at all. A provider that
retries its webhook hits the unique (provider, provider message id) and gets the first
result back, so nothing is applied or answered twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentSource, SuppressionReason
from textopt.consent.service import (
    current_consent,
    history,
    lift_suppression,
    record_consent,
    suppress,
    suppression_reasons,
)
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.db.base import utcnow
from textopt.db.engine import upsert_insert
from textopt.dispatch.models import Message
from textopt.errors import ConsentError, ValidationError
from textopt.inbound.keywords import KeywordKind, KeywordMatch, classify
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.inbound.replies import ReplyContext, reply_language, reply_text
from textopt.providers.mo import InboundSms
from textopt.vocab import Channel, Purpose

__all__ = [
    "InboundResult",
    "erase_inbound",
    "list_inbound",
    "record_inbound",
    "record_sms",
]

log = logging.getLogger(__name__)

_K = KeywordKind
_A = InboundAction
_MARKETING = (str(Channel.SMS), str(Purpose.MARKETING))


@dataclass(frozen=True, slots=True)
class InboundResult:
    """One stored inbound message, what it asked for and what was done."""

    message: InboundMessage
    created: bool  # False: the provider sent it before (a retried webhook); nothing redone
    kind: KeywordKind
    action: InboundAction
    reply: Message | None = None


def record_inbound(
    session: Session,
    *,
    provider: str,
    provider_message_id: str,
    sender: str,
    recipient: str,
    text: str,
    received_at: dt.datetime,
    settings: Settings,
    now: dt.datetime | None = None,
) -> InboundResult:
    """Store an inbound message once and apply its keyword (STOP, START, HELP, YES)."""
    if not provider_message_id.strip():
        raise ValidationError("an inbound message needs the provider's message id", field="id")
    if received_at.tzinfo is None:
        raise ValidationError("received_at must carry a time zone offset", field="received_at")
    now = now or utcnow()
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL; keep the rest
    info = parse_phone(sender, settings.default_region)
    match = classify(text)
    contact = session.scalars(
        select(Contact).where(Contact.phone == info.e164, Contact.erased_at.is_(None))
    ).first()
    inserted = session.execute(
        upsert_insert(session, InboundMessage)
        .values(
            received_at=received_at,
            provider=provider,
            provider_message_id=provider_message_id,
            sender=info.e164,
            recipient=recipient,
            text=text,
            contact_id=contact.id if contact else None,
            keyword=str(match.kind),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
        .returning(InboundMessage.id)
    ).scalar_one_or_none()
    if inserted is None:
        existing = session.scalars(
            select(InboundMessage).where(
                InboundMessage.provider == provider,
                InboundMessage.provider_message_id == provider_message_id,
            )
        ).one()
        reply = (
            session.get(Message, existing.reply_message_id) if existing.reply_message_id else None
        )
        return InboundResult(
            existing, False, KeywordKind(existing.keyword), _A(existing.action or _A.STORED), reply
        )
    inbound = session.get_one(InboundMessage, inserted)
    if contact is not None and (
        contact.last_activity_at is None or contact.last_activity_at < received_at
    ):
        contact.last_activity_at = received_at  # a person who writes to us is active
    country = contact.country if contact and contact.country else info.country
    language = reply_language(match.language, contact.language if contact else None, country)
    applied = _apply(
        session, inbound=inbound, match=match, contact=contact, e164=info.e164, settings=settings
    )
    reply = None
    if applied.reply_kind is not None:
        context = ReplyContext(
            brand=settings.brand_name,
            contact=settings.support_contact,
            per_30_days=settings.max_marketing_per_30_days,
            country=country,
            help_text=settings.help_text,
        )
        reply, _ = enqueue_message(
            session,
            settings=settings,
            to=info.e164,
            text="{{ reply }}",  # the reply is a value, never parsed as a template
            variables={"reply": reply_text(applied.reply_kind, language, context)},
            purpose=Purpose.TRANSACTIONAL,
            idempotency_key=f"inbound-{inbound.id}-reply",
            provider=provider if provider in settings.providers else None,
            now=now,
        )
    inbound.language = language
    inbound.action = str(applied.action)
    inbound.consent_event_id = applied.consent_event_id
    inbound.reply_message_id = reply.id if reply else None
    inbound.handled_at = now
    session.flush()
    log.info(
        "inbound %s from %s via %s: %s -> %s",
        inbound.id,
        _masked(info.e164),
        provider,
        match.kind,
        applied.action,
    )
    return InboundResult(inbound, True, match.kind, applied.action, reply)


def record_sms(
    session: Session, *, sms: InboundSms, settings: Settings, now: dt.datetime | None = None
) -> InboundResult:
    """`record_inbound` for a message as a provider handed it over."""
    return record_inbound(
        session,
        provider=sms.provider,
        provider_message_id=sms.provider_message_id,
        sender=sms.sender,
        recipient=sms.recipient,
        text=sms.text,
        received_at=sms.received_at,
        settings=settings,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class _Applied:
    action: InboundAction
    reply_kind: KeywordKind | None = None
    consent_event_id: int | None = None


def _apply(
    session: Session,
    *,
    inbound: InboundMessage,
    match: KeywordMatch,
    contact: Contact | None,
    e164: str,
    settings: Settings,
) -> _Applied:
    proof = {"inbound_message_id": inbound.id, "phone": e164, "text": inbound.text}
    if match.kind == _K.STOP:
        return _stop(session, inbound=inbound, contact=contact, e164=e164, proof=proof)
    if match.kind == _K.START:
        return _start(session, contact=contact, e164=e164, proof=proof, at=inbound.received_at)
    if match.kind == _K.HELP:
        return _Applied(_A.HELPED, _K.HELP)
    if match.kind == _K.CONFIRM and contact is not None:
        return _confirm(session, contact=contact, proof=proof, at=inbound.received_at)
    if match.kind == _K.CONFIRM:
        return _Applied(_A.NOTHING_TO_CONFIRM)
    return _Applied(_A.STORED)


def _stop(
    session: Session,
    *,
    inbound: InboundMessage,
    contact: Contact | None,
    e164: str,
    proof: dict[str, Any],
) -> _Applied:
    """Revoke, suppress and confirm; a repeated STOP changes nothing and is not answered."""
    suppressed = "keyword" in suppression_reasons(session, phone=e164, channel=Channel.SMS)
    revoked = True
    if contact is not None:
        state = current_consent(session, contact_id=contact.id).get(_MARKETING)
        revoked = state is not None and state.status == ConsentAction.REVOKED
    if suppressed and revoked:
        return _Applied(_A.ALREADY_STOPPED)
    event_id = None
    if contact is not None and not revoked:
        event_id = _keyword_consent(
            session, contact, ConsentAction.REVOKED, at=inbound.received_at, proof=proof
        )
    suppress(
        session,
        phone=e164,
        channel=Channel.SMS,
        reason=SuppressionReason.KEYWORD,
        note=f"inbound message {inbound.id}",
    )
    return _Applied(_A.STOPPED, _K.STOP, event_id)


def _start(
    session: Session,
    *,
    contact: Contact | None,
    e164: str,
    proof: dict[str, Any],
    at: dt.datetime,
) -> _Applied:
    """Grant again and lift the STOP, unless a stronger suppression stays."""
    reasons = set(suppression_reasons(session, phone=e164, channel=Channel.SMS))
    if reasons - {str(SuppressionReason.KEYWORD)}:
        return _Applied(_A.START_REFUSED)  # an erasure, complaint or operator's entry wins
    lift_suppression(session, phone=e164, channel=Channel.SMS)
    if contact is None:
        return _Applied(_A.START_WITHOUT_CONTACT)
    event_id = _keyword_consent(session, contact, ConsentAction.GRANTED, at=at, proof=proof)
    return _Applied(_A.RESTARTED, _K.START, event_id)


def _confirm(
    session: Session, *, contact: Contact, proof: dict[str, Any], at: dt.datetime
) -> _Applied:
    """Confirm the latest request (double opt-in) that has no confirmation yet."""
    pending = None
    for event, _proof in history(session, contact_id=contact.id):
        if (event.channel, event.purpose) != _MARKETING:
            continue
        # a grant, a confirmation or a revocation settles any earlier request
        pending = event if event.action == ConsentAction.REQUESTED else None
    if pending is None:
        return _Applied(_A.NOTHING_TO_CONFIRM)
    try:
        event_id = _keyword_consent(
            session,
            contact,
            ConsentAction.CONFIRMED,
            at=at,
            proof={**proof, "confirms_event": pending.id},
            text_version=pending.consent_text_version,
        )
    except ConsentError:
        return _Applied(_A.NOTHING_TO_CONFIRM)  # suppressed meanwhile: suppression wins
    return _Applied(_A.CONFIRMED, _K.CONFIRM, event_id)


def _keyword_consent(
    session: Session,
    contact: Contact,
    action: ConsentAction,
    *,
    at: dt.datetime,
    proof: dict[str, Any],
    text_version: str | None = None,
) -> int:
    """Append an SMS marketing event given by keyword; returns its ledger id."""
    return record_consent(
        session,
        contact_id=contact.id,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        action=action,
        source=ConsentSource.KEYWORD,
        occurred_at=at,
        consent_text_version=text_version,
        proof=proof,
    ).id


def _masked(e164: str) -> str:
    """A number for logs: the country code and the last two digits only."""
    return f"{e164[:3]}…{e164[-2:]}" if len(e164) > 6 else "…"


def list_inbound(
    session: Session,
    *,
    contact_id: int | None = None,
    sender: str | None = None,
    limit: int = 100,
) -> list[InboundMessage]:
    """The newest inbound messages, of one contact or one sending number if given."""
    query = select(InboundMessage).order_by(
        InboundMessage.received_at.desc(), InboundMessage.id.desc()
    )
    if contact_id is not None:
        query = query.where(InboundMessage.contact_id == contact_id)
    if sender is not None:
        query = query.where(InboundMessage.sender == sender)
    return list(session.scalars(query.limit(limit)))


def erase_inbound(session: Session, *, contact_ids: list[int], numbers: list[str]) -> int:
    """Empty the number and text of these contacts' (or numbers') inbound messages."""
    conditions = []
    if contact_ids:
        conditions.append(InboundMessage.contact_id.in_(contact_ids))
    if numbers:
        conditions.append(InboundMessage.sender.in_(numbers))
    if not conditions:
        return 0
    result = session.execute(
        update(InboundMessage).where(or_(*conditions)).values(sender=None, text=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
