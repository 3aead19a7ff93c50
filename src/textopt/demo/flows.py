"""The demo's flows: a clinic's appointment reminders (confirmed or cancelled by reply), the
shop's welcome after an opt-in and its birthday offer.

Customers already imported play the patients and the new subscriber (the README's tour
counts on the demo's contacts and campaigns, so no new one is made): three appointments are
booked as events (one in 20 hours, reminded at once; one in four days, waiting; one then
cancelled), the flows run once, the outbox is dispatched, and the first patient answers OUI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select

from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentAction, ConsentSource, ConsentState
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.contacts.service import tag_contacts
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch.worker import run_dispatch
from textopt.events.models import ContactEvent, EventSource
from textopt.events.service import record_event
from textopt.flows import commands
from textopt.flows.jobs import run_flows
from textopt.flows.service import get_flow_or_raise
from textopt.flows.stats import flow_stats
from textopt.inbound.service import record_sms
from textopt.outbox.models import Message
from textopt.providers.sandbox import SandboxProvider
from textopt.vocab import Channel, Purpose

__all__ = ["FLOWS", "run_flows_demo"]

_OPERATOR = Actor("cli", None, "cli:demo", frozenset())
REMINDER: dict[str, Any] = {
    "name": "Rappel de rendez-vous (clinique)",
    "description": "La Clinique des Tilleuls rappelle chaque rendez-vous la veille.",
    "trigger": {"kind": "event", "event": "appointment_booked", "key": "appointment_id"},
    "steps": [
        {"kind": "wait", "until": "appointment_at - 24h"},
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "transactional",
            "template": (
                "Clinique des Tilleuls : rendez-vous le {{ when | datetime }}. "
                "Repondez OUI pour confirmer ou ANNULER pour annuler."
            ),
            "validity": "12h",
            "asks": "appointment",
        },
    ],
    "exit_on": ["appointment_cancelled"],
}
WELCOME: dict[str, Any] = {
    "name": "Bienvenue au club",
    "trigger": {"kind": "optin_confirmed", "channel": "sms"},
    "steps": [
        {"kind": "wait", "duration": "10m"},
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "marketing",
            "template": (
                "Bienvenue au club Boutique Lumiere {{ first_name | default('') }} ! "
                "-10% sur votre prochain achat avec le code BIENVENUE."
            ),
            "sender": "LUMIERE",
        },
    ],
}
BIRTHDAY: dict[str, Any] = {
    "name": "Anniversaire",
    "trigger": {"kind": "date_attribute", "attribute": "birthday", "yearly": True, "at": "10:00"},
    "steps": [
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "marketing",
            "template": "Joyeux anniversaire {{ first_name | default('') }} ! -15% toute la "
            "journee chez Boutique Lumiere.",
            "sender": "LUMIERE",
            "validity": "12h",
        }
    ],
}
FLOWS = (REMINDER, WELCOME, BIRTHDAY)


def _people(engine: Engine, *, consenting: bool, count: int, skip: int) -> list[Contact]:
    """Imported French customers with a number, the last ones first (never the tour's):
    with SMS marketing consent, or with no SMS marketing consent event at all."""
    with session_scope(engine) as s:
        states = select(ConsentState.contact_id).where(
            ConsentState.channel == Channel.SMS, ConsentState.purpose == Purpose.MARKETING
        )
        granted = states.where(ConsentState.status == ConsentAction.GRANTED)
        query = select(Contact).where(
            Contact.phone.like("+336%"),
            Contact.id.in_(granted) if consenting else Contact.id.not_in(states),
        )
        found = list(s.scalars(query.order_by(Contact.id.desc()).offset(skip).limit(count)))
        s.expunge_all()
    return found


def _book(engine: Engine, settings: Settings, patients: list[Contact], now: dt.datetime) -> None:
    in_hours = (20, 96, 30)
    with session_scope(engine) as s:
        for number, (patient, hours) in enumerate(zip(patients, in_hours, strict=False), start=1):
            contact = s.get(Contact, patient.id)
            assert contact is not None
            at = (now + dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
            contact.attributes = {**(contact.attributes or {}), "appointment_at": at.isoformat()}
            for kind in ("appointment_booked", "appointment_cancelled")[: 2 if number == 3 else 1]:
                booking = {"appointment_id": f"RDV-{number}", "appointment_at": at.isoformat()}
                record_event(
                    s, contact=contact, type=kind, properties=booking,
                    occurred_at=None, key=f"demo-{kind}-{number}", source=EventSource.API,
                    recorded_by="clinic booking system", secret=settings.resolved_secret_key(),
                    now=now,
                )  # fmt: skip
        tag_contacts(s, contact_ids=[p.id for p in patients], tags=["patient"])


def run_flows_demo(engine: Engine, settings: Settings, console: Console) -> None:
    """Define and activate the flows, let the clinic and the shop's customers trigger them,
    run them, dispatch, and answer a reminder OUI."""
    now = utcnow()
    with session_scope(engine) as s:
        for definition in FLOWS:
            flow = commands.create_flow(s, actor=_OPERATOR, definition=definition, now=now)
            commands.activate_flow(s, actor=_OPERATOR, name_or_id=flow.id, now=now)
    patients = _people(engine, consenting=True, count=3, skip=2)  # after the preference ones
    _book(engine, settings, patients, now)
    newcomer = _people(engine, consenting=False, count=1, skip=0)
    with session_scope(engine) as s:
        today = now.date()
        for contact in _people(engine, consenting=True, count=2, skip=10):
            row = s.get(Contact, contact.id)
            assert row is not None
            born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today
            row.attributes = {**(row.attributes or {}), "birthday": born.isoformat()}
        for contact in newcomer:  # signs up at the till: a welcome once the opt-in is read
            consent.record_consent(
                s, digest=address_digester(settings.resolved_secret_key()),
                contact_id=contact.id, channel=Channel.SMS, purpose=Purpose.MARKETING,
                action=ConsentAction.GRANTED, source=ConsentSource.FORM, occurred_at=now,
                proof={"form": "till", "demo": True},
            )  # fmt: skip
    started, tally = run_flows(engine, settings, now=now + dt.timedelta(seconds=1))
    console.print(
        f"  {started} occurrences started; {tally.sent} messages written, "
        f"{tally.waiting} waiting, {tally.exited} ended early"
    )
    run_dispatch(engine, settings, once=True)
    _answer_oui(engine, settings, patients[0] if patients else None, console)
    _print_stats(engine, console)


def _answer_oui(
    engine: Engine, settings: Settings, patient: Contact | None, console: Console
) -> None:
    if patient is None or patient.phone is None:
        return
    sandbox = SandboxProvider("sandbox", settings.providers["sandbox"])
    with session_scope(engine) as s:
        reminder = s.scalar(
            select(Message.status).where(
                Message.contact_id == patient.id, Message.idempotency_key.like("flow-%")
            )
        )
        if reminder not in ("sent", "delivered"):
            console.print(f"  the reminder to {patient.phone} is {reminder}: no answer yet")
            return
        record_sms(s, sms=sandbox.deliver_mo(sender=patient.phone, text="OUI"), settings=settings)
        confirmed = s.scalar(
            select(ContactEvent.id).where(
                ContactEvent.contact_id == patient.id,
                ContactEvent.type == "appointment_confirmed",
            )
        )
    said = "appointment_confirmed recorded" if confirmed else "nothing to confirm"
    console.print(f"  {patient.phone} answered OUI: {said} (textopt events list --contact …)")


def _print_stats(engine: Engine, console: Console) -> None:
    table = Table(title="flows, per step")
    for column in ("flow", "step", "entered", "waiting", "sent", "not sent", "exited"):
        table.add_column(column)
    with session_scope(engine) as s:
        for definition in FLOWS:
            flow = get_flow_or_raise(s, name_or_id=definition["name"])
            for step in flow_stats(s, flow=flow)[0].steps:
                exited = ", ".join(f"{k} {v}" for k, v in step.exited.items()) or "0"
                skipped = ", ".join(f"{k} {v}" for k, v in step.skipped.items()) or "0"
                table.add_row(
                    flow.name, f"{step.step} {step.kind}", str(step.entered), str(step.waiting),
                    str(step.sent), skipped, exited,
                )  # fmt: skip
    console.print(table)
