"""Flow test factories: a flow from a definition, an event, one pass of the runner, the log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.events.models import EventSource
from textopt.events.service import record_event
from textopt.flows import commands
from textopt.flows.jobs import run_flows
from textopt.flows.models import Flow, FlowRun, FlowStepLog
from textopt.flows.runner import RunTally
from textopt.outbox.models import Message

OPERATOR = Actor("cli", None, "cli:test", frozenset())

REMINDER: dict[str, Any] = {
    "name": "Rappel de rendez-vous",
    "trigger": {"kind": "event", "event": "appointment_booked", "key": "appointment_id"},
    "steps": [
        {"kind": "wait", "until": "appointment_at - 24h"},
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "transactional",
            "template": "Rappel : rendez-vous le {{ when | datetime }}. OUI pour confirmer.",
            "asks": "appointment",
        },
    ],
    "exit_on": ["appointment_cancelled"],
}


def active_flow(session: Session, definition: dict[str, Any], *, now: dt.datetime) -> Flow:
    """A flow created and activated at `now`."""
    flow = commands.create_flow(session, actor=OPERATOR, definition=definition, now=now)
    commands.activate_flow(session, actor=OPERATOR, name_or_id=flow.id, now=now)
    return flow


def add_event(
    session: Session,
    settings: Settings,
    contact: Contact,
    type: str,
    *,
    now: dt.datetime,
    **properties: Any,
) -> None:
    """Record an event of `contact` that happened at `now`."""
    record_event(
        session,
        contact=contact,
        type=type,
        properties=properties,
        occurred_at=None,
        key=None,
        source=EventSource.API,
        recorded_by="test",
        secret=settings.resolved_secret_key(),
        now=now,
    )


def run_at(engine: Engine, settings: Settings, at: dt.datetime) -> tuple[int, RunTally]:
    """One pass of the flows (triggers, then due steps) with the clock at `at`."""
    return run_flows(engine, settings, now=at, owner="test-runner")


def flow_messages(engine: Engine) -> list[Message]:
    """Every message a flow wrote, by id."""
    with session_scope(engine) as s:
        found = list(
            s.scalars(
                select(Message).where(Message.idempotency_key.like("flow-%")).order_by(Message.id)
            )
        )
        s.expunge_all()
        return found


def runs(engine: Engine) -> list[FlowRun]:
    """Every occurrence, by id."""
    with session_scope(engine) as s:
        found = list(s.scalars(select(FlowRun).order_by(FlowRun.id)))
        s.expunge_all()
        return found


def step_log(engine: Engine) -> list[tuple[int, int, str, str | None]]:
    """(run, step, outcome, reason) of every log entry, in order."""
    with session_scope(engine) as s:
        return [
            (e.run_id, e.step, e.outcome, e.reason)
            for e in s.scalars(select(FlowStepLog).order_by(FlowStepLog.id))
        ]
