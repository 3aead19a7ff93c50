"""What a keyword does to consent and suppression: STOP, START, YES (HELP only answers).

STOP revokes SMS marketing consent (source `keyword`, the inbound message as proof) and
keeps the number suppressed; START grants again and lifts a STOP's suppression, never a
stronger one; YES confirms the latest pending double opt-in (unless a question asked later
takes the answer: `answering.py`). Each answers at most once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.consent.models import (
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    SuppressionReason,
)
from textopt.consent.service import (
    current_consent,
    history,
    lift_suppression,
    record_consent,
    suppress,
    suppression_reasons,
)
from textopt.consent.suppression import Digester, suppression_notes
from textopt.contacts.models import Contact
from textopt.errors import ConsentError
from textopt.inbound.keywords import KeywordKind
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.vocab import Channel, Purpose

__all__ = ["Applied", "apply_keyword", "pending_request", "stop_note"]

_K = KeywordKind
_A = InboundAction
_MARKETING = (str(Channel.SMS), str(Purpose.MARKETING))


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a keyword did: the action, the reply to send, the ledger event."""

    action: InboundAction
    reply_kind: KeywordKind | None = None
    consent_event_id: int | None = None


def apply_keyword(
    session: Session,
    *,
    inbound: InboundMessage,
    kind: KeywordKind,
    contact: Contact | None,
    e164: str,
    digest: Digester,
) -> Applied:
    """Apply a stored message's keyword for its sender's number (and contact, if any)."""
    proof = {"inbound_message_id": inbound.id, "phone": e164, "text": inbound.text}
    if kind == _K.STOP:
        return _stop(
            session, inbound=inbound, contact=contact, e164=e164, proof=proof, digest=digest
        )
    if kind == _K.START:
        at = inbound.received_at
        return _start(session, contact=contact, e164=e164, proof=proof, at=at, digest=digest)
    if kind == _K.HELP:
        return Applied(_A.HELPED, _K.HELP)
    if kind == _K.CONFIRM and contact is not None:
        return _confirm(
            session, contact=contact, proof=proof, at=inbound.received_at, digest=digest
        )
    if kind == _K.CONFIRM:
        return Applied(_A.NOTHING_TO_CONFIRM)
    return Applied(_A.STORED)


def _stop(
    session: Session,
    *,
    inbound: InboundMessage,
    contact: Contact | None,
    e164: str,
    proof: dict[str, Any],
    digest: Digester,
) -> Applied:
    """Revoke, suppress and confirm; a repeated STOP changes nothing and is not answered.

    The number was suppressed when this message was stored (`store_inbound`); only an entry
    of an earlier STOP makes this one a repeat.
    """
    notes = suppression_notes(session, digest=digest, phone=e164, channel=Channel.SMS)
    keyword = str(SuppressionReason.KEYWORD)
    suppressed = keyword in notes and notes[keyword] != stop_note(
        inbound.provider, inbound.provider_message_id
    )
    revoked = True
    if contact is not None:
        state = current_consent(session, contact_id=contact.id).get(_MARKETING)
        revoked = state is not None and state.status == ConsentAction.REVOKED
    if suppressed and revoked:
        return Applied(_A.ALREADY_STOPPED)
    event_id = None
    if contact is not None and not revoked:
        event_id = _keyword_consent(
            session,
            contact,
            ConsentAction.REVOKED,
            at=inbound.received_at,
            proof=proof,
            digest=digest,
        )
    suppress(  # already there unless lifted meanwhile: stored with the message
        session,
        digest=digest,
        phone=e164,
        channel=Channel.SMS,
        reason=SuppressionReason.KEYWORD,
        note=stop_note(inbound.provider, inbound.provider_message_id),
    )
    return Applied(_A.STOPPED, _K.STOP, event_id)


def stop_note(provider: str, provider_message_id: str) -> str:
    """The suppression entry's note for a STOP: the message that asked for it."""
    return f"STOP {provider}:{provider_message_id}"[:200]


def _start(
    session: Session,
    *,
    contact: Contact | None,
    e164: str,
    proof: dict[str, Any],
    at: dt.datetime,
    digest: Digester,
) -> Applied:
    """Grant again and lift the STOP, unless a stronger suppression stays."""
    reasons = set(suppression_reasons(session, digest=digest, phone=e164, channel=Channel.SMS))
    if reasons - {str(SuppressionReason.KEYWORD)}:
        return Applied(_A.START_REFUSED)  # an erasure, complaint or operator's entry wins
    lift_suppression(session, digest=digest, phone=e164, channel=Channel.SMS)
    if contact is None:
        return Applied(_A.START_WITHOUT_CONTACT)
    event_id = _keyword_consent(
        session, contact, ConsentAction.GRANTED, at=at, proof=proof, digest=digest
    )
    return Applied(_A.RESTARTED, _K.START, event_id)


def _confirm(
    session: Session,
    *,
    contact: Contact,
    proof: dict[str, Any],
    at: dt.datetime,
    digest: Digester,
) -> Applied:
    """Confirm the latest request (double opt-in) that has no confirmation yet."""
    pending = pending_request(session, contact_id=contact.id)
    if pending is None:
        return Applied(_A.NOTHING_TO_CONFIRM)
    try:
        event_id = _keyword_consent(
            session,
            contact,
            ConsentAction.CONFIRMED,
            at=at,
            proof={**proof, "confirms_event": pending.id},
            text_version=pending.consent_text_version,
            digest=digest,
        )
    except ConsentError:
        return Applied(_A.NOTHING_TO_CONFIRM)  # suppressed meanwhile: suppression wins
    return Applied(_A.CONFIRMED, _K.CONFIRM, event_id)


def pending_request(session: Session, *, contact_id: int) -> ConsentEvent | None:
    """The contact's double opt-in request awaiting its confirmation, or None."""
    pending = None
    for event, _proof in history(session, contact_id=contact_id):
        if (event.channel, event.purpose) != _MARKETING:
            continue
        # a grant, a confirmation or a revocation settles any earlier request
        pending = event if event.action == ConsentAction.REQUESTED else None
    return pending


def _keyword_consent(
    session: Session,
    contact: Contact,
    action: ConsentAction,
    *,
    at: dt.datetime,
    proof: dict[str, Any],
    digest: Digester,
    text_version: str | None = None,
) -> int:
    """Append an SMS marketing event given by keyword; returns its ledger id."""
    return record_consent(
        session,
        digest=digest,
        contact_id=contact.id,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        action=action,
        source=ConsentSource.KEYWORD,
        occurred_at=at,
        consent_text_version=text_version,
        proof=proof,
    ).id
