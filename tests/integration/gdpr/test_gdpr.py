"""GDPR access, erasure and retention keep the ledger valid and the person suppressed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentProof
from textopt.contacts.models import Contact
from textopt.errors import ConsentError
from textopt.gdpr import service as gdpr

T0 = dt.datetime(2026, 2, 1, 10, 0, tzinfo=dt.UTC)


def _person(session: Session, phone: str = "+33612345678", **fields: object) -> Contact:
    contact = Contact(
        phone=phone,
        email=f"{phone[1:]}@example.org",
        first_name="Alice",
        last_name="Martin",
        country="FR",
        timezones=["Europe/Paris"],
        attributes={"city": "Lyon"},
        **fields,
    )
    session.add(contact)
    session.flush()
    consent.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="granted",
        source="form",
        occurred_at=T0,
        proof={"phone": phone, "ip": "198.51.100.4", "user_agent": "Mozilla/5.0"},
    )
    return contact


def test_export_holds_the_contact_the_ledger_and_the_proofs(session: Session) -> None:
    contact = _person(session)
    data = gdpr.export_person(session, digest=TEST_DIGEST, contact=contact)
    assert data["contact"]["phone"] == "+33612345678"
    assert data["contact"]["attributes"] == {"city": "Lyon"}
    assert data["consent"]["current"][0]["status"] == "granted"
    assert data["consent"]["history"][0]["proof"]["ip"] == "198.51.100.4"
    assert data["suppression"] == {"sms": [], "email": []}


def test_erasure_removes_personal_data_and_keeps_the_chain_valid(
    session: Session, settings: Settings
) -> None:
    alice = _person(session)
    bob = _person(session, "+33698765432")
    session.commit()
    report = gdpr.erase_person(session, settings=settings, contact=alice, note="request 2026-17")
    session.commit()
    assert report.proofs_deleted == 1
    assert report.suppressed == ["phone", "email"]
    tombstone = session.get(Contact, alice.id)
    assert tombstone is not None
    assert tombstone.erased_at is not None
    assert (tombstone.phone, tombstone.email, tombstone.first_name, tombstone.attributes) == (
        None,
        None,
        None,
        {},
    )
    assert session.scalar(select(func.count()).select_from(ConsentProof)) == 1  # Bob's
    ledger = consent.verify_ledger(session, digest=TEST_DIGEST)
    assert ledger.ok, ledger.problems
    assert ledger.proofs_erased == 1
    assert session.get(Contact, bob.id).first_name == "Alice"  # type: ignore[union-attr]


def test_an_erased_number_reimported_with_consent_gets_no_consent(
    session: Session, settings: Settings
) -> None:
    alice = _person(session)
    gdpr.erase_person(session, settings=settings, contact=alice)
    session.commit()
    again = Contact(phone="+33612345678", country="FR", timezones=[], attributes={})
    session.add(again)
    session.flush()
    with pytest.raises(ConsentError, match="erasure"):
        consent.record_consent(
            session,
            digest=TEST_DIGEST,
            contact_id=again.id,
            channel="sms",
            purpose="marketing",
            action="granted",
            source="import",
            occurred_at=T0 + dt.timedelta(days=1),
        )
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone="+33612345678") == [
        "erasure"
    ]
    assert consent.suppression_reasons(
        session, digest=TEST_DIGEST, email="33612345678@example.org", channel="email"
    )


def test_purge_erases_inactive_prospects_only(session: Session) -> None:
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=4 * 365)
    prospect = _person(session, "+33611111111", created_at=old)
    customer = _person(session, "+33622222222", created_at=old, is_customer=True)
    active = _person(session, "+33633333333", created_at=old, last_activity_at=now)
    session.commit()
    # every consent event of the fixture is from 2026: older than 3 years at `now`
    erased = gdpr.purge_inactive_prospects(session, older_than=dt.timedelta(days=3 * 365), now=now)
    session.commit()
    assert erased == [prospect.id]
    assert session.get(Contact, prospect.id).erased_at is not None  # type: ignore[union-attr]
    assert session.get(Contact, customer.id).erased_at is None  # type: ignore[union-attr]
    assert session.get(Contact, active.id).erased_at is None  # type: ignore[union-attr]
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone="+33611111111") == []
    assert consent.verify_ledger(session, digest=TEST_DIGEST).ok


def test_erasure_empties_the_outbox_content_and_export_lists_messages(
    session: Session, settings: Settings
) -> None:
    from textopt.outbox.models import Message

    alice = _person(session)
    session.add(
        Message(
            contact_id=alice.id,
            channel="sms",
            purpose="marketing",
            recipient=alice.phone,
            body="Alice, -20% chez Boutique",
            status="delivered",
            idempotency_key="c1-1",
        )
    )
    session.flush()
    exported = gdpr.export_person(session, digest=TEST_DIGEST, contact=alice)
    assert [m["text"] for m in exported["messages"]] == ["Alice, -20% chez Boutique"]
    gdpr.erase_person(session, settings=settings, contact=alice)
    session.commit()
    message = session.scalars(select(Message)).one()
    assert (message.recipient, message.body, message.status) == (None, None, "delivered")


def test_erasure_empties_what_the_person_sent_and_export_lists_it(
    session: Session, campaign_settings: object
) -> None:
    from tests.factories.inbound import text_in

    from textopt.inbound.models import InboundMessage

    alice = _person(session)
    # written nationally: the stored number (E.164) is what erasure matches
    text_in(session, campaign_settings, sender="06 12 34 56 78", text="Bonjour, horaires ?")  # type: ignore[arg-type]
    session.flush()
    exported = gdpr.export_person(session, digest=TEST_DIGEST, contact=alice)
    assert [m["text"] for m in exported["inbound_messages"]] == ["Bonjour, horaires ?"]
    gdpr.erase_person(session, settings=campaign_settings, contact=alice)
    session.commit()
    inbound = session.scalars(select(InboundMessage)).one()
    assert (inbound.sender, inbound.phone, inbound.text) == (None, None, None)
