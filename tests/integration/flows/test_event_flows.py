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
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.flows.jobs import run_flows
from textopt.flows.models import Flow
from textopt.flows.runner import ExitWatch, RunTally
from textopt.flows.stats import flow_stats

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


def test_a_cancellation_ends_the_waiting_reminder_at_the_next_pass_not_when_it_comes_due(
    engine: Engine, campaign_settings: Settings
) -> None:
    watch = ExitWatch()

    def one_pass(at: dt.datetime) -> RunTally:
        return run_flows(engine, campaign_settings, now=at, owner="test-runner", exits=watch)[1]

    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345004", consent_at=None)
        flow = active_flow(s, REMINDER, now=MONDAY_9H)
        for key in ("A-5", "A-6"):
            add_event(
                s, campaign_settings, contact, "appointment_booked", now=MONDAY_9H,
                appointment_id=key, appointment_at=APPOINTMENT,
            )  # fmt: skip
    assert one_pass(MONDAY_9H + dt.timedelta(minutes=1)).waiting == 2
    cancelled_at = MONDAY_9H + dt.timedelta(hours=2)
    with session_scope(engine) as s:
        contact = s.get_one(Contact, contact.id)
        add_event(
            s, campaign_settings, contact, "appointment_cancelled", now=cancelled_at,
            appointment_id="A-6",
        )  # fmt: skip
        # a cancellation of a key no occurrence has: nothing more ends
        add_event(
            s, campaign_settings, contact, "appointment_cancelled", now=cancelled_at,
            appointment_id="A-404",
        )  # fmt: skip
    tally = one_pass(cancelled_at + dt.timedelta(seconds=5))  # days before A-6's reminder
    assert tally.exited == 1
    states = {r.occurrence_key: (r.state, r.exit_reason, r.ended_at) for r in runs(engine)}
    assert states == {
        "appointment_id=A-5": ("active", None, None),
        "appointment_id=A-6": ("exited", "exit_event", cancelled_at + dt.timedelta(seconds=5)),
    }
    assert step_log(engine)[-1][2:] == ("exited", "exit_event")
    # the stats say so at once: one waiting, one exited
    with session_scope(engine) as s:
        [table] = flow_stats(s, flow=s.get_one(Flow, flow.id))
        assert sum(step.waiting for step in table.steps) == 1
        assert sum(step.exited.get("exit_event", 0) for step in table.steps) == 1
    # the next pass reads no event twice, and A-5 still gets its reminder
    assert one_pass(cancelled_at + dt.timedelta(seconds=10)).exited == 0
    run_at(engine, campaign_settings, dt.datetime(2026, 11, 25, 13, 30, tzinfo=dt.UTC))
    assert len(flow_messages(engine)) == 1
