"""Inbound messages: store each one once as it came, then apply its keyword through the ledger.

STOP revokes SMS marketing consent (a ledger event with source `keyword` and the inbound
message as proof), suppresses the number and answers once; START grants again, lifts a
STOP's suppression (never an erasure's, a complaint's or an operator's) and answers; HELP
answers with the brand's help text; YES/OUI/JA/SÍ confirms a pending double opt-in, or
answers the person's latest open question (an appointment reminder's OUI or ANNULER) when
that question was asked last (`answering.py`).

Storing and applying are two steps. `store_inbound` keeps a batch of messages whatever they
hold (a short code, an operator's name or an empty address as sender, replacement
characters, a very long text) and never refuses one for its content: the SMPP dispatcher
commits it before acknowledging the SMSC. `apply_inbound` then applies one stored message
exactly once, in its own transaction or the caller's, possibly after a crash
(`pending_inbound` lists what is left); a message whose application raised is marked
`failed` with the error kept (`mark_inbound_failed`). Only a sender that parses as a phone
number (`phone`) is linked to a contact, suppressed or answered.

`record_inbound` (HTTP callbacks, the CLI) does both in the caller's transaction: the stored
message, the ledger event, the suppression and the reply in the outbox commit together or
not at all. A provider that retries its webhook hits the unique (provider, provider message
id) and gets the first result back, so nothing is applied or answered twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.models import SuppressionReason
from textopt.consent.suppression import Digester, address_digester, suppress_addresses
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.db.base import utcnow
from textopt.db.engine import upsert_insert
from textopt.errors import ValidationError
from textopt.inbound.answering import answer_question
from textopt.inbound.keyword_actions import Applied, apply_keyword, stop_note
from textopt.inbound.keywords import KeywordKind, classify
from textopt.inbound.models import SENDER_MAX, InboundAction, InboundMessage
from textopt.inbound.replies import ReplyContext, reply_language, reply_text
from textopt.inbound.workspace_keywords import answer_keyword
from textopt.outbox.models import Message
from textopt.providers.mo import InboundSms
from textopt.vocab import Channel, Purpose

__all__ = [
    "TEXT_MAX",
    "InboundResult",
    "apply_inbound",
    "erase_inbound",
    "list_inbound",
    "mark_inbound_failed",
    "pending_inbound",
    "record_inbound",
    "record_sms",
    "store_inbound",
]

log = logging.getLogger(__name__)

_K = KeywordKind
_A = InboundAction

#: The longest text kept, in characters. The longest concatenated SMS is 255 parts of 153
#: GSM-7 characters (39,015); an HTTP provider may hand over more. The rest is cut (and
#: logged) rather than refused: the message, and a STOP at its start, must not be lost.
TEXT_MAX = 65_536
_ID_MAX = 100  # provider_message_id's column
_RECIPIENT_MAX = 32  # recipient's column
_ERROR_MAX = 4_000  # enough for an exception's message, not for a whole traceback
# What PostgreSQL text cannot hold (NUL) and UTF-8 cannot encode (lone UTF-16 halves).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class InboundResult:
    """One stored inbound message, what it asked for and what was done."""

    message: InboundMessage
    # False: stored and applied before (a retried webhook); nothing was redone
    created: bool
    kind: KeywordKind
    action: InboundAction
    reply: Message | None = None


def store_inbound(
    session: Session,
    *,
    messages: Sequence[InboundSms],
    now: dt.datetime,
    default_region: str,
    digest: Digester,
) -> list[int]:
    """Store messages as they came, not yet applied, once per provider id; the new ids.

    One INSERT for the batch (executemany) and one query for the contacts; a message
    already stored (the same provider and id) is skipped. National numbers are read in
    `default_region` (the workspace's). Nothing in a message's content raises. `digest`
    keys the numbers a STOP suppresses.
    """
    region = default_region
    phones: dict[str, str | None] = {}  # sender -> E.164, each sender parsed once
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for sms in messages:
        row = _row(sms, region=region, phones=phones, now=now)
        rows.setdefault((row["provider"], row["provider_message_id"]), row)  # first wins
    if not rows:
        return []
    numbers = {row["phone"] for row in rows.values() if row["phone"] is not None}
    contacts: dict[str | None, int] = {}
    wanted = sorted(numbers)
    for start in range(0, len(wanted), 5_000):  # under SQLite's bound variables per query
        found = select(Contact.phone, Contact.id).where(
            Contact.phone.in_(wanted[start : start + 5_000]), Contact.erased_at.is_(None)
        )
        contacts.update({row[0]: row[1] for row in session.execute(found)})
    values = list(rows.values())
    for row in values:
        row["contact_id"] = contacts.get(row["phone"])
    # executemany with RETURNING: the driver sends the rows in batches of its own
    # ("insertmanyvalues"), without compiling one giant VALUES list per call
    statement = (
        upsert_insert(session, InboundMessage)
        .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
        .returning(InboundMessage.id)
    )
    ids = list(session.scalars(statement, values))
    # A STOP is honoured from the moment it is stored: the number is suppressed in the same
    # transaction (one statement), so no claim sends it marketing while the ledger event
    # and the confirmation wait their turn in `apply_inbound`.
    stops = [row for row in values if row["phone"] is not None and row["keyword"] == str(_K.STOP)]
    if stops and ids:
        # the rows just inserted (a range: no list of ids to bind); a row of another
        # writer in it never has the key of one of ours, that would have conflicted
        new = select(InboundMessage.provider, InboundMessage.provider_message_id).where(
            InboundMessage.id.between(min(ids), max(ids))
        )
        stored = {(row[0], row[1]) for row in session.execute(new)}  # not those stored before
        notes = {
            row["phone"]: stop_note(row["provider"], row["provider_message_id"])
            for row in stops
            if (row["provider"], row["provider_message_id"]) in stored
        }
        suppress_addresses(
            session,
            digest=digest,
            notes=notes,
            channel=Channel.SMS,
            reason=SuppressionReason.KEYWORD,
        )
    return sorted(ids)


def _row(
    sms: InboundSms, *, region: str, phones: dict[str, str | None], now: dt.datetime
) -> dict[str, Any]:
    """The row of one message as it came, made storable, with its keyword and number."""
    sender = _storable(sms.sender or "")
    if sender not in phones:
        phones[sender] = _phone(sender, region)
    text = _storable(sms.text or "")
    if len(text) > TEXT_MAX:
        log.warning(
            "inbound %s via %s: text of %d characters cut to %d",
            sms.provider_message_id[:_ID_MAX],
            sms.provider,
            len(text),
            TEXT_MAX,
        )
        text = text[:TEXT_MAX]
    key = _message_key(sms.provider_message_id or "")
    if not key.strip():
        # without an id a retry cannot be recognised; a unique one keeps the message
        key = f"none-{uuid.uuid4().hex}"
        log.warning("inbound message via %s without a provider id stored as %s", sms.provider, key)
    received_at = sms.received_at
    if received_at.tzinfo is None:  # an adapter's slip must not lose the message
        received_at = received_at.replace(tzinfo=dt.UTC)
    match = classify(text)
    return {
        "received_at": received_at,
        "provider": sms.provider,
        "provider_message_id": key,
        "sender": sender[:SENDER_MAX],
        "phone": phones[sender],
        "recipient": _storable(sms.recipient or "")[:_RECIPIENT_MAX],
        "text": text,
        "keyword": str(match.kind),
        "language": match.language,
        "created_at": now,
    }


def _storable(value: str) -> str:
    """`value` with what a database cannot hold (NUL, lone UTF-16 halves) made U+FFFD."""
    if _UNSTORABLE.search(value) is None:
        return value
    # the two halves of one character (a UCS-2 decoder's) become that character again
    joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined.replace("\x00", "\ufffd")


def _phone(sender: str, region: str) -> str | None:
    """The sender's E.164 number, or None for a short code, a name, an empty address."""
    if len(sender) > SENDER_MAX:
        return None  # a number is never that long; a cut address is never read as one
    try:
        return parse_phone(sender, region).e164
    except ValidationError:
        return None


def _message_key(provider_message_id: str) -> str:
    """The provider's id as stored: an overlong one is cut and completed with its digest,
    so a retry still finds it and two ids sharing a beginning stay apart."""
    key = _storable(provider_message_id)
    if len(key) <= _ID_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: _ID_MAX - len(digest) - 1]}~{digest}"


def pending_inbound(session: Session, *, limit: int) -> list[int]:
    """The ids of stored messages not yet applied, oldest first."""
    query = (
        select(InboundMessage.id)
        .where(InboundMessage.handled_at.is_(None))
        .order_by(InboundMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def apply_inbound(
    session: Session, *, inbound_id: int, settings: Settings, now: dt.datetime
) -> InboundResult | None:
    """Apply one stored message's keyword; None if it was applied or is being applied.

    On PostgreSQL the row is locked (a worker applying it already makes this call return
    None); on SQLite the writer lock serialises the workers.
    """
    query = (
        select(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.handled_at.is_(None))
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    inbound = session.scalars(query).first()
    if inbound is None:
        return None
    kind = KeywordKind(inbound.keyword)
    if inbound.phone is None:
        if inbound.sender is None:
            applied = Applied(_A.ERASED)
        else:  # nothing to suppress, no one to answer: kept for a person to read
            applied = Applied(_A.STORED if kind == _K.NONE else _A.NOT_A_NUMBER)
        return _finish(session, inbound=inbound, kind=kind, applied=applied, reply=None, now=now)
    info = parse_phone(inbound.phone)  # E.164 from store_inbound: the region plays no part
    contact = _contact(session, inbound=inbound)
    if contact is not None and (
        contact.last_activity_at is None or contact.last_activity_at < inbound.received_at
    ):
        contact.last_activity_at = inbound.received_at  # a person who writes to us is active
    country = contact.country if contact and contact.country else info.country
    language = reply_language(inbound.language, contact.language if contact else None, country)
    digest = address_digester(settings.resolved_secret_key())
    if kind in (_K.CONFIRM, _K.NONE):  # STOP, START and HELP are never answers
        answered_question = answer_question(
            session, inbound=inbound, contact=contact, country=country, settings=settings, now=now
        )
        if answered_question is not None:
            inbound.language = answered_question.language
            return _finish(
                session,
                inbound=inbound,
                kind=kind,
                applied=Applied(answered_question.action),
                reply=answered_question.reply,
                now=now,
            )
    applied = apply_keyword(
        session, inbound=inbound, kind=kind, contact=contact, e164=info.e164, digest=digest
    )
    reply = None
    if kind == _K.NONE:
        answered = answer_keyword(
            session, inbound=inbound, contact=contact, country=country, settings=settings, now=now
        )
        if answered is not None:
            inbound.language = answered.language
            applied = Applied(answered.action)
            return _finish(
                session, inbound=inbound, kind=kind, applied=applied, reply=answered.reply, now=now
            )
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
            provider=inbound.provider if inbound.provider in settings.providers else None,
            now=now,
        )
    inbound.language = language
    return _finish(session, inbound=inbound, kind=kind, applied=applied, reply=reply, now=now)


def _contact(session: Session, *, inbound: InboundMessage) -> Contact | None:
    """The message's contact, unless erased; one added since it was stored is linked now."""
    contact = session.get(Contact, inbound.contact_id) if inbound.contact_id else None
    if contact is None and inbound.phone is not None:
        contact = session.scalars(
            select(Contact).where(Contact.phone == inbound.phone, Contact.erased_at.is_(None))
        ).first()
        inbound.contact_id = contact.id if contact else None
    return contact if contact is not None and contact.erased_at is None else None


def _finish(
    session: Session,
    *,
    inbound: InboundMessage,
    kind: KeywordKind,
    applied: Applied,
    reply: Message | None,
    now: dt.datetime,
) -> InboundResult:
    """Record what was done (the message is then applied) and log it."""
    inbound.action = str(applied.action)
    inbound.consent_event_id = applied.consent_event_id
    inbound.reply_message_id = reply.id if reply else None
    inbound.handled_at = now
    session.flush()
    log.info(
        "inbound %s from %s via %s: %s -> %s",
        inbound.id,
        _masked(inbound.phone) if inbound.phone else "a sender that is no number",
        inbound.provider,
        kind,
        applied.action,
    )
    return InboundResult(inbound, True, kind, applied.action, reply)


def mark_inbound_failed(session: Session, *, inbound_id: int, error: str, now: dt.datetime) -> None:
    """Mark a stored message whose application raised as `failed`, keeping the error.

    Call it in a new transaction: the one that raised is rolled back (on PostgreSQL it can
    run nothing more), and with it whatever the application had half written.
    """
    session.execute(
        update(InboundMessage)
        # one applied meanwhile (by another worker) keeps its outcome
        .where(InboundMessage.id == inbound_id, InboundMessage.handled_at.is_(None))
        .values(action=str(_A.FAILED), handled_at=now, error=_storable(error)[:_ERROR_MAX])
    )


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
    sms = InboundSms(provider, provider_message_id, sender, recipient, text, received_at)
    stored = store_inbound(
        session,
        messages=[sms],
        now=now,
        default_region=settings.default_region,
        digest=address_digester(settings.resolved_secret_key()),
    )
    for inbound_id in stored:
        result = apply_inbound(session, inbound_id=inbound_id, settings=settings, now=now)
        if result is not None:
            return result
    existing = session.scalars(
        select(InboundMessage).where(
            InboundMessage.provider == provider,
            InboundMessage.provider_message_id == _message_key(provider_message_id),
        )
    ).one()
    if existing.handled_at is None:  # stored by another path, not applied yet: apply it now
        result = apply_inbound(session, inbound_id=existing.id, settings=settings, now=now)
        if result is not None:
            return result
    reply = session.get(Message, existing.reply_message_id) if existing.reply_message_id else None
    return InboundResult(
        existing, False, KeywordKind(existing.keyword), _A(existing.action or _A.STORED), reply
    )


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


def _masked(e164: str) -> str:
    """A number for logs: the country code and the last two digits only."""
    return f"{e164[:3]}…{e164[-2:]}" if len(e164) > 6 else "…"


def list_inbound(
    session: Session,
    *,
    contact_id: int | None = None,
    phone: str | None = None,
    sender: str | None = None,
    limit: int = 100,
) -> list[InboundMessage]:
    """The newest inbound messages, of one contact, number (E.164) or raw sender if given."""
    query = select(InboundMessage).order_by(
        InboundMessage.received_at.desc(), InboundMessage.id.desc()
    )
    if contact_id is not None:
        query = query.where(InboundMessage.contact_id == contact_id)
    if phone is not None:
        query = query.where(InboundMessage.phone == phone)
    if sender is not None:
        query = query.where(InboundMessage.sender == sender)
    return list(session.scalars(query.limit(limit)))


def erase_inbound(session: Session, *, contact_ids: list[int], numbers: list[str]) -> int:
    """Empty the sender, number, text and error of these contacts' (or numbers') messages."""
    conditions = []
    if contact_ids:
        conditions.append(InboundMessage.contact_id.in_(contact_ids))
    if numbers:
        # the E.164 number, and a raw sender written exactly so (stored before `phone` was)
        conditions.append(InboundMessage.phone.in_(numbers))
        conditions.append(InboundMessage.sender.in_(numbers))
    if not conditions:
        return 0
    result = session.execute(
        update(InboundMessage)
        .where(or_(*conditions))
        # an error may quote the message or the number
        .values(sender=None, phone=None, text=None, error=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
