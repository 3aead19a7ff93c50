"""The preference centre's choices: ledger events per channel and purpose that the policy
honours (promotions stopped, reminders kept, the person's own frequency limit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent, FrequencyLimit
from textopt.consent.preferences import PreferenceChoice, read_preferences, save_preferences
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.outbox.models import Message
from textopt.vocab import Channel

DUE = WEDNESDAY_10H + dt.timedelta(minutes=1)


def _choose(session: Session, contact: Contact, **choice: object) -> list[int]:
    values: dict[str, object] = {"promotions": True, "reminders": True, "frequency": None}
    values.update(choice)
    return save_preferences(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        choices=[PreferenceChoice(channel=Channel.SMS, **values)],  # type: ignore[arg-type]
        source="unsubscribe-link",
        now=WEDNESDAY_10H - dt.timedelta(days=1),
        proof={"link": "preferences"},
    )


def _outcomes(session: Session, campaign_id: int) -> dict[str, tuple[str, str | None]]:
    rows = session.execute(
        select(Contact.phone, Message.status, Message.reason)
        .join(Contact, Contact.id == Message.contact_id)
        .where(Message.campaign_id == campaign_id)
    ).all()
    return {str(phone): (status, reason) for phone, status, reason in rows}


def _earlier_promotion(session: Session, contact: Contact, at: dt.datetime, key: str) -> None:
    session.add(
        Message(
            contact_id=contact.id,
            channel="sms",
            purpose="marketing",
            recipient=contact.phone,
            body="Une autre promotion chez Boutique",
            segments=1,
            status="delivered",
            send_at=at,
            provider="sandbox",
            idempotency_key=key,
        )
    )


def test_a_person_who_keeps_reminders_but_stops_promotions_gets_only_reminders(
    session: Session, campaign_settings: Settings
) -> None:
    keeps = add_contact(session, "+33612345601")
    stops = add_contact(session, "+33612345602")
    assert len(_choose(session, stops, promotions=False, reminders=True)) == 1
    session.commit()
    [sms, email] = read_preferences(session, contact_id=stops.id)
    assert (sms.promotions, sms.reminders) == ("stopped", True)
    assert email.has_address is False

    campaign = new_campaign(session, campaign_settings)
    campaigns.launch(session, campaign=campaign, settings=campaign_settings, now=DUE)
    session.commit()
    outcomes = _outcomes(session, campaign.id)
    assert outcomes["+33612345601"] == ("planned", None)
    assert outcomes["+33612345602"] == ("blocked", "consent_revoked")

    reminder, _new = enqueue_message(
        session,
        settings=campaign_settings,
        to="+33612345602",
        text="Votre rendez-vous est demain à 10 h",
        purpose="transactional",
        now=DUE,
    )
    session.commit()
    assert (reminder.status, reminder.reason) in {("planned", None), ("queued", None)}
    assert keeps.id != stops.id


def test_a_person_who_stops_reminders_too_gets_no_transactional_message(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, "+33612345603")
    assert len(_choose(session, person, promotions=False, reminders=False)) == 2
    session.commit()
    reminder, _new = enqueue_message(
        session,
        settings=campaign_settings,
        to="+33612345603",
        text="Votre commande est partie",
        purpose="transactional",
        now=DUE,
    )
    session.commit()
    assert (reminder.status, reminder.reason) == ("blocked", "transactional_opt_out")


def test_a_two_a_month_limit_holds_the_third_promotion_with_its_own_reason(
    session: Session, campaign_settings: Settings
) -> None:
    limited = add_contact(session, "+33612345604")
    usual = add_contact(session, "+33612345605")
    _choose(session, limited, frequency=FrequencyLimit.TWO_A_MONTH)
    for person in (limited, usual):
        for days in (3, 10):
            at = DUE - dt.timedelta(days=days)
            _earlier_promotion(session, person, at, f"earlier-{person.id}-{days}")
    session.commit()
    [sms, _email] = read_preferences(session, contact_id=limited.id)
    assert sms.frequency == FrequencyLimit.TWO_A_MONTH

    campaign = new_campaign(session, campaign_settings)
    campaigns.launch(session, campaign=campaign, settings=campaign_settings, now=DUE)
    session.commit()
    outcomes = _outcomes(session, campaign.id)
    assert outcomes["+33612345605"] == ("planned", None)  # the workspace allows 4 in 30 days
    status, reason = outcomes["+33612345604"]
    assert reason == "personal_limit"
    assert status in {"planned", "blocked"}  # deferred until the budget frees, or not in time
    stored = session.scalars(
        select(Message.reason_text).where(
            Message.campaign_id == campaign.id, Message.contact_id == limited.id
        )
    ).one()
    assert stored is not None
    assert "the person's own limit" in stored


def test_a_one_a_week_limit_counts_only_the_last_seven_days(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, "+33612345606")
    _choose(session, person, frequency=FrequencyLimit.ONE_A_WEEK)
    _earlier_promotion(session, person, DUE - dt.timedelta(days=8), "earlier-week")
    session.commit()
    campaign = new_campaign(session, campaign_settings)
    campaigns.launch(session, campaign=campaign, settings=campaign_settings, now=DUE)
    session.commit()
    assert _outcomes(session, campaign.id)["+33612345606"] == ("planned", None)


def test_the_ledger_verifies_after_preference_events_and_the_state_follows_it(
    session: Session,
) -> None:
    person = add_contact(session, "+33612345607")
    _choose(session, person, frequency=FrequencyLimit.ONE_A_WEEK)
    _choose(session, person, frequency=FrequencyLimit.TWO_A_MONTH)
    assert _choose(session, person, frequency=FrequencyLimit.TWO_A_MONTH) == []  # no change
    session.commit()
    actions = [e.action for e, _proof in consent.history(session, contact_id=person.id)]
    assert actions == ["granted", "limit-1-a-week", "limit-2-a-month"]
    report = consent.verify_ledger(session, digest=TEST_DIGEST)
    assert report.ok
    assert report.differences == []
    state = consent.current_consent(session, contact_id=person.id)[("sms", "marketing")]
    assert (state.status, state.frequency) == ("granted", "2-a-month")

    _choose(session, person, frequency=None)  # back to the workspace's caps
    session.commit()
    state = consent.current_consent(session, contact_id=person.id)[("sms", "marketing")]
    assert (state.status, state.frequency) == ("granted", None)
    assert consent.verify_ledger(session, digest=TEST_DIGEST).differences == []
    # a state row rewritten by hand is caught, and the rebuild restores the limit
    state.frequency = "1-a-week"
    session.commit()
    assert consent.verify_ledger(session, digest=TEST_DIGEST).differences != []
    consent.rebuild_state(session, digest=TEST_DIGEST)
    session.commit()
    assert consent.verify_ledger(session, digest=TEST_DIGEST).differences == []
    kinds = session.scalars(select(ConsentEvent.action).where(ConsentEvent.contact_id == person.id))
    assert "limit-default" in set(kinds)


def test_the_claim_rechecks_the_limit_chosen_after_planning(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        person = add_contact(s, "+33612345608")
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    with session_scope(engine) as s:  # since planning: two promotions went out, then a choice
        for days in (2, 9):
            _earlier_promotion(s, person, DUE - dt.timedelta(days=days), f"earlier-{days}")
        _choose(s, person, frequency=FrequencyLimit.TWO_A_MONTH)
    run_dispatcher(engine, campaign_settings, at=DUE)
    with session_scope(engine) as s:
        status, reason = _outcomes(s, campaign_id)["+33612345608"]
    assert reason == "personal_limit"
    assert status in {"planned", "blocked"}
