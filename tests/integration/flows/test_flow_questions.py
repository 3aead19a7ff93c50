"""A flow's reminder asks its question: the answer names the appointment of the occurrence,
and an ANNULER ends that occurrence before its next step (the follow-up is never sent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from tests.factories.campaigns import add_contact
from tests.factories.flows import REMINDER, active_flow, add_event, flow_messages, run_at, runs
from tests.factories.inbound import text_in

from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.events.service import list_events
from textopt.outbox.models import Message
from textopt.questions.models import Question

MONDAY_9H = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
APPOINTMENT = "2026-11-26T14:30:00+01:00"  # Thursday 14:30 in Paris
REMINDER_AT = dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC)
PHONE = "+33612345071"

#: The reminder, then a follow-up two hours later that a cancellation must stop.
WITH_FOLLOW_UP: dict[str, Any] = {
    **REMINDER,
    "name": "Rappel et consignes",
    "steps": [
        *REMINDER["steps"],
        {"kind": "wait", "duration": "2h"},
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "transactional",
            "template": "Consignes : venez 10 minutes en avance.",
        },
    ],
}


def _booked(engine: Engine, settings: Settings) -> int:
    with session_scope(engine) as s:
        contact = add_contact(s, PHONE, consent_at=None)
        active_flow(s, WITH_FOLLOW_UP, now=MONDAY_9H)
        add_event(
            s,
            settings,
            contact,
            "appointment_booked",
            now=MONDAY_9H + dt.timedelta(minutes=1),
            appointment_id="A-7",
            appointment_at=APPOINTMENT,
        )
        return contact.id


def _submitted(engine: Engine) -> None:
    """What the dispatcher writes when the provider accepts the reminder."""
    with session_scope(engine) as s:
        for message in s.scalars(select(Message).where(Message.idempotency_key.like("flow-%"))):
            message.status, message.submitted_at = "submitted", REMINDER_AT


def test_the_reminder_asks_about_the_occurrences_appointment_until_it_starts(
    engine: Engine, campaign_settings: Settings
) -> None:
    _booked(engine, campaign_settings)
    run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=2))
    run_at(engine, campaign_settings, REMINDER_AT)
    [reminder] = flow_messages(engine)
    with session_scope(engine) as s:
        [question] = s.scalars(select(Question)).all()
        assert (question.kind, question.reference, question.message_id) == (
            "appointment",
            "A-7",
            reminder.id,
        )
        # open until the appointment itself, not a default lifetime
        assert question.expires_at == dt.datetime(2026, 11, 26, 13, 30, tzinfo=dt.UTC)


def test_annuler_ends_the_occurrence_before_its_follow_up(
    engine: Engine, campaign_settings: Settings
) -> None:
    contact_id = _booked(engine, campaign_settings)
    run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=2))
    run_at(engine, campaign_settings, REMINDER_AT)
    _submitted(engine)
    with session_scope(engine) as s:
        answer = text_in(
            s,
            campaign_settings,
            sender=PHONE,
            text="Annuler",
            at=REMINDER_AT + dt.timedelta(minutes=30),
        )
        assert answer.action == "question_cancelled"
    run_at(engine, campaign_settings, REMINDER_AT + dt.timedelta(hours=3))
    assert len(flow_messages(engine)) == 1  # the follow-up was never written
    [run] = runs(engine)
    assert (run.state, run.exit_reason) == ("exited", "exit_event")
    with session_scope(engine) as s:
        events = list_events(s, contact_id=contact_id)
        assert [(e.type, e.properties["appointment_id"]) for e in events] == [
            ("appointment_booked", "A-7"),
            ("appointment_cancelled", "A-7"),
        ]


def test_oui_confirms_and_the_follow_up_is_still_sent(
    engine: Engine, campaign_settings: Settings
) -> None:
    _booked(engine, campaign_settings)
    run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=2))
    run_at(engine, campaign_settings, REMINDER_AT)
    _submitted(engine)
    with session_scope(engine) as s:
        answer = text_in(
            s, campaign_settings, sender=PHONE, text="OUI", at=REMINDER_AT + dt.timedelta(minutes=5)
        )
        assert answer.action == "question_confirmed"
    run_at(engine, campaign_settings, REMINDER_AT + dt.timedelta(hours=3))
    assert [m.body for m in flow_messages(engine)][1] == "Consignes : venez 10 minutes en avance."
    [run] = runs(engine)
    assert run.state == "completed"
