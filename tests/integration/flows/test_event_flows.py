"""Event-triggered flows: a reminder waits until 24 hours before the appointment, sends once,
and an `appointment_cancelled` with the same key ends it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from tests.factories.flows import (
    REMINDER,
    active_flow,
    add_event,
    flow_messages,
    run_at,
    runs,
    step_log,
)

from textopt.config import Settings
from textopt.db.engine import session_scope

MONDAY_9H = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
APPOINTMENT = "2026-11-26T14:30:00+01:00"  # Thursday 14:30 in Paris


def test_a_reminder_is_sent_24_hours_before_the_appointment_once(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345001", consent_at=None)
        active_flow(s, REMINDER, now=MONDAY_9H)
        add_event(
            s,
            campaign_settings,
            contact,
            "appointment_booked",
            now=MONDAY_9H + dt.timedelta(minutes=1),
            appointment_id="A-1",
            appointment_at=APPOINTMENT,
        )
    started, tally = run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=2))
    assert started == 1
    assert tally.waiting == 1
    [run] = runs(engine)
    assert run.due_at == dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC)
    assert flow_messages(engine) == []

    # an hour before the time: still waiting
    run_at(engine, campaign_settings, dt.datetime(2026, 11, 25, 12, 30, tzinfo=dt.UTC))
    assert flow_messages(engine) == []

    at = dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC)
    _, tally = run_at(engine, campaign_settings, at)
    assert tally.sent == 1
    [message] = flow_messages(engine)
    assert message.status in ("queued", "planned")
    assert "26 novembre 2026" in (message.body or "")
    assert "14:30" in (message.body or "")
    # the same event seen again, the runner again: nothing more
    run_at(engine, campaign_settings, at + dt.timedelta(hours=1))
    assert len(flow_messages(engine)) == 1
    [run] = runs(engine)
    assert run.state == "completed"
    assert [outcome for _, _, outcome, _ in step_log(engine)] == [
        "entered",
        "waiting",
        "sent",
        "completed",
    ]


def test_a_cancellation_with_the_same_key_ends_the_reminder(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345002", consent_at=None)
        active_flow(s, REMINDER, now=MONDAY_9H)
        for key in ("A-1", "A-2"):
            add_event(
                s,
                campaign_settings,
                contact,
                "appointment_booked",
                now=MONDAY_9H,
                appointment_id=key,
                appointment_at=APPOINTMENT,
            )
    run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=1))
    with session_scope(engine) as s:
        from textopt.contacts.models import Contact

        contact = s.get(Contact, contact.id)
        assert contact is not None
        add_event(
            s,
            campaign_settings,
            contact,
            "appointment_cancelled",
            now=MONDAY_9H + dt.timedelta(hours=1),
            appointment_id="A-2",
        )
    run_at(engine, campaign_settings, dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC))
    assert len(flow_messages(engine)) == 1  # A-1's reminder only
    states = {r.occurrence_key: (r.state, r.exit_reason) for r in runs(engine)}
    assert states == {
        "appointment_id=A-1": ("completed", None),
        "appointment_id=A-2": ("exited", "exit_event"),
    }


def test_a_cancellation_recorded_before_the_trigger_is_read_still_ends_the_reminder(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345003", consent_at=None)
        active_flow(s, REMINDER, now=MONDAY_9H)
        add_event(
            s, campaign_settings, contact, "appointment_booked", now=MONDAY_9H,
            appointment_id="A-3", appointment_at=APPOINTMENT,
        )  # fmt: skip
        add_event(
            s, campaign_settings, contact, "appointment_cancelled",
            now=MONDAY_9H + dt.timedelta(seconds=2), appointment_id="A-3",
        )  # fmt: skip
    run_at(engine, campaign_settings, MONDAY_9H + dt.timedelta(minutes=1))
    run_at(engine, campaign_settings, dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC))
    assert flow_messages(engine) == []
    assert [(r.state, r.exit_reason) for r in runs(engine)] == [("exited", "exit_event")]
