"""Double opt-in on both backends: form grant, confirmation SMS, reply OUI, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories.inbound import text_in
from tests.factories.keys import TEST_DIGEST
from tests.factories.web import CONSENT_BODY, signup_list

from textopt.accounts.limits import RequestLimiter
from textopt.config import Settings
from textopt.consent.models import ConsentAction, SuppressionReason
from textopt.consent.service import current_consent, history, record_consent, suppress
from textopt.contacts.models import Contact
from textopt.errors import ConflictError, InvalidPhoneNumber, RateLimited, ValidationError
from textopt.inbound.models import InboundAction
from textopt.optin.service import (
    SignupOutcome,
    SignupStatus,
    create_list,
    get_list_or_raise,
    list_text,
    signup_status,
    start_signup,
)
from textopt.outbox.models import Message

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
FORM = "https://sms.example.com/s/club"


def _signup(
    session: Session,
    settings: Settings,
    phone: str,
    *,
    limiter: RequestLimiter | None = None,
    ip: str = "203.0.113.7",
    now: dt.datetime = NOW,
) -> SignupOutcome:
    return start_signup(
        session,
        settings=settings,
        limiter=limiter or RequestLimiter(),
        signup_list=get_list_or_raise(session, slug="club"),
        phone=phone,
        ip=ip,
        user_agent="Mozilla/5.0 (test)",
        form_url=FORM,
        now=now,
    )


def test_a_signup_records_a_pending_grant_with_its_proof_and_queues_one_confirmation(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")
    session.commit()
    assert outcome.sent
    assert outcome.signup is not None
    signup = outcome.signup
    [(event, proof)] = history(session, contact_id=signup.contact_id)
    assert (event.action, event.source, event.consent_text_version) == (
        "requested",
        "form",
        "club-v1",
    )
    assert proof is not None
    assert proof.data == {
        "form_url": FORM,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)",
        "consent_text_version": "club-v1",
        "signup_list": "club",
    }
    message = session.get_one(Message, signup.message_id)
    assert message.purpose == "transactional"
    assert message.status == "planned"
    assert message.idempotency_key == f"optin-{signup.id}"
    assert message.body is not None
    assert "répondez OUI" in message.body
    assert "Boutique Lumière" in message.body
    assert "Le Club Lumière" in message.body
    assert signup_status(session, signup=signup) == SignupStatus.PENDING


def test_the_reply_oui_confirms_and_the_ledger_cites_the_grant_and_the_inbound_message(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")
    session.commit()
    result = text_in(session, campaign_settings, sender="+33612345678", text="Oui")
    session.commit()
    assert result.action == InboundAction.CONFIRMED
    signup = outcome.signup
    assert signup_status(session, signup=signup) == SignupStatus.CONFIRMED
    grant, confirmation = history(session, contact_id=signup.contact_id)
    assert confirmation[0].action == ConsentAction.CONFIRMED
    assert confirmation[0].consent_text_version == "club-v1"
    assert confirmation[1] is not None
    assert confirmation[1].data["confirms_event"] == grant[0].id
    state = current_consent(session, contact_id=signup.contact_id)[("sms", "marketing")]
    assert state.status == "confirmed"


def test_a_stop_after_signing_up_withdraws_it(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")
    text_in(session, campaign_settings, sender="+33612345678", text="STOP")
    session.commit()
    assert signup_status(session, signup=outcome.signup) == SignupStatus.WITHDRAWN


def test_submitting_twice_within_minutes_sends_one_sms(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    first = _signup(session, campaign_settings, "06 12 34 56 78")
    again = _signup(
        session, campaign_settings, "+33 6 12 34 56 78", now=NOW + dt.timedelta(minutes=2)
    )
    session.commit()
    assert again.repeated
    assert again.signup.id == first.signup.id
    assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_an_erased_number_gets_the_same_answer_and_no_sms(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    suppress(session, digest=TEST_DIGEST, phone="+33612345678", reason=SuppressionReason.ERASURE)
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")
    session.commit()
    assert outcome.signup is None
    assert not outcome.sent
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_person_who_sent_stop_may_sign_up_again_themselves(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    suppress(
        session,
        digest=TEST_DIGEST,
        phone="+33612345678",
        channel="sms",
        reason=SuppressionReason.KEYWORD,
    )
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")
    assert outcome.sent


def test_numbers_outside_the_lists_countries_and_non_mobiles_are_refused(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session, countries=["FR"])
    with pytest.raises(ValidationError, match="BE"):
        _signup(session, campaign_settings, "+32 470 12 34 56")
    with pytest.raises(ValidationError, match="not a mobile"):
        _signup(session, campaign_settings, "01 42 68 53 00")
    with pytest.raises(InvalidPhoneNumber):
        _signup(session, campaign_settings, "06 12")
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_number_prefix_walked_by_a_pumping_attack_is_limited(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    settings = campaign_settings.model_copy(update={"optin_prefix_per_hour": 2})
    limiter = RequestLimiter()
    for last, ip in (("01", "198.51.100.1"), ("02", "198.51.100.2")):
        _signup(session, settings, f"06 12 34 56 {last}", limiter=limiter, ip=ip)
    with pytest.raises(RateLimited):
        _signup(session, settings, "06 12 34 56 03", limiter=limiter, ip="198.51.100.3")


def test_a_list_needs_a_registered_sms_marketing_text_and_a_free_slug(
    session: Session,
) -> None:
    lst = signup_list(session)
    assert list_text(session, signup_list=lst).body == CONSENT_BODY
    with pytest.raises(ValidationError, match="not registered"):
        create_list(session, slug="b", name="B", brand="B", consent_text_version="nope")
    with pytest.raises(ConflictError):
        create_list(session, slug="club", name="B", brand="B", consent_text_version="club-v1")
    with pytest.raises(ValidationError, match="slug"):
        create_list(session, slug="Club Lumière", name="B", brand="B", consent_text_version="x")


def test_a_signup_with_a_subscribers_number_keeps_their_consent_and_texts_nobody(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    contact = Contact(phone="+33612345678", country="FR", timezones=["Europe/Paris"], attributes={})
    session.add(contact)
    session.flush()
    record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="granted",
        source="import",
        occurred_at=NOW - dt.timedelta(days=30),
    )
    session.commit()
    outcome = _signup(session, campaign_settings, "06 12 34 56 78")  # anyone can type it
    session.commit()
    assert not outcome.sent
    assert outcome.signup is not None
    assert outcome.signup.message_id is None
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    state = current_consent(session, contact_id=contact.id)[("sms", "marketing")]
    assert (state.status, state.source) == ("granted", "import")  # marketing goes on
    assert [e.action for e, _ in history(session, contact_id=contact.id)] == [
        "granted",
        "requested",  # recorded beside the consent
    ]


def test_signups_of_subscribers_spend_no_confirmation_budget(
    session: Session, campaign_settings: Settings
) -> None:
    signup_list(session)
    settings = campaign_settings.model_copy(
        update={"optin_confirmations_per_hour": 1, "optin_prefix_per_hour": 1}
    )
    subscriber = Contact(
        phone="+33612345678", country="FR", timezones=["Europe/Paris"], attributes={}
    )
    session.add(subscriber)
    session.flush()
    record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=subscriber.id,
        channel="sms",
        purpose="marketing",
        action="granted",
        source="import",
        occurred_at=NOW - dt.timedelta(days=30),
    )
    for n in range(3):
        _signup(session, settings, "06 12 34 56 78", now=NOW + dt.timedelta(minutes=n))
    outcome = _signup(session, settings, "06 12 34 56 79", now=NOW + dt.timedelta(minutes=5))
    session.commit()
    assert outcome.sent
