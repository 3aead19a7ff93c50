"""GDPR: access (art. 15), erasure (art. 17) and retention of prospects.

Erasure keeps the contact row as a tombstone (the consent ledger references it and stays
valid), deletes the personal proof records, the person's events, the `Idempotency-Key`
records of the person's messages and every upload or rejects file with a row of them, and
puts the number and address on the suppression list by keyed hash so the person is never
messaged for marketing again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from textopt.accounts.models import IdempotencyRecord
from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.consent.models import ConsentEvent, ConsentProof, SuppressionReason
from textopt.consent.suppression import Digester, address_digester
from textopt.contacts.models import Contact, ContactTag
from textopt.contacts.uploads import purge_person_files
from textopt.db.base import utcnow
from textopt.events.models import ContactEvent
from textopt.events.service import delete_events_of, event_fields
from textopt.flows.service import forget_runs_of, list_runs, run_fields
from textopt.inbound.service import erase_inbound, list_inbound
from textopt.outbox.models import Message
from textopt.questions.service import delete_questions_of, list_questions, question_fields

__all__ = [
    "ErasureReport",
    "erase_person",
    "export_person",
    "purge_inactive_prospects",
    "tombstone_contacts",
]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed."""

    contact_ids: list[int]
    proofs_deleted: int
    suppressed: list[str]  # "phone", "email"
    files_deleted: int = 0  # uploads and rejects files with a row of the person


def export_person(session: Session, *, contact: Contact, digest: Digester) -> dict[str, Any]:
    """Everything held about one person, as JSON-ready data (GDPR art. 15).

    `digest` keys the suppression list, which is read by the person's number and address.
    """
    events = consent_service.history(session, contact_id=contact.id)
    states = consent_service.current_consent(session, contact_id=contact.id)
    suppressed = {
        channel: consent_service.suppression_reasons(
            session, digest=digest, phone=contact.phone, channel=channel
        )
        for channel in ("sms", "email")
        if contact.phone
    }
    if contact.email:
        suppressed["email"] = consent_service.suppression_reasons(
            session, digest=digest, email=contact.email, channel="email"
        )
    return {
        "exported_at": utcnow().isoformat(),
        "contact": {
            "id": contact.id,
            "phone": contact.phone,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "language": contact.language,
            "country": contact.country,
            "region": contact.region,
            "timezone": contact.timezone,
            "timezones": list(contact.timezones or []),
            "attributes": dict(contact.attributes or {}),
            "tags": contact.tag_names,
            "is_customer": contact.is_customer,
            "created_at": contact.created_at.isoformat(),
            "last_activity_at": (
                contact.last_activity_at.isoformat() if contact.last_activity_at else None
            ),
        },
        "consent": {
            "current": [
                {
                    "channel": channel,
                    "purpose": purpose,
                    "status": state.status,
                    "source": state.source,
                    "since": state.since.isoformat(),
                }
                for (channel, purpose), state in sorted(states.items())
            ],
            "history": [
                {
                    "event": event.id,
                    "channel": event.channel,
                    "purpose": event.purpose,
                    "action": event.action,
                    "source": event.source,
                    "occurred_at": event.occurred_at.isoformat(),
                    "recorded_at": event.recorded_at.isoformat(),
                    "consent_text_version": event.consent_text_version,
                    "proof": proof.data if proof is not None else None,
                }
                for event, proof in events
            ],
        },
        "suppression": suppressed,
        "inbound_messages": [
            {
                "id": m.id,
                "received_at": m.received_at.isoformat(),
                "from": m.sender,
                "to": m.recipient,
                "text": m.text,
                "keyword": m.keyword,
                "workspace_keyword": m.workspace_keyword,
                "action": m.action,
            }
            for m in list_inbound(session, contact_id=contact.id, limit=10_000)
        ],
        "events": [
            event_fields(e)
            for e in session.scalars(
                select(ContactEvent)
                .where(ContactEvent.contact_id == contact.id)
                .order_by(ContactEvent.id)
            )
        ],
        "flows": [run_fields(run) for run in list_runs(session, contact_id=contact.id, limit=1000)],
        "questions": [
            question_fields(view)
            for view in list_questions(session, contact_id=contact.id, now=utcnow(), limit=1_000)
        ],
        "messages": [
            {
                "id": m.id,
                "campaign": m.campaign_id,
                "channel": m.channel,
                "purpose": m.purpose,
                "to": m.recipient,
                "subject": m.subject,
                "text": m.body,
                "status": m.status,
                "reason": m.reason,
                "send_at": m.send_at.isoformat() if m.send_at else None,
                "created_at": m.created_at.isoformat(),
            }
            for m in session.scalars(
                select(Message).where(Message.contact_id == contact.id).order_by(Message.id)
            )
        ],
    }


def tombstone_contacts(session: Session, *, contact_ids: Collection[int]) -> int:
    """Empty every personal field of these contacts and delete their proofs (bulk)."""
    ids = list(contact_ids)
    deleted = 0
    now = utcnow()
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        events = select(ConsentEvent.id).where(ConsentEvent.contact_id.in_(chunk))
        result = session.execute(delete(ConsentProof).where(ConsentProof.event_id.in_(events)))
        deleted += int(result.rowcount)  # type: ignore[attr-defined]
        session.execute(delete(ContactTag).where(ContactTag.contact_id.in_(chunk)))
        # what a shop said happened to the person (orders, visits) is personal data, and
        # so are the appointments their reminders asked about
        delete_questions_of(session, contact_ids=chunk)
        delete_events_of(session, contact_ids=chunk)
        # an Idempotency-Key's fingerprint is a digest of the request, number included
        messages = select(Message.id).where(Message.contact_id.in_(chunk))
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.message_id.in_(messages)))
        erase_inbound(session, contact_ids=chunk, numbers=[])
        forget_runs_of(session, contact_ids=chunk, now=now)
        # the outbox keeps each message's state and reason for the reports, not its content
        session.execute(
            update(Message)
            .where(Message.contact_id.in_(chunk))
            .values(recipient=None, body=None, subject=None, html=None, headers=None)
        )
        session.execute(
            update(Contact)
            .where(Contact.id.in_(chunk))
            .values(
                phone=None,
                email=None,
                first_name=None,
                last_name=None,
                language=None,
                region=None,
                timezone=None,
                timezones=[],
                attributes={},
                erased_at=now,
                updated_at=now,
            )
        )
    session.expire_all()
    return deleted


def _erase_unlinked_messages(session: Session, *, recipients: list[str]) -> None:
    """Empty the one-off messages sent to these recipients before they were a contact.

    They carry no contact id, so `tombstone_contacts` cannot find them; an erasure is rare
    enough to afford this scan of the outbox (no index on `recipient` for the hot path).
    """
    if not recipients:
        return
    unlinked = (Message.contact_id.is_(None), Message.recipient.in_(recipients))
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.message_id.in_(select(Message.id).where(*unlinked))
        )
    )
    session.execute(
        update(Message)
        .where(*unlinked)
        .values(recipient=None, body=None, subject=None, html=None, headers=None)
    )


def erase_person(
    session: Session,
    *,
    contact: Contact,
    settings: Settings,
    note: str | None = None,
) -> ErasureReport:
    """Erase one person (GDPR art. 17) and suppress their number and address for good.

    Besides the database, every upload and rejects file in `upload_dir` (of `settings`)
    with a row of the person is deleted; the suppression list is keyed by its secret key.
    """
    digest = address_digester(settings.resolved_secret_key())
    suppressed = []
    numbers = [contact.phone] if contact.phone else []
    emails = [contact.email] if contact.email else []
    if contact.phone:
        consent_service.suppress(
            session,
            digest=digest,
            phone=contact.phone,
            reason=SuppressionReason.ERASURE,
            note=note,
        )
        suppressed.append("phone")
    if contact.email:
        consent_service.suppress(
            session,
            digest=digest,
            email=contact.email,
            reason=SuppressionReason.ERASURE,
            note=note,
        )
        suppressed.append("email")
    contact_id = contact.id
    # messages the person sent, also those from before they were a contact
    erase_inbound(
        session, contact_ids=[contact_id], numbers=[contact.phone] if contact.phone else []
    )
    _erase_unlinked_messages(session, recipients=[*numbers, *emails])
    proofs = tombstone_contacts(session, contact_ids=[contact_id])
    files = purge_person_files(settings, numbers=numbers, emails=emails)
    return ErasureReport(
        contact_ids=[contact_id], proofs_deleted=proofs, suppressed=suppressed, files_deleted=files
    )


def purge_inactive_prospects(
    session: Session, *, older_than: dt.timedelta, now: dt.datetime | None = None
) -> list[int]:
    """Erase prospects (not customers) with no activity since `now - older_than`.

    Activity is the latest of: creation, recorded activity, and any consent event. No
    suppression entry is added: retention is not an objection.
    """
    cutoff = (now or utcnow()) - older_than
    last_consent = (
        select(ConsentEvent.contact_id, func.max(ConsentEvent.occurred_at).label("last"))
        .group_by(ConsentEvent.contact_id)
        .subquery()
    )
    query = (
        select(Contact.id)
        .outerjoin(last_consent, last_consent.c.contact_id == Contact.id)
        .where(
            Contact.erased_at.is_(None),
            Contact.is_customer.is_(False),
            Contact.created_at < cutoff,
            (Contact.last_activity_at.is_(None)) | (Contact.last_activity_at < cutoff),
            (last_consent.c.last.is_(None)) | (last_consent.c.last < cutoff),
        )
    )
    ids = list(session.scalars(query))
    tombstone_contacts(session, contact_ids=ids)
    return ids
