"""A person's events are in their GDPR export and gone after their erasure."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.events import service as events
from textopt.events.models import ContactEvent, EventSource
from textopt.gdpr import service as gdpr

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def _person(session: Session, phone: str) -> Contact:
    contact = Contact(phone=phone, first_name="Alice", timezones=["Europe/Paris"], attributes={})
    session.add(contact)
    session.flush()
    return contact


def _record(session: Session, settings: Settings, contact: Contact, kind: str, key: str) -> None:
    events.record_event(
        session,
        contact=contact,
        type=kind,
        properties={"order": "A-17", "address": "12 rue des Lilas"},
        occurred_at=NOW - dt.timedelta(days=1),
        key=key,
        source=EventSource.API,
        recorded_by="test",
        secret=settings.resolved_secret_key(),
        now=NOW,
    )


def test_export_lists_the_events_and_erasure_deletes_them(
    session: Session, settings: Settings
) -> None:
    alice = _person(session, "+33612345678")
    bob = _person(session, "+33698765432")
    _record(session, settings, alice, "order_shipped", "a-1")
    _record(session, settings, alice, "visit", "a-2")
    _record(session, settings, bob, "order_shipped", "b-1")
    session.commit()
    exported = gdpr.export_person(session, digest=TEST_DIGEST, contact=alice)
    assert [(e["type"], e["properties"]["address"]) for e in exported["events"]] == [
        ("order_shipped", "12 rue des Lilas"),
        ("visit", "12 rue des Lilas"),
    ]
    assert {e["contact_id"] for e in exported["events"]} == {alice.id}
    gdpr.erase_person(session, settings=settings, contact=alice)
    session.commit()
    left = session.execute(select(ContactEvent.contact_id, ContactEvent.idempotency_key))
    assert [(c, k) for c, k in left] == [(bob.id, "b-1")]
