"""The consent ledger: chained, append-only, tamper-evident, and the state derived from it."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST

from textopt.consent import service
from textopt.consent.models import ConsentEvent, ConsentState, SuppressionReason
from textopt.contacts.models import Contact
from textopt.db.engine import session_factory
from textopt.errors import ConsentError, ValidationError

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _contact(session: Session, phone: str = "+33612345678") -> Contact:
    contact = Contact(phone=phone, country="FR", timezones=["Europe/Paris"], attributes={})
    session.add(contact)
    session.flush()
    return contact


def _grant(session: Session, contact: Contact, **overrides: object) -> ConsentEvent:
    values: dict[str, object] = {
        "contact_id": contact.id,
        "channel": "sms",
        "purpose": "marketing",
        "action": "granted",
        "source": "form",
        "occurred_at": T0,
        "proof": {"phone": contact.phone, "ip": "192.0.2.7", "form_url": "https://shop/optin"},
    }
    values.update(overrides)
    return service.record_consent(session, digest=TEST_DIGEST, **values)  # type: ignore[arg-type]


def _drop_append_only_guard(session: Session) -> None:
    """What an attacker with database access would do first."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER consent_events_no_update"))
        session.execute(text("DROP TRIGGER consent_events_no_delete"))
    else:
        session.execute(text("ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_change"))


def test_grant_then_revoke_is_the_current_state(session: Session) -> None:
    contact = _contact(session)
    _grant(session, contact)
    assert service.current_consent(session, contact_id=contact.id)[("sms", "marketing")].status == (
        "granted"
    )
    _grant(session, contact, action="revoked", source="keyword", occurred_at=T0 + dt.timedelta(1))
    session.commit()
    state = service.current_consent(session, contact_id=contact.id)[("sms", "marketing")]
    assert (state.status, state.source) == ("revoked", "keyword")


def test_an_older_grant_recorded_later_does_not_override_a_newer_revocation(
    session: Session,
) -> None:
    contact = _contact(session)
    # (a revocation by an operator: one by STOP also suppresses, and the grant is refused)
    _grant(session, contact, action="revoked", source="api", occurred_at=T0)
    _grant(session, contact, source="import", occurred_at=T0 - dt.timedelta(days=30))
    session.commit()
    state = service.current_consent(session, contact_id=contact.id)[("sms", "marketing")]
    assert state.status == "revoked"
    assert service.rebuild_state(session, digest=TEST_DIGEST) == 1
    session.commit()
    assert service.current_consent(session, contact_id=contact.id)[("sms", "marketing")].status == (
        "revoked"
    )


def test_events_are_chained_and_verify(session: Session) -> None:
    contact = _contact(session)
    first = _grant(session, contact)
    second = _grant(session, contact, action="revoked", occurred_at=T0 + dt.timedelta(hours=1))
    session.commit()
    assert (first.id, second.id) == (1, 2)
    assert second.prev_hash == first.hash
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert report.ok, report.problems
    assert (report.events_checked, report.proofs_checked) == (2, 2)


def test_orm_and_sql_updates_and_deletes_of_the_ledger_are_refused(session: Session) -> None:
    contact = _contact(session)
    event = _grant(session, contact)
    session.commit()
    event.action = "revoked"
    with pytest.raises(DBAPIError, match="append-only"):
        session.commit()
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM consent_events WHERE id = 1"))
    session.rollback()


@pytest.mark.parametrize("column", ["action", "occurred_at", "contact_id", "source"])
def test_verify_names_the_row_altered_directly_in_sql(session: Session, column: str) -> None:
    contact = _contact(session)
    other = _contact(session, "+33698765432")
    for hours in range(5):
        _grant(session, contact, occurred_at=T0 + dt.timedelta(hours=hours))
    session.commit()
    _drop_append_only_guard(session)
    new_value = {
        "action": "'confirmed'",
        "occurred_at": "occurred_at",  # re-written below for a real change
        "contact_id": str(other.id),
        "source": "'api'",
    }[column]
    if column == "occurred_at":
        session.execute(
            text("UPDATE consent_events SET occurred_at = :t WHERE id = 3"),
            {"t": (T0 - dt.timedelta(days=400)).replace(tzinfo=None)},
        )
    else:
        session.execute(text(f"UPDATE consent_events SET {column} = {new_value} WHERE id = 3"))
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert not report.ok
    assert report.first_broken_id == 3
    assert "event 3 was altered" in (report.problem or "")


def test_verify_detects_a_removed_row_and_a_cut_tail(session: Session) -> None:
    contact = _contact(session)
    for hours in range(4):
        _grant(session, contact, occurred_at=T0 + dt.timedelta(hours=hours))
    session.commit()
    _drop_append_only_guard(session)
    session.execute(text("DELETE FROM consent_proofs WHERE event_id = 2"))
    session.execute(text("DELETE FROM consent_events WHERE id = 2"))
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert (report.ok, report.first_broken_id) == (False, 3)
    assert "event 2 is missing" in (report.problem or "")

    session.execute(text("DELETE FROM consent_state"))
    session.execute(text("DELETE FROM consent_proofs WHERE event_id >= 3"))
    session.execute(text("DELETE FROM consent_events WHERE id >= 3"))
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert not report.ok
    assert "removed from the end" in (report.problem or "")


def test_verify_detects_an_altered_proof_and_accepts_an_erased_one(session: Session) -> None:
    contact = _contact(session)
    _grant(session, contact)
    _grant(session, contact, occurred_at=T0 + dt.timedelta(hours=1))
    session.commit()
    session.execute(text("DELETE FROM consent_proofs WHERE event_id = 1"))
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert report.ok
    assert report.proofs_erased == 1
    session.execute(
        text(
            "UPDATE consent_proofs SET salt = '00000000000000000000000000000000' WHERE event_id = 2"
        )
    )
    session.commit()
    report = service.verify_ledger(session, digest=TEST_DIGEST)
    assert (report.ok, report.first_broken_id) == (False, 2)
    assert "proof of event 2" in (report.problem or "")


def test_suppression_wins_over_a_third_party_grant(session: Session) -> None:
    contact = _contact(session)
    service.suppress(
        session,
        digest=TEST_DIGEST,
        phone=contact.phone,
        channel="sms",
        reason=SuppressionReason.KEYWORD,
    )
    with pytest.raises(ConsentError, match="suppression list"):
        _grant(session, contact, source="import")
    session.rollback()
    # the person opting in again themselves is allowed; the STOP entry is theirs to lift
    contact = _contact(session, "+33611111111")
    service.suppress(
        session,
        digest=TEST_DIGEST,
        phone=contact.phone,
        channel="sms",
        reason=SuppressionReason.KEYWORD,
    )
    _grant(session, contact, source="keyword")
    assert service.suppression_reasons(session, digest=TEST_DIGEST, phone=contact.phone) == [
        "keyword"
    ]


def test_an_erasure_suppression_refuses_every_marketing_grant(session: Session) -> None:
    contact = _contact(session)
    service.suppress(
        session, digest=TEST_DIGEST, phone=contact.phone, reason=SuppressionReason.ERASURE
    )
    for source in ("form", "keyword", "import", "api"):
        with pytest.raises(ConsentError, match="erasure"):
            _grant(session, contact, source=source)
    # a transactional grant is not marketing: the suppression list does not apply
    _grant(session, contact, purpose="transactional", source="api")


def test_suppression_is_keyed_by_digest_only(session: Session) -> None:
    service.suppress(
        session, digest=TEST_DIGEST, phone="+33612345678", reason="complaint", channel="sms"
    )
    service.suppress(
        session, digest=TEST_DIGEST, phone="+33612345678", reason="complaint", channel="sms"
    )
    rows = session.execute(text("SELECT digest, channel, reason FROM suppressions")).all()
    assert len(rows) == 1
    assert "612345678" not in rows[0][0]
    assert service.suppression_reasons(
        session, digest=TEST_DIGEST, phone="+33612345678", channel="sms"
    ) == ["complaint"]
    assert (
        service.suppression_reasons(
            session, digest=TEST_DIGEST, phone="+33612345678", channel="email"
        )
        == []
    )
    assert service.suppressed_phones(
        session, digest=TEST_DIGEST, phones=["+33612345678", "+33700000000"]
    ) == {"+33612345678": ["complaint"]}
    assert (
        service.lift_suppression(session, digest=TEST_DIGEST, phone="+33612345678", channel="sms")
        == 0
    )


def test_bad_events_are_refused_with_the_field(session: Session) -> None:
    contact = _contact(session)
    with pytest.raises(ValidationError, match="'sometimes' is not a valid ConsentAction"):
        _grant(session, contact, action="sometimes")
    with pytest.raises(ValidationError, match="time zone"):
        _grant(session, contact, occurred_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="not registered"):
        _grant(session, contact, consent_text_version="v-unknown")


def test_consent_texts_are_versioned_and_never_replaced(session: Session) -> None:
    service.add_consent_text(session, version="sms-fr-v1", body="J'accepte de recevoir...")
    with pytest.raises(ValidationError, match="never changed"):
        service.add_consent_text(session, version="sms-fr-v1", body="autre")
    contact = _contact(session)
    event = _grant(session, contact, consent_text_version="sms-fr-v1")
    assert event.consent_text_version == "sms-fr-v1"
    assert [t.version for t in service.list_consent_texts(session)] == ["sms-fr-v1"]


def test_bulk_append_chains_many_events_in_order(session: Session) -> None:
    contacts = [_contact(session, f"+336123456{i:02d}") for i in range(50)]
    events = [
        service.NewConsentEvent(
            contact_id=c.id,
            channel="sms",
            purpose="marketing",
            action="granted",
            source="import",
            occurred_at=T0,
            proof={"phone": c.phone, "file": "shop.csv", "line": i + 2},
        )
        for i, c in enumerate(contacts)
    ]
    appended = service.append_events(session, digest=TEST_DIGEST, events=events)
    session.commit()
    assert appended == list(range(1, 51))
    assert service.verify_ledger(session, digest=TEST_DIGEST, batch_size=7).ok
    states = session.scalars(select(ConsentState)).all()
    assert len(states) == 50


def test_concurrent_appenders_never_fork_the_chain(engine: Engine, tmp_path: Path) -> None:
    make = session_factory(engine)
    with make() as setup:
        ids = [_contact(setup, f"+336987654{i:02d}").id for i in range(8)]
        setup.commit()
    errors: list[BaseException] = []

    def append(contact_id: int) -> None:
        try:
            for n in range(5):
                with make() as s:
                    event = service.NewConsentEvent(
                        contact_id=contact_id,
                        channel="sms",
                        purpose="marketing",
                        action="granted",
                        source="api",
                        occurred_at=T0 + dt.timedelta(minutes=n),
                    )
                    service.append_events(s, digest=TEST_DIGEST, events=[event])
                    s.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with make() as check:
        report = service.verify_ledger(check, digest=TEST_DIGEST)
        assert report.ok, report.problems
        assert report.events_checked == 40
