"""The runner: claim due occurrences with a lease, then move each through its steps.

`claim_runs` marks a batch of due occurrences of active flows with this runner's lease
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several dispatchers take different rows; SQLite
has one writer) and is committed at once. `advance_runs` then reads the batch's versions,
contacts, exit events and withdrawn consents in one query each and moves every occurrence
as far as it can go now, in ONE transaction with the steps' effects: a send step writes its
message through the one-off path (`campaigns.sends`: policy, consent, caps, quiet hours,
expiry, every unsent message with its reason) under the key `flow-<run>-<step>`, and the
occurrence's next step is written in the same commit. A runner killed anywhere leaves either
nothing or the step and its message; the lease then expires and another runner goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentState
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import TextoptError
from textopt.events.models import ContactEvent
from textopt.flows.definition import Condition, FlowDefinition, Send, TriggerKind, Wait
from textopt.flows.models import (
    Flow,
    FlowRun,
    FlowRunState,
    FlowState,
    FlowStepLog,
    FlowVersion,
    StepOutcome,
    log_row,
)
from textopt.flows.sending import send_email_step
from textopt.flows.service import contacts_matching, definition_of
from textopt.flows.steps import REFUSED_STATES, send_variables, wait_end
from textopt.flows.timing import parse_date_value, recipient_zone
from textopt.outbox.models import Message
from textopt.questions.kinds import question_kind
from textopt.vocab import Channel, Purpose

__all__ = [
    "LEASE",
    "RUN_BATCH",
    "ExitWatch",
    "RunTally",
    "advance_runs",
    "claim_runs",
    "end_on_exit_events",
    "run_due",
]

log = logging.getLogger(__name__)

#: Occurrences claimed at once.
RUN_BATCH = 100
#: How long a claim holds its occurrences; after that another runner may take them.
LEASE = dt.timedelta(minutes=5)
#: How far back a runner that has seen no exit event yet looks for them (an occurrence an
#: older one ends is ended when its next step comes due, as every exit once was).
EXIT_LOOKBACK = dt.timedelta(hours=1)
#: Exit events read at once.
EXIT_BATCH = 1000
#: Message states that end an occurrence of a marketing flow: the person said no.
_REFUSALS = frozenset({"consent_revoked", "suppressed"})


@dataclass(slots=True)
class RunTally:
    """What one pass of the runner did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    exited: int = 0
    completed: int = 0
    waiting: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: RunTally) -> None:
        """Add another pass's counts to these."""
        for name in ("claimed", "sent", "skipped", "exited", "completed", "waiting"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, count in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count


def claim_runs(
    session: Session, *, owner: str, now: dt.datetime, limit: int = RUN_BATCH
) -> list[int]:
    """Lease up to `limit` due occurrences of active flows to `owner`; commit right after."""
    query = (
        select(FlowRun.id)
        .where(
            FlowRun.state == FlowRunState.ACTIVE,
            FlowRun.due_at <= now,
            or_(FlowRun.lease_until.is_(None), FlowRun.lease_until < now),
            exists().where(Flow.id == FlowRun.flow_id, Flow.state == FlowState.ACTIVE),
        )
        .order_by(FlowRun.due_at, FlowRun.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=FlowRun)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(FlowRun)
            .where(FlowRun.id.in_(ids))
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
    return ids


@dataclass(slots=True)
class _Batch:
    """What the batch's occurrences need, read in one query each."""

    settings: Settings
    now: dt.datetime
    definitions: dict[int, FlowDefinition]
    contacts: dict[int, Contact]
    exits: dict[int, list[Any]]
    revoked: set[tuple[int, str]]
    tally: RunTally
    logs: list[dict[str, Any]] = field(default_factory=list)

    def log(
        self,
        run: FlowRun,
        outcome: StepOutcome,
        *,
        step: int,
        reason: str | None = None,
        sentence: str | None = None,
        message_id: int | None = None,
    ) -> None:
        self.logs.append(
            log_row(
                run_id=run.id,
                flow_id=run.flow_id,
                version_id=run.version_id,
                step=step,
                outcome=outcome,
                at=self.now,
                reason=reason,
                sentence=sentence,
                message_id=message_id,
            )
        )


def _read_batch(
    session: Session, runs: Sequence[FlowRun], *, settings: Settings, now: dt.datetime
) -> _Batch:
    version_ids = {run.version_id for run in runs}
    definitions = {
        version.id: definition_of(version)
        for version in session.scalars(select(FlowVersion).where(FlowVersion.id.in_(version_ids)))
    }
    contact_ids = {run.contact_id for run in runs}
    contacts = {
        c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    exit_types = {kind for d in definitions.values() for kind in d.exit_on}
    exits: dict[int, list[Any]] = defaultdict(list)
    if exit_types:
        for row in session.execute(
            select(
                ContactEvent.id,
                ContactEvent.contact_id,
                ContactEvent.type,
                ContactEvent.properties,
                ContactEvent.occurred_at,
                ContactEvent.received_at,
            ).where(ContactEvent.contact_id.in_(contact_ids), ContactEvent.type.in_(exit_types))
        ):
            exits[row.contact_id].append(row)
    revoked = {
        (row.contact_id, row.channel)
        for row in session.execute(
            select(ConsentState.contact_id, ConsentState.channel).where(
                ConsentState.contact_id.in_(contact_ids),
                ConsentState.purpose == Purpose.MARKETING,
                ConsentState.status == ConsentAction.REVOKED,
            )
        )
    }
    return _Batch(settings, now, definitions, contacts, exits, revoked, RunTally(claimed=len(runs)))


def _after_start(row: Any, run: FlowRun) -> bool:
    """Whether an event came after what started `run`: after its trigger event happened
    (a cancellation recorded before the trigger was read counts), else after it started."""
    started = run.trigger.get("occurred_at") if run.trigger.get("event_id") else None
    if started is None:
        return bool(row.received_at >= run.started_at)
    return bool(
        row.id != run.trigger["event_id"] and row.occurred_at >= dt.datetime.fromisoformat(started)
    )


def _exit_event(run: FlowRun, definition: FlowDefinition, batch: _Batch) -> str | None:
    """The exit event that ends `run`: one of `exit_on` that came after what started it,
    with the same occurrence key when the trigger has one."""
    key_name = definition.trigger.key
    for row in batch.exits.get(run.contact_id, ()):
        if row.type not in definition.exit_on or not _after_start(row, run):
            continue
        if key_name is not None:
            wanted = (run.trigger.get("properties") or {}).get(key_name)
            if str((row.properties or {}).get(key_name)) != str(wanted):
                continue
        return str(row.type)
    return None


def _end(
    run: FlowRun,
    batch: _Batch,
    *,
    state: FlowRunState,
    step: int,
    reason: str | None,
    sentence: str | None,
) -> None:
    run.state = state
    run.ended_at = batch.now
    run.exit_reason = reason
    if state == FlowRunState.EXITED:
        batch.log(run, StepOutcome.EXITED, step=step, reason=reason, sentence=sentence)
        batch.tally.exited += 1
        key = reason or "exited"
        batch.tally.reasons[key] = batch.tally.reasons.get(key, 0) + 1
    else:
        batch.log(run, StepOutcome.COMPLETED, step=step)
        batch.tally.completed += 1


def _marketing_ahead(definition: FlowDefinition, step: int) -> set[str]:
    return {
        str(s.channel)
        for s in definition.steps[step:]
        if isinstance(s, Send) and s.purpose == Purpose.MARKETING
    }


def _question(
    step: Send, run: FlowRun, variables: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """What a send step asks (`asks`): about the trigger's reference property when the event
    carries it (`appointment_id`), else about the occurrence itself; open until the date the
    flow waits for (the appointment) when that is still ahead, else the default lifetime."""
    if step.asks is None:
        return {}
    kind = question_kind(step.asks)
    properties = run.trigger.get("properties") or {}
    value = properties.get(kind.reference_property)
    reference = str(value) if value is not None and value != "" else run.occurrence_key
    when = variables.get("when")
    answer_by = when if isinstance(when, dt.datetime) and when > now else None
    return {"asks": step.asks, "asks_reference": reference, "answer_by": answer_by}


def _send(
    session: Session,
    run: FlowRun,
    step: Send,
    number: int,
    contact: Contact,
    definition: FlowDefinition,
    batch: _Batch,
) -> None:
    settings = batch.settings
    where = recipient_zone(contact.timezone, contact.timezones or (), settings.workspace_timezone)
    variables = send_variables(
        definition, trigger=run.trigger, attributes=contact.attributes or {}, where=where
    )
    key = f"flow-{run.id}-{number}"
    if step.channel == Channel.SMS:
        if not contact.phone:
            batch.log(
                run,
                StepOutcome.SKIPPED,
                step=number,
                reason="invalid_number",
                sentence="the contact has no phone number",
            )
            batch.tally.skipped += 1
            return
        message, _ = enqueue_message(
            session,
            settings=settings,
            to=contact.phone,
            text=step.template,
            variables=variables,
            purpose=step.purpose,
            sender_id=step.sender,
            idempotency_key=key,
            validity=step.validity,
            now=batch.now,
            **_question(step, run, variables, batch.now),
        )
    else:
        message = send_email_step(
            session,
            settings=settings,
            contact=contact,
            step=step,
            variables=variables,
            idempotency_key=key,
            now=batch.now,
        )
    _record_send(run, step, number, message, batch)


def _record_send(run: FlowRun, step: Send, number: int, message: Message, batch: _Batch) -> None:
    if message.status not in REFUSED_STATES:
        batch.log(run, StepOutcome.SENT, step=number, message_id=message.id)
        batch.tally.sent += 1
        return
    reason = message.reason or "blocked"
    batch.log(
        run,
        StepOutcome.SKIPPED,
        step=number,
        reason=reason,
        sentence=message.reason_text,
        message_id=message.id,
    )
    batch.tally.skipped += 1
    batch.tally.reasons[reason] = batch.tally.reasons.get(reason, 0) + 1
    if step.purpose == Purpose.MARKETING and reason in _REFUSALS:  # the person said no
        _end(
            run,
            batch,
            state=FlowRunState.EXITED,
            step=number,
            reason=reason,
            sentence=message.reason_text,
        )


def _date_changed(
    run: FlowRun, definition: FlowDefinition, contact: Contact, batch: _Batch
) -> str | None:
    """Why a date attribute's occurrence no longer holds: the contact's date moved (a new
    appointment has its own occurrence) or was removed; None while it holds."""
    trigger = definition.trigger
    if trigger.kind != TriggerKind.DATE_ATTRIBUTE or trigger.yearly or not trigger.attribute:
        return None
    where = recipient_zone(
        contact.timezone, contact.timezones or (), batch.settings.workspace_timezone
    )
    now_value = (contact.attributes or {}).get(trigger.attribute)
    current = parse_date_value(now_value, where)
    if current is not None and current.isoformat() == run.trigger.get("date"):
        return None
    return f"{trigger.attribute} changed (now {str(now_value)[:40] if now_value else 'empty'})"


def _goes_on(run: FlowRun, batch: _Batch) -> bool:
    """End `run` if it cannot take its next step (its contact erased, every step done, an
    exit event, a withdrawn consent before a marketing step); whether it goes on."""
    definition = batch.definitions[run.version_id]
    contact = batch.contacts.get(run.contact_id)
    index = run.step
    number = index + 1
    if contact is None or contact.erased_at is not None:
        reason, sentence = "contact_erased", "the contact was erased"
    elif index >= len(definition.steps):
        _end(run, batch, state=FlowRunState.COMPLETED, step=index, reason=None, sentence=None)
        return False
    elif (exit_type := _exit_event(run, definition, batch)) is not None:
        reason, sentence = "exit_event", f"the event {exit_type} ended the occurrence"
    elif (changed := _date_changed(run, definition, contact, batch)) is not None:
        reason, sentence = "date_changed", changed
    elif revoked := sorted(
        c for c in _marketing_ahead(definition, index) if (contact.id, c) in batch.revoked
    ):
        reason = "consent_revoked"
        sentence = (
            f"the contact withdrew marketing consent ({revoked[0]}): STOP ends every marketing flow"
        )
    else:
        return True
    _end(run, batch, state=FlowRunState.EXITED, step=number, reason=reason, sentence=sentence)
    return False


def _matching(session: Session, runs: Sequence[FlowRun], batch: _Batch) -> set[tuple[str, int]]:
    """(segment, contact) for the conditions these occurrences are at and their contacts
    meet: one query per distinct segment, whatever the number of occurrences."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for run in runs:
        step = batch.definitions[run.version_id].steps[run.step]
        if isinstance(step, Condition):
            wanted[step.segment].add(run.contact_id)
    return {
        (segment, contact_id)
        for segment, contact_ids in wanted.items()
        for contact_id in contacts_matching(
            session, segment=segment, contact_ids=contact_ids, now=batch.now
        )
    }


def _take_step(
    session: Session, run: FlowRun, batch: _Batch, matching: set[tuple[str, int]]
) -> None:
    """Run the occurrence's next step (it goes on: `_goes_on`)."""
    definition = batch.definitions[run.version_id]
    contact = batch.contacts[run.contact_id]
    index = run.step
    number = index + 1
    step = definition.steps[index]
    if isinstance(step, Wait):
        where = recipient_zone(
            contact.timezone, contact.timezones or (), batch.settings.workspace_timezone
        )
        end = wait_end(
            step,
            number=number,
            start=run.due_at,
            trigger=run.trigger,
            attributes=contact.attributes or {},
            where=where,
            now=batch.now,
        )
        if end.at is None:
            _end(
                run,
                batch,
                state=FlowRunState.EXITED,
                step=number,
                reason=end.reason,
                sentence=end.sentence,
            )
            return
        run.due_at = max(end.at, run.due_at)
        batch.log(
            run,
            StepOutcome.WAITING,
            step=number,
            sentence=f"until {end.at.astimezone(where):%Y-%m-%d %H:%M %Z}",
        )
    elif isinstance(step, Condition):
        if (step.segment, contact.id) not in matching:
            _end(
                run,
                batch,
                state=FlowRunState.EXITED,
                step=number,
                reason="condition_false",
                sentence=f"step {number} (condition): the contact is not in '{step.segment}'",
            )
            return
    else:
        try:
            with session.begin_nested():
                _send(session, run, step, number, contact, definition, batch)
        except TextoptError as exc:
            _end(
                run,
                batch,
                state=FlowRunState.EXITED,
                step=number,
                reason=exc.code,
                sentence=f"step {number} (send): {exc.message}",
            )
            return
        if run.state != FlowRunState.ACTIVE:
            return
    run.step = index + 1


def _moving(runs: Sequence[FlowRun], now: dt.datetime) -> list[FlowRun]:
    return [run for run in runs if run.state == FlowRunState.ACTIVE and run.due_at <= now]


def advance_runs(
    session: Session, *, settings: Settings, ids: Sequence[int], owner: str, now: dt.datetime
) -> RunTally:
    """Move the occurrences `owner` claimed (`claim_runs`) through their due steps, in the
    caller's transaction; occurrences whose lease another runner took since are left."""
    if not ids:
        return RunTally()
    query = (
        select(FlowRun)
        .where(
            FlowRun.id.in_(list(ids)),
            FlowRun.lease_owner == owner,
            FlowRun.state == FlowRunState.ACTIVE,
        )
        .order_by(FlowRun.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    runs = list(session.scalars(query))
    if not runs:
        return RunTally()
    batch = _read_batch(session, runs, settings=settings, now=now)
    # in rounds of one step each, so that the round's conditions are read together
    moving = _moving(runs, now)
    while moving:
        moving = [run for run in moving if _goes_on(run, batch)]
        matching = _matching(session, moving, batch)
        for run in moving:
            _take_step(session, run, batch, matching)
        moving = _moving(moving, now)
    for run in runs:
        if run.state == FlowRunState.ACTIVE:
            if run.step >= len(batch.definitions[run.version_id].steps):
                _end(
                    run,
                    batch,
                    state=FlowRunState.COMPLETED,
                    step=run.step,
                    reason=None,
                    sentence=None,
                )
            else:
                batch.tally.waiting += 1
        run.lease_owner = None
        run.lease_until = None
        run.updated_at = now
    if batch.logs:
        session.execute(insert(FlowStepLog), batch.logs)
    session.flush()
    return batch.tally


@dataclass(slots=True)
class ExitWatch:
    """Where a runner stands in the exit events it has looked at: the last event id (None:
    none yet, look back `EXIT_LOOKBACK`)."""

    after: int | None = None


def end_on_exit_events(
    session: Session, *, settings: Settings, after: int | None, now: dt.datetime
) -> tuple[RunTally, int | None]:
    """End at once the waiting occurrences that an exit event received after the event id
    `after` ends (None: received in the last `EXIT_LOOKBACK`); returns what was done and
    the last event id read (the next call's `after`, once this transaction is committed).

    Without this an occurrence ended by an exit event (a cancelled appointment) would wait,
    counted as waiting, until its next step came due, and end then. The events of the exit
    types of the active flows are read after the last one seen; the open occurrences of
    their contacts that no runner holds are ended with the same test and the same log as
    when their step comes due (`_exit_event`: after what started them, same occurrence
    key). One that does not match is left as it was.
    """
    versions = session.scalars(
        select(FlowVersion).where(
            FlowVersion.flow_id.in_(select(Flow.id).where(Flow.state == FlowState.ACTIVE))
        )
    )
    exiting = {v.id: d for v in versions if (d := definition_of(v)).exit_on}
    types = {kind for d in exiting.values() for kind in d.exit_on}
    if not types:
        return RunTally(), after
    seen = (
        ContactEvent.id > after
        if after is not None
        else ContactEvent.received_at >= now - EXIT_LOOKBACK
    )
    events = session.execute(
        select(ContactEvent.id, ContactEvent.contact_id)
        .where(ContactEvent.type.in_(types), seen)
        .order_by(ContactEvent.id)
        .limit(EXIT_BATCH)
    ).all()
    if not events:
        return RunTally(), after
    last = int(events[-1].id)
    query = (
        select(FlowRun)
        .where(
            FlowRun.state == FlowRunState.ACTIVE,
            FlowRun.contact_id.in_({row.contact_id for row in events}),
            FlowRun.version_id.in_(list(exiting)),
            or_(FlowRun.lease_until.is_(None), FlowRun.lease_until < now),
        )
        .order_by(FlowRun.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    runs = list(session.scalars(query))
    if not runs:
        return RunTally(), last
    batch = _read_batch(session, runs, settings=settings, now=now)
    for run in runs:
        exit_type = _exit_event(run, batch.definitions[run.version_id], batch)
        if exit_type is None:
            continue
        sentence = f"the event {exit_type} ended the occurrence"
        _end(
            run,
            batch,
            state=FlowRunState.EXITED,
            step=run.step + 1,
            reason="exit_event",
            sentence=sentence,
        )
        run.updated_at = now
    if batch.logs:
        session.execute(insert(FlowStepLog), batch.logs)
    session.flush()
    batch.tally.claimed = 0  # nothing was claimed: the occurrences were only ended
    return batch.tally, last


def run_due(
    engine: Engine,
    *,
    settings: Settings,
    owner: str,
    now: dt.datetime,
    limit: int = RUN_BATCH,
    max_batches: int = 50,
) -> RunTally:
    """Claim and advance due occurrences batch after batch until none is due (or
    `max_batches`), each claim and each batch in its own transaction."""
    total = RunTally()
    for _ in range(max_batches):
        with session_scope(engine) as session:
            ids = claim_runs(session, owner=owner, now=now, limit=limit)
        if not ids:
            break
        with session_scope(engine) as session:
            total.add(advance_runs(session, settings=settings, ids=ids, owner=owner, now=now))
        if len(ids) < limit:
            break
    return total
