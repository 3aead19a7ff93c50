"""Multichannel test factories: people with SMS and email consent, email campaigns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.campaigns import service as campaigns
from textopt.campaigns.models import Campaign
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.contacts.models import Contact, ContactTag
from textopt.contacts.service import create_contact
from textopt.db.engine import session_scope
from textopt.outbox.models import Message

CONSENT_AT = WEDNESDAY_10H - dt.timedelta(days=30)
NEWSLETTER = """<html><body>
<h1>Bonjour {{ first_name }}</h1>
<p>Notre <b>lettre d'hiver</b> : les nouveautés et
<a href="https://shop.example/soldes">les soldes</a>.</p>
</body></html>"""
SUBJECT = "La lettre d'hiver, {{ first_name }}"


def add_person(
    session: Session,
    *,
    phone: str | None,
    email: str | None,
    sms: str | None = "granted",
    mail: str | None = "granted",
    tags: tuple[str, ...] = ("vip",),
    first_name: str = "Léa",
    **fields: Any,
) -> Contact:
    """A contact with the given SMS and email marketing consent (None: nothing recorded).

    Without `phone` the contact is stored as an importer would store an invalid number.
    """
    if phone is not None:
        contact = create_contact(
            session,
            default_region=TEST_REGION,
            phone=phone,
            email=email,
            first_name=first_name,
            tags=tags,
            **fields,
        )
    else:
        contact = Contact(email=email, first_name=first_name, country="FR", timezones=[], **fields)
        session.add(contact)
        session.flush()
        session.add_all(ContactTag(contact_id=contact.id, tag=tag) for tag in tags)
        session.flush()
    for channel, state in (("sms", sms), ("email", mail)):
        # "revoked": granted first, withdrawn a day later, as a person would
        steps = {None: [], "granted": ["granted"], "revoked": ["granted", "revoked"]}[state]
        for days, action in enumerate(steps):
            consent.record_consent(
                session,
                digest=TEST_DIGEST,
                contact_id=contact.id,
                channel=channel,
                purpose="marketing",
                action=action,
                source="form",
                occurred_at=CONSENT_AT + dt.timedelta(days=days),
            )
    return contact


def new_multichannel_campaign(
    session: Session,
    settings: Settings,
    *,
    channels: str,
    text: str | None = "Soldes -20% chez Boutique",
    subject: str | None = SUBJECT,
    html: str | None = NEWSLETTER,
    **options: Any,
) -> Campaign:
    """A draft marketing campaign to every contact tagged vip, on the given channel rule."""
    values: dict[str, Any] = {"audience": "tag:vip", "brand_name": "Boutique"}
    values.update(options)
    email = "email" in channels or channels == "both"
    return campaigns.create_campaign(
        session,
        settings=settings,
        name="Lettre d'hiver",
        template=text if text is not None and channels != "email" else "",
        channels=channels,
        email_subject=subject if email else None,
        email_template=html if email else None,
        **values,
    )


def by_channel(engine: Engine, campaign_id: int) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(first name, channel) -> (status, reason) for every message of a campaign.

    `submitted` and `delivered` both read `sent`: whether the sandbox's receipt was recorded
    before the dispatcher stopped is not what these tests are about.
    """
    with session_scope(engine) as s:
        rows = s.execute(
            select(Contact.first_name, Message.channel, Message.status, Message.reason)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.campaign_id == campaign_id)
        ).all()
    sent = ("submitted", "delivered")
    return {
        (name, channel): ("sent" if status in sent else status, reason)
        for name, channel, status, reason in rows
    }
