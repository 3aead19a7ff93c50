"""The stored consent state always follows the ledger: bounded times, a revocation that
wins, a hand-written state that nothing trusts, verify that reports and rebuild that repairs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST

from textopt.consent import service
from textopt.consent.models import Suppression
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.errors import ValidationError


def _contact(session: Session, phone: str = "+33612345678") -> Contact:
    contact = Contact(phone=phone, country="FR", timezones=["Europe/Paris"], attributes={})
    session.add(contact)
    session.flush()
    return contact


def _record(session: Session, contact: Contact, action: str, **more: object) -> None:
    values: dict[str, object] = {
        "contact_id": contact.id,
        "channel": "sms",
        "purpose": "marketing",
        "action": action,
        "source": "api",
    }
    values.update(more)
    service.record_consent(session, digest=TEST_DIGEST, **values)  # type: ignore[arg-type]


def _state(session: Session, contact: Contact) -> str | None:
    state = service.current_consent(session, contact_id=contact.id).get(("sms", "marketing"))
    return state.status if state else None


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
        dt.datetime.fromisoformat("9999-12-31T23:59:59-14:00"),
        "in an hour",
    ],
)
def test_a_consent_dated_in_the_future_is_refused_naming_the_field(
    session: Session, when: object
) -> None:
    contact = _contact(session)
    instant = utcnow() + dt.timedelta(hours=1) if when == "in an hour" else when
    with pytest.raises(ValidationError) as caught:
        _record(session, contact, "granted", occurred_at=instant)
    assert caught.value.field == "occurred_at"
    assert "future" in caught.value.message or "outside" in caught.value.message


def test_a_revocation_recorded_after_a_grant_wins_whatever_the_dates(session: Session) -> None:
    contact = _contact(session)
    now = utcnow()
    _record(session, contact, "granted", occurred_at=now + dt.timedelta(minutes=4))  # skew
    _record(session, contact, "revoked", occurred_at=now - dt.timedelta(days=2))
    session.commit()
    assert _state(session, contact) == "revoked"
    assert service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_a_state_row_written_by_hand_is_not_trusted_and_verify_reports_it(
    session: Session,
) -> None:
    honest, victim = _contact(session), _contact(session, "+33612345679")
    _record(session, honest, "granted", occurred_at=utcnow() - dt.timedelta(days=1))
    _record(session, victim, "revoked")
    session.commit()
    event_id = session.scalar(text("SELECT min(id) FROM consent_events"))
    # someone with database access makes the victim "granted", citing the honest grant
    session.execute(text("DELETE FROM consent_state WHERE contact_id = :c"), {"c": victim.id})
    session.execute(
        text(
            "INSERT INTO consent_state (contact_id, channel, purpose, status, source, since,"
            " event_id) VALUES (:c, 'sms', 'marketing', 'granted', 'api', :t, :e)"
        ),
        {"c": victim.id, "t": utcnow(), "e": event_id},
    )
    session.commit()
    assert _state(session, victim) is None  # the policy never sees it
    assert _state(session, honest) == "granted"
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert not report.ok
    assert report.first_broken_id is None  # the chain itself is intact
    [diff] = report.differences
    assert (diff.contact_id, diff.channel, diff.purpose) == (victim.id, "sms", "marketing")
    assert diff.stored.startswith("granted")
    assert diff.derived.startswith("revoked (api")
    assert service.rebuild_state(session, digest=TEST_DIGEST) == 2
    session.commit()
    assert _state(session, victim) == "revoked"
    assert service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_a_state_pointing_at_a_revoked_grant_is_not_trusted(session: Session) -> None:
    contact = _contact(session)
    _record(session, contact, "granted", occurred_at=utcnow() - dt.timedelta(days=3))
    _record(session, contact, "revoked", occurred_at=utcnow() - dt.timedelta(days=2))
    session.commit()
    session.execute(
        text("UPDATE consent_state SET status = 'granted', source = 'api', event_id = 1")
    )
    session.commit()
    assert _state(session, contact) is None
    assert not service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_a_stop_missing_from_the_suppression_list_is_reported_and_restored(
    session: Session,
) -> None:
    contact = _contact(session)
    _record(session, contact, "granted", occurred_at=utcnow() - dt.timedelta(days=3))
    _record(session, contact, "revoked", source="keyword")
    session.commit()
    [entry] = session.scalars(select(Suppression)).all()  # the ledger's writer put it there
    session.delete(entry)  # ... and someone took it off the list
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    [diff] = report.differences
    assert (diff.contact_id, diff.purpose, diff.stored) == (
        contact.id,
        "suppression",
        "not suppressed",
    )
    service.rebuild_state(session, digest=TEST_DIGEST)
    session.commit()
    assert service.suppression_reasons(
        session, digest=TEST_DIGEST, phone=contact.phone, channel="sms"
    ) == ["keyword"]
    assert service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_a_request_is_recorded_beside_a_consent_and_never_replaces_it(
    session: Session,
) -> None:
    contact = _contact(session)
    _record(session, contact, "granted", occurred_at=utcnow() - dt.timedelta(days=3))
    _record(session, contact, "requested", source="form")
    session.commit()
    assert _state(session, contact) == "granted"
    assert [e.action for e, _ in service.history(session, contact_id=contact.id)] == [
        "granted",
        "requested",
    ]
    assert service.verify_ledger(session, digest=TEST_DIGEST).ok
