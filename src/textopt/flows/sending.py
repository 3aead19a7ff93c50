"""A flow's email step: one email to one contact, decided by the policy and written to the
outbox as a campaign's email is (the same decision columns, headers and unsubscribe link).

SMS steps use the one-off path as it is (`campaigns.sends.enqueue_message`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.campaigns.context import template_context
from textopt.campaigns.emails import add_unsubscribe_headers, email_account, from_header
from textopt.compose.email import EmailTemplate
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.eligibility import COUNTED_PLANNED, read_policy_inputs, usable_email, workspace_policy
from textopt.flows.definition import Send
from textopt.outbox.models import Message
from textopt.outbox.rows import decision_columns
from textopt.policy import MessageFacts, Verdict, decide
from textopt.vocab import Channel, Purpose

__all__ = ["send_email_step"]


@functools.lru_cache(maxsize=128)
def _template(subject: str, html: str, text: str | None) -> EmailTemplate:
    return EmailTemplate(subject=subject, html=html, text=text)


def send_email_step(
    session: Session,
    *,
    settings: Settings,
    contact: Contact,
    step: Send,
    variables: Mapping[str, Any],
    idempotency_key: str,
    now: dt.datetime,
) -> Message:
    """Write the step's email for `contact` to the outbox (or return the one written under
    `idempotency_key`): rendered, decided by the policy, with its reason when it is not sent."""
    existing = session.scalars(
        select(Message).where(Message.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing
    template = _template(step.subject or "", step.template, step.text)
    context = template_context(contact)
    context.update(variables)
    headers = {
        "From": from_header(
            brand=settings.brand_name, address=step.sender or settings.email_from_address
        )
    }
    if step.purpose == Purpose.MARKETING:
        url = add_unsubscribe_headers(
            headers,
            contact_id=contact.id,
            campaign_id=None,
            base_url=settings.base_url(),
            mailto=settings.email_unsubscribe_mailto,
            key=settings.resolved_secret_key(),
        )
        rendered = template.render(context, unsubscribe_url=url)
    else:
        rendered = template.render(context, footer=False)
    provider = email_account(settings)
    inputs = read_policy_inputs(
        session,
        contacts=[contact],
        channel=Channel.EMAIL,
        now=now,
        digest=address_digester(settings.resolved_secret_key()),
        counted=COUNTED_PLANNED,
    )[contact.id]
    expires = now + step.validity
    decision = decide(
        inputs.facts,
        MessageFacts(
            channel=Channel.EMAIL, purpose=step.purpose, sender_id=None, expires_at=expires
        ),
        now,
        inputs.history,
        workspace_policy(settings),
    )
    blocked = decision.verdict == Verdict.BLOCK
    message = Message(
        campaign_id=None,
        contact_id=contact.id,
        channel=Channel.EMAIL,
        purpose=step.purpose,
        recipient=usable_email(contact) or contact.email,
        sender=None,
        body=None if blocked else rendered.text,
        subject=rendered.subject,
        html=None if blocked else rendered.html,
        headers=None if blocked else headers,
        encoding=None,
        segments=1,
        cost_micros=int(Decimal(str(settings.email_price)) * 1_000_000),
        currency="EUR",
        country=contact.country,
        expires_at=expires,
        decided_at=now,
        provider=provider,
        idempotency_key=idempotency_key,
        **decision_columns(decision, start=now, now=now)._asdict(),
    )
    session.add(message)
    session.flush()
    return message
