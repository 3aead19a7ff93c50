"""Campaign test factories: contacts in known consent states, campaigns, a test clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.campaigns import service as campaigns
from textopt.campaigns.models import Campaign
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher, DispatchStats
from textopt.outbox.models import Message

PARIS = dt.timezone(dt.timedelta(hours=1))  # winter time: Europe/Paris is UTC+1
#: A Wednesday at 10:00 in Paris: allowed everywhere the FR pack applies.
WEDNESDAY_10H = dt.datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)


def add_contact(
    session: Session,
    phone: str,
    *,
    consent_at: dt.datetime | None = WEDNESDAY_10H - dt.timedelta(days=30),
    tags: tuple[str, ...] = ("vip",),
    **fields: Any,
) -> Contact:
    """A contact with SMS marketing consent (unless `consent_at` is None)."""
    from textopt.contacts.service import create_contact

    contact = create_contact(session, default_region=TEST_REGION, phone=phone, tags=tags, **fields)
    if consent_at is not None:
        consent.record_consent(
            session,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            channel="sms",
            purpose="marketing",
            action="granted",
            source="form",
            occurred_at=consent_at,
            proof={"phone": contact.phone},
        )
    return contact


def new_campaign(
    session: Session, settings: Settings, *, text: str = "Soldes -20% chez Boutique", **options: Any
) -> Campaign:
    """A draft marketing campaign to every contact tagged vip."""
    values: dict[str, Any] = {"audience": "tag:vip", "brand_name": "Boutique"}
    values.update(options)
    return campaigns.create_campaign(
        session, settings=settings, name="Soldes", template=text, **values
    )


def run_dispatcher(
    engine: Engine, settings: Settings, *, at: dt.datetime, workers: int = 1
) -> DispatchStats:
    """Dispatch once with the clock standing at `at`."""
    dispatcher = Dispatcher(engine, settings, workers=workers, clock=lambda: at, poll_interval=0.01)
    return asyncio.run(dispatcher.run(once=True))


def statuses(engine: Engine, campaign_id: int) -> dict[str, tuple[str, str | None]]:
    """Recipient number -> (status, reason) for every message of a campaign."""
    with session_scope(engine) as s:
        rows = s.execute(
            select(Contact.phone, Message.status, Message.reason)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.campaign_id == campaign_id)
        ).all()
    # messages of erased contacts (no number any more) have no key here
    return {phone: (status, reason) for phone, status, reason in rows if phone is not None}


def journal_keys(journal: Path) -> list[str]:
    """The idempotency keys the sandbox accepted, in order (duplicates kept)."""
    if not journal.exists():
        return []
    return [json.loads(line)["key"] for line in journal.read_text().splitlines() if line]


Clock = Callable[[], dt.datetime]
