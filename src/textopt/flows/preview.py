"""What a flow would do for one contact, computed without writing anything.

The trigger's data is taken from the contact (their latest event of the trigger's type, the
date attribute, or nothing), each wait's end is computed in the contact's zone, conditions
are evaluated now, and each send goes through the real path (rendering, composing, the
policy's decision at the step's time) inside a savepoint that is rolled back: the preview
and the run can never disagree on a text or a decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.errors import TextoptError, ValidationError
from textopt.events.models import ContactEvent
from textopt.flows.definition import Condition, FlowDefinition, Send, TriggerKind, Wait
from textopt.flows.sending import send_email_step
from textopt.flows.service import contacts_matching
from textopt.flows.steps import REFUSED_STATES, send_variables, wait_end
from textopt.flows.timing import next_yearly, recipient_zone
from textopt.vocab import Channel

__all__ = ["PreviewStep", "preview_fields", "preview_flow"]


@dataclass(frozen=True, slots=True)
class PreviewStep:
    """One step as it would go for the contact."""

    step: int  # 1…; 0 is the trigger
    kind: str
    at: dt.datetime | None  # when the step would run (UTC)
    local: str | None  # the same instant in the contact's zone, as text
    outcome: str  # entered, waiting, sent, skipped, exited, completed
    reason: str | None = None
    sentence: str | None = None
    text: str | None = None  # a send's rendered text (an email's text part)
    subject: str | None = None
    send_at: dt.datetime | None = None  # when the policy would let it go


class _Rollback(Exception):
    """Leaves the savepoint of a simulated send."""


def _trigger_data(
    session: Session, definition: FlowDefinition, contact: Contact, now: dt.datetime, where: Any
) -> tuple[dict[str, Any], str]:
    trigger = definition.trigger
    if trigger.kind == TriggerKind.EVENT:
        event = session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact.id, ContactEvent.type == trigger.event)
            .order_by(ContactEvent.occurred_at.desc(), ContactEvent.id.desc())
            .limit(1)
        ).first()
        if event is None:
            return {"properties": {}}, f"no {trigger.event} event yet: shown with empty properties"
        return (
            {"event_id": event.id, "properties": dict(event.properties or {})},
            f"as for its latest {trigger.event} event ({event.occurred_at:%Y-%m-%d %H:%M} UTC)",
        )
    if trigger.kind == TriggerKind.DATE_ATTRIBUTE:
        assert trigger.attribute is not None
        value = (contact.attributes or {}).get(trigger.attribute)
        if trigger.yearly:
            found = next_yearly(value, hour=trigger.at or (10, 0), where=where, after=now)
            if found is None:
                return {}, f"the contact has no date in {trigger.attribute}"
            return (
                {"attribute": trigger.attribute, "date": found[1].isoformat()},
                f"on its next anniversary ({found[1].astimezone(where):%Y-%m-%d %H:%M %Z})",
            )
        return {
            "attribute": trigger.attribute,
            "date": str(value or ""),
        }, f"{trigger.attribute} = {value}"
    if trigger.kind == TriggerKind.OPTIN_CONFIRMED:
        return {}, f"as if the contact confirmed {trigger.channel} marketing consent now"
    return {}, "as if the contact entered the segment now"


def _local(instant: dt.datetime, where: Any) -> str:
    return f"{instant.astimezone(where):%Y-%m-%d %H:%M %Z}"


def _simulate_send(
    session: Session,
    *,
    settings: Settings,
    definition: FlowDefinition,
    step: Send,
    number: int,
    contact: Contact,
    trigger: dict[str, Any],
    at: dt.datetime,
    where: Any,
) -> PreviewStep:
    variables = send_variables(
        definition, trigger=trigger, attributes=contact.attributes or {}, where=where
    )
    found: dict[str, Any] = {}
    try:
        with session.begin_nested():
            if step.channel == Channel.SMS:
                if not contact.phone:
                    raise ValidationError("the contact has no phone number", field="phone")
                message, _ = enqueue_message(
                    session, settings=settings, to=contact.phone, text=step.template,
                    variables=variables, purpose=step.purpose, sender_id=step.sender,
                    idempotency_key=f"preview-{contact.id}-{number}", validity=step.validity,
                    now=at,
                )  # fmt: skip
            else:
                message = send_email_step(
                    session, settings=settings, contact=contact, step=step, variables=variables,
                    idempotency_key=f"preview-{contact.id}-{number}", now=at,
                )  # fmt: skip
            found.update(
                status=message.status, reason=message.reason, sentence=message.reason_text,
                text=message.body, subject=message.subject, send_at=message.send_at,
            )  # fmt: skip
            raise _Rollback
    except _Rollback:
        pass
    except TextoptError as exc:
        return PreviewStep(number, "send", at, _local(at, where), "exited", exc.code, exc.message)
    blocked = found["status"] in REFUSED_STATES
    return PreviewStep(
        number,
        "send",
        at,
        _local(at, where),
        "skipped" if blocked else "sent",
        found["reason"],
        found["sentence"],
        found["text"],
        found["subject"],
        None if blocked else found["send_at"],
    )


def preview_flow(
    session: Session,
    *,
    settings: Settings,
    definition: FlowDefinition,
    contact: Contact,
    now: dt.datetime,
) -> list[PreviewStep]:
    """The steps the flow would take for `contact` if it started at `now`."""
    where = recipient_zone(contact.timezone, contact.timezones or (), settings.workspace_timezone)
    trigger, note = _trigger_data(session, definition, contact, now, where)
    at = now
    if definition.trigger.yearly and trigger.get("date"):
        at = max(now, dt.datetime.fromisoformat(trigger["date"]))
    steps = [PreviewStep(0, "trigger", at, _local(at, where), "entered", sentence=note)]
    for number, step in enumerate(definition.steps, start=1):
        if isinstance(step, Wait):
            end = wait_end(
                step, number=number, start=at, trigger=trigger,
                attributes=contact.attributes or {}, where=where, now=now,
            )  # fmt: skip
            if end.at is None:
                steps.append(
                    PreviewStep(number, "wait", None, None, "exited", end.reason, end.sentence)
                )
                return steps
            at = max(end.at, at)
            steps.append(PreviewStep(number, "wait", at, _local(at, where), "waiting"))
        elif isinstance(step, Condition):
            matches = contact.id in contacts_matching(
                session, segment=step.segment, contact_ids=[contact.id], now=now
            )
            if not matches:
                steps.append(
                    PreviewStep(number, "condition", at, _local(at, where), "exited",
                                "condition_false", f"the contact is not in '{step.segment}'")
                )  # fmt: skip
                return steps
            steps.append(PreviewStep(number, "condition", at, _local(at, where), "entered"))
        else:
            previewed = _simulate_send(
                session, settings=settings, definition=definition, step=step, number=number,
                contact=contact, trigger=trigger, at=at, where=where,
            )  # fmt: skip
            steps.append(previewed)
            if previewed.outcome == "exited":
                return steps
    steps.append(PreviewStep(len(definition.steps), "end", at, _local(at, where), "completed"))
    return steps


def preview_fields(steps: list[PreviewStep]) -> list[dict[str, Any]]:
    """A preview as JSON-ready data."""
    return [
        {
            "step": s.step,
            "kind": s.kind,
            "at": s.at.isoformat() if s.at else None,
            "local": s.local,
            "outcome": s.outcome,
            "reason": s.reason,
            "sentence": s.sentence,
            "text": s.text,
            "subject": s.subject,
            "send_at": s.send_at.isoformat() if s.send_at else None,
        }
        for s in steps
    ]
