"""One-off messages (`textopt send`, `POST /v1/messages`): one recipient, the same path.

The message is composed, decided by the policy and written to the outbox like a campaign's;
the idempotency key makes a retried request return the first message instead of a second.
A message may ask a question (`asks`: an appointment to confirm or cancel by reply): the
question is recorded with the message, in its transaction (`questions.service`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.campaigns.context import template_context
from textopt.compose import (
    check_registered_sender,
    check_segment_limit,
    compile_template,
    message_frame,
)
from textopt.config import Settings
from textopt.consent.suppression import Digester, address_digester
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.eligibility import (
    COUNTED_PLANNED,
    find_suppressed,
    read_policy_inputs,
    recipient_facts,
    workspace_policy,
)
from textopt.errors import ConfigError, ValidationError
from textopt.outbox.models import Message
from textopt.outbox.rows import decision_columns
from textopt.policy import MessageFacts, decide
from textopt.questions.service import ask_question, check_ask
from textopt.vocab import Channel, Purpose

__all__ = ["enqueue_message"]

_MICROS = Decimal(1_000_000)


#: One-off texts repeat (an order confirmation, a booking reminder): each is compiled once
#: per process, not per request (a compiled template is immutable, shared by threads).
_compiled = functools.lru_cache(maxsize=256)(compile_template)


def enqueue_message(
    session: Session,
    *,
    settings: Settings,
    to: str,
    text: str,
    variables: Mapping[str, Any] | None = None,
    purpose: Purpose | str = Purpose.TRANSACTIONAL,
    sender_id: str | None = None,
    brand_name: str | None = None,
    idempotency_key: str | None = None,
    provider: str | None = None,
    validity: dt.timedelta = dt.timedelta(hours=24),
    asks: str | None = None,
    asks_reference: str | None = None,
    answer_by: dt.datetime | None = None,
    digest: Digester | None = None,
    now: dt.datetime,
) -> tuple[Message, bool]:
    """Write one message to the outbox; returns it and whether it is new.

    `text` is a template rendered with the contact's fields and `variables`. The same
    idempotency key returns the existing message (and refuses a different recipient).
    `asks` (a kind of question: `appointment`) records the question the message asks, about
    `asks_reference` (the appointment's id), open until `answer_by` (72 hours by default);
    the recipient must be a contact. `digest`: the suppression list's keyed digest, when the
    caller holds one (else built from the secret key).
    """
    purpose = Purpose(purpose)
    ask = None
    if asks is not None:
        ask = check_ask(kind=asks, reference=asks_reference, answer_by=answer_by, now=now)
    if sender_id is not None:
        check_registered_sender(sender_id, registered=settings.sender_ids)
    info = parse_phone(to, settings.default_region)
    if idempotency_key is not None:
        # two columns, not the ORM's whole row: nearly every key is new
        keyed = session.execute(
            select(Message.id, Message.recipient).where(Message.idempotency_key == idempotency_key)
        ).first()
        if keyed is not None:
            if keyed.recipient != info.e164:
                raise ValidationError(
                    f"idempotency key {idempotency_key!r} was used for another recipient",
                    field="idempotency_key",
                )
            existing = session.get(Message, keyed.id)
            assert existing is not None  # read in this transaction
            return existing, False
    provider = provider or settings.default_provider
    if provider not in settings.providers:
        raise ConfigError(f"provider account {provider!r} is not configured")
    contact = session.scalars(
        select(Contact).where(Contact.phone == info.e164, Contact.erased_at.is_(None))
    ).first()
    if ask is not None and contact is None:
        raise ValidationError(
            f"asks: {info.e164} is no contact's number: only a contact's answer can be "
            "recorded (add the contact first)",
            field="asks",
        )
    context: dict[str, Any] = template_context(contact) if contact is not None else {}
    context.update(variables or {})
    body = _compiled(text).render(context)
    country = contact.country if contact and contact.country else info.country
    composed = message_frame(
        purpose=purpose,
        country=country,
        brand=brand_name or settings.brand_name,
        stop_number=settings.stop_number,
        language=str(context.get("language") or ""),
    ).compose(body, smart_encoding=True)
    check_segment_limit(composed.analysis.segments, limit=settings.max_segments_per_message)
    if digest is None:
        digest = address_digester(settings.resolved_secret_key())
    if contact is not None:
        recipient = read_policy_inputs(
            session,
            contacts=[contact],
            channel=Channel.SMS,
            now=now,
            digest=digest,
            counted=COUNTED_PLANNED,
        )[contact.id]
        facts, history = recipient.facts, recipient.history
        if not info.receives_sms:  # the number's type, whatever the contact row recorded
            facts = dataclasses.replace(facts, not_mobile=True)
    else:  # the facts the claim's re-check reads for it too
        found = find_suppressed(session, digest=digest, addresses=[info.e164], channel=Channel.SMS)
        facts = recipient_facts(
            channel=Channel.SMS, recipient=info.e164, suppression_reasons=found.get(info.e164, ())
        )
        history = ()
    expires = now + validity
    decision = decide(
        facts,
        MessageFacts(channel=Channel.SMS, purpose=purpose, sender_id=sender_id, expires_at=expires),
        now,
        history,
        workspace_policy(settings),
    )
    analysis = composed.analysis
    columns = decision_columns(decision, start=now, now=now)
    message = Message(
        campaign_id=None,
        contact_id=contact.id if contact else None,
        channel=Channel.SMS,
        purpose=purpose,
        recipient=info.e164,
        sender=sender_id,
        body=composed.text,
        encoding=str(analysis.encoding),
        segments=analysis.segments,
        cost_micros=int(analysis.cost.amount * _MICROS) if analysis.cost else 0,
        currency=analysis.cost.currency if analysis.cost else "EUR",
        country=country,
        expires_at=expires,
        decided_at=now,
        provider=provider,
        idempotency_key=idempotency_key or f"m-{uuid.uuid4().hex}",
        **columns._asdict(),
    )
    session.add(message)
    session.flush()
    if ask is not None:
        ask_question(session, message=message, ask=ask, now=now)
    return message, True
