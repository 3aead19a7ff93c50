"""Replies that act, on both databases: OUI/YES/ANNULER answer the person's latest open
question (an appointment reminder) in each language, the latest question wins between a
pending double opt-in and a reminder, STOP still stops, closed questions are ignored, a
redelivered reply acts once, and the answer's event and webhook are written with it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.inbound import RECEIVED, text_in
from tests.factories.keys import TEST_DIGEST
from tests.servers.http_peer import http_peer

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import ValidationError
from textopt.events.service import list_events
from textopt.gdpr.service import erase_person, export_person
from textopt.inbound.models import InboundAction
from textopt.outbox.models import Message
from textopt.questions.models import Question
from textopt.questions.service import list_questions
from textopt.webhooks import service as webhooks
from textopt.webhooks.delivery import WebhookDeliverer
from textopt.webhooks.models import WebhookDelivery
from textopt.webhooks.schemas import QuestionAnsweredEvent
from textopt.webhooks.targets import TargetGuard

_A = InboundAction
PARIS = "+33612345678"
REMINDER = "Rappel : RDV demain 10h. Répondez OUI pour confirmer, ANNULER pour annuler."


def _remind(
    session: Session,
    settings: Settings,
    to: str,
    *,
    appointment: str,
    at: dt.datetime,
    sent: bool = True,
    answer_by: dt.datetime | None = None,
) -> Message:
    """An appointment reminder asking its question, handed to the network at `at`."""
    message, _ = enqueue_message(
        session,
        settings=settings,
        to=to,
        text=REMINDER,
        asks="appointment",
        asks_reference=appointment,
        answer_by=answer_by,
        now=at,
    )
    if sent:  # what the dispatcher writes when the provider accepts it
        message.status, message.submitted_at = "submitted", at
    session.flush()
    return message


def _request_opt_in(session: Session, contact: Contact, at: dt.datetime) -> None:
    consent.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="requested",
        source="form",
        occurred_at=at,
        proof={"phone": contact.phone},
    )


def _ledger_actions(session: Session, contact: Contact) -> list[str]:
    return [event.action for event, _ in consent.history(session, contact_id=contact.id)]


@pytest.mark.parametrize(
    ("phone", "yes", "no", "confirmed", "cancelled"),
    [
        (PARIS, "Oui !", "annuler", "Merci, votre rendez-vous est confirmé.", "annulé"),
        ("+447911123456", "YES", "No.", "Thank you, your appointment is confirmed.", "cancelled"),
        ("+34612345678", "Sí", "NO", "Gracias, su cita esta confirmada.", "cancelada"),
        ("+4915112345678", "ja", "Nein", "Danke, Ihr Termin ist bestätigt.", "abgesagt"),
    ],
)
def test_an_answer_in_each_language_records_its_event_and_is_acknowledged_in_that_language(
    session: Session,
    campaign_settings: Settings,
    phone: str,
    yes: str,
    no: str,
    confirmed: str,
    cancelled: str,
) -> None:
    person = add_contact(session, phone)
    first = _remind(session, campaign_settings, phone, appointment="A-1", at=RECEIVED)
    answer = text_in(
        session, campaign_settings, sender=phone, text=yes, at=RECEIVED + dt.timedelta(hours=1)
    )
    assert answer.action == _A.QUESTION_CONFIRMED
    assert answer.reply is not None
    assert (answer.reply.body, answer.reply.purpose) == (confirmed, "transactional")
    second = _remind(
        session, campaign_settings, phone, appointment="A-2", at=RECEIVED + dt.timedelta(hours=2)
    )
    refusal = text_in(
        session, campaign_settings, sender=phone, text=no, at=RECEIVED + dt.timedelta(hours=3)
    )
    session.commit()
    assert refusal.action == _A.QUESTION_CANCELLED
    assert refusal.reply is not None
    assert cancelled in (refusal.reply.body or "")
    events = list_events(session, contact_id=person.id)
    assert [(e.type, e.source) for e in events] == [
        ("appointment_confirmed", "inbound"),
        ("appointment_cancelled", "inbound"),
    ]
    assert events[0].properties == {
        "appointment_id": "A-1",
        "message_id": first.id,
        "question_id": events[0].properties["question_id"],
        "inbound_message_id": answer.message.id,
    }
    assert events[1].properties["appointment_id"] == "A-2"
    assert events[1].properties["message_id"] == second.id
    views = list_questions(session, contact_id=person.id, now=RECEIVED + dt.timedelta(hours=4))
    assert [(v.question.reference, v.state, v.question.answer) for v in views] == [
        ("A-2", "answered", "cancelled"),
        ("A-1", "answered", "confirmed"),
    ]
    # consent untouched: an answer is no keyword
    assert _ledger_actions(session, person) == ["granted"]


def test_oui_answers_the_reminder_sent_after_a_pending_double_opt_in_and_only_it(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, PARIS, consent_at=None)
    _request_opt_in(session, person, RECEIVED)
    _remind(
        session, campaign_settings, PARIS, appointment="A-1", at=RECEIVED + dt.timedelta(hours=1)
    )
    oui = text_in(
        session, campaign_settings, sender=PARIS, text="OUI", at=RECEIVED + dt.timedelta(hours=2)
    )
    assert oui.action == _A.QUESTION_CONFIRMED
    assert _ledger_actions(session, person) == ["requested"]  # the opt-in still waits
    # the reminder answered, the next OUI is the opt-in's
    again = text_in(
        session,
        campaign_settings,
        sender=PARIS,
        text="oui",
        message_id="again",
        at=RECEIVED + dt.timedelta(hours=3),
    )
    session.commit()
    assert again.action == _A.CONFIRMED
    assert _ledger_actions(session, person) == ["requested", "confirmed"]
    assert [e.type for e in list_events(session, contact_id=person.id)] == ["appointment_confirmed"]


def test_oui_confirms_a_double_opt_in_asked_after_the_reminder_and_leaves_the_reminder_open(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, PARIS, consent_at=None)
    _remind(session, campaign_settings, PARIS, appointment="A-1", at=RECEIVED)
    _request_opt_in(session, person, RECEIVED + dt.timedelta(hours=1))
    oui = text_in(
        session, campaign_settings, sender=PARIS, text="OUI", at=RECEIVED + dt.timedelta(hours=2)
    )
    assert oui.action == _A.CONFIRMED
    assert oui.reply is not None
    assert "inscription" in (oui.reply.body or "")
    assert _ledger_actions(session, person) == ["requested", "confirmed"]
    assert list_events(session, contact_id=person.id) == []
    [view] = list_questions(session, contact_id=person.id, now=RECEIVED + dt.timedelta(hours=2))
    assert view.state == "open"
    # a cancel word has nothing to cancel in an opt-in: it answers the reminder
    no = text_in(
        session,
        campaign_settings,
        sender=PARIS,
        text="ANNULER",
        message_id="no",
        at=RECEIVED + dt.timedelta(hours=3),
    )
    session.commit()
    assert no.action == _A.QUESTION_CANCELLED
    assert [e.type for e in list_events(session, contact_id=person.id)] == ["appointment_cancelled"]


def test_the_latest_of_two_reminders_is_answered_never_both(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, PARIS)
    _remind(session, campaign_settings, PARIS, appointment="old", at=RECEIVED)
    _remind(
        session, campaign_settings, PARIS, appointment="new", at=RECEIVED + dt.timedelta(hours=1)
    )
    text_in(
        session, campaign_settings, sender=PARIS, text="OUI", at=RECEIVED + dt.timedelta(hours=2)
    )
    session.commit()
    [event] = list_events(session, contact_id=person.id)
    assert event.properties["appointment_id"] == "new"
    states = {
        v.question.reference: v.state
        for v in list_questions(session, contact_id=person.id, now=RECEIVED + dt.timedelta(hours=2))
    }
    assert states == {"new": "answered", "old": "open"}


@pytest.mark.parametrize("stop", ["STOP", "CANCEL", "Cancelar", "stop please"])
def test_stop_still_stops_and_answers_no_question(
    session: Session, campaign_settings: Settings, stop: str
) -> None:
    person = add_contact(session, PARIS)
    _remind(session, campaign_settings, PARIS, appointment="A-1", at=RECEIVED)
    result = text_in(
        session, campaign_settings, sender=PARIS, text=stop, at=RECEIVED + dt.timedelta(hours=1)
    )
    session.commit()
    assert result.action == _A.STOPPED
    assert _ledger_actions(session, person) == ["granted", "revoked"]
    assert list_events(session, contact_id=person.id) == []
    [question] = session.scalars(select(Question)).all()
    assert question.answered_at is None


def test_expired_answered_undelivered_and_unsent_questions_are_not_answered(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, PARIS)
    later = RECEIVED + dt.timedelta(hours=5)
    _remind(  # its time passed
        session,
        campaign_settings,
        PARIS,
        appointment="expired",
        at=RECEIVED,
        answer_by=RECEIVED + dt.timedelta(hours=1),
    )
    failed = _remind(session, campaign_settings, PARIS, appointment="failed", at=RECEIVED)
    failed.status = "failed"  # a receipt said it never reached the handset
    _remind(  # still in the outbox: the person has not read it
        session, campaign_settings, PARIS, appointment="unsent", at=RECEIVED, sent=False
    )
    session.flush()
    oui = text_in(session, campaign_settings, sender=PARIS, text="OUI", at=later)
    no = text_in(session, campaign_settings, sender=PARIS, text="NON", message_id="n", at=later)
    session.commit()
    assert oui.action == _A.NOTHING_TO_CONFIRM  # what YES did before questions existed
    assert no.action == _A.STORED
    assert no.reply is None
    assert list_events(session, contact_id=person.id) == []
    states = {
        v.question.reference: v.state
        for v in list_questions(session, contact_id=person.id, now=later)
    }
    assert states == {"expired": "expired", "failed": "undelivered", "unsent": "waiting"}


def test_a_redelivered_answer_acts_once(session: Session, campaign_settings: Settings) -> None:
    person = add_contact(session, PARIS)
    _remind(session, campaign_settings, PARIS, appointment="A-1", at=RECEIVED)
    at = RECEIVED + dt.timedelta(hours=1)
    first = text_in(session, campaign_settings, sender=PARIS, text="OUI", message_id="mo-1", at=at)
    session.commit()
    again = text_in(session, campaign_settings, sender=PARIS, text="OUI", message_id="mo-1", at=at)
    session.commit()
    assert (first.created, again.created) == (True, False)
    assert again.action == _A.QUESTION_CONFIRMED
    assert again.reply is not None
    assert first.reply is not None
    assert again.reply.id == first.reply.id
    assert len(list_events(session, contact_id=person.id)) == 1
    acks = session.scalars(
        select(Message).where(Message.idempotency_key == f"inbound-{first.message.id}-reply")
    ).all()
    assert len(acks) == 1


def test_a_question_needs_a_known_kind_a_contact_and_time_to_answer(
    session: Session, campaign_settings: Settings
) -> None:
    add_contact(session, PARIS)
    with pytest.raises(ValidationError, match="not a kind of question") as kind:
        enqueue_message(
            session, settings=campaign_settings, to=PARIS, text="x", asks="survey", now=RECEIVED
        )
    assert kind.value.field == "asks"
    with pytest.raises(ValidationError, match="no contact's number") as stranger:
        enqueue_message(
            session,
            settings=campaign_settings,
            to="+33698765432",
            text="x",
            asks="appointment",
            now=RECEIVED,
        )
    assert stranger.value.field == "asks"
    with pytest.raises(ValidationError, match="has passed") as past:
        enqueue_message(
            session,
            settings=campaign_settings,
            to=PARIS,
            text="x",
            asks="appointment",
            answer_by=RECEIVED - dt.timedelta(minutes=1),
            now=RECEIVED,
        )
    assert past.value.field == "answer_by"
    assert session.scalars(select(Message)).all() == []


def test_the_answer_is_posted_to_webhooks_subscribed_to_question_answered(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})
    with http_peer() as peer:
        with session_scope(engine) as s:
            webhooks.create_endpoint(
                s,
                url=f"{peer.url}/hook",
                events=["question.answered"],
                workspace_key=settings.resolved_secret_key(),
                guard=TargetGuard.from_networks(settings.webhook_allowed_networks),
            )
            person = add_contact(s, PARIS)
            asking = _remind(s, settings, PARIS, appointment="A-7", at=RECEIVED)
            contact_id, message_id = person.id, asking.id
        with session_scope(engine) as s:
            answer = text_in(
                s, settings, sender=PARIS, text="annuler", at=RECEIVED + dt.timedelta(hours=1)
            )
            inbound_id = answer.message.id
        with session_scope(engine) as s:
            [delivery] = s.scalars(select(WebhookDelivery)).all()
            assert delivery.event == "question.answered"
        deliverer = WebhookDeliverer(
            engine, settings, clock=lambda: RECEIVED + dt.timedelta(hours=2), poll_interval=0.01
        )
        asyncio.run(deliverer.run(once=True))
        [seen] = peer.seen
    body = QuestionAnsweredEvent.model_validate_json(seen.body)
    assert body.type == "question.answered"
    data = json.loads(seen.body)["data"]
    assert (data["contact_id"], data["message_id"], data["inbound_message_id"]) == (
        contact_id,
        message_id,
        inbound_id,
    )
    assert (data["answer"], data["reference"], data["event_type"]) == (
        "cancelled",
        "A-7",
        "appointment_cancelled",
    )


def test_a_persons_questions_are_in_their_export_and_gone_with_their_erasure(
    session: Session, campaign_settings: Settings
) -> None:
    person = add_contact(session, PARIS)
    _remind(session, campaign_settings, PARIS, appointment="rdv-5", at=RECEIVED)
    text_in(session, campaign_settings, sender=PARIS, text="OUI", at=RECEIVED)
    session.commit()
    exported = export_person(session, contact=person, digest=TEST_DIGEST)
    [question] = exported["questions"]
    assert (question["reference"], question["answer"]) == ("rdv-5", "confirmed")
    erase_person(session, contact=person, settings=campaign_settings)
    session.commit()
    assert session.scalars(select(Question)).all() == []
    assert list_events(session, contact_id=person.id) == []
