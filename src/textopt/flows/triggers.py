"""Triggers: start occurrences by reading their sources with a stored cursor.

No other domain calls into flows: each active flow's trigger reads what happened since its
cursor, in batches, and creates occurrences with one `INSERT … ON CONFLICT DO NOTHING`
(unique per flow, contact and occurrence key), so a scan repeated after a crash, or by two
dispatchers at once, starts each occurrence once. The cursor moves in the same commit.

- `event`: `contact_events` by id. On PostgreSQL a row may commit after a higher id was
  read, so the cursor stops before a gap in the ids until the row after it is `GAP_GRACE`
  old (rows past the gap are read again: harmless). An event recorded more than
  `STALE_EVENT` after it happened (a CSV of past orders) starts nothing.
- `optin_confirmed`: the consent ledger by position (positions are given under the
  ledger's lock: no gap). A marketing consent granted or confirmed on the channel, except
  by an import: one welcome per contact and flow.
- `date_attribute`: every `DATE_SCAN_EVERY`, the contacts with the attribute, by pages. A
  date in the future starts one occurrence per value (a new appointment, a new reminder);
  with `yearly`, one per year when the anniversary at the local hour is within
  `YEARLY_AHEAD` (due at that instant).
- `segment_entered`: every `SEGMENT_SCAN_EVERY`, the segment's members against those of the
  last scan; each newcomer starts an occurrence (leaving and entering again starts another).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import audience_select
from textopt.consent.models import ConsentAction, ConsentEvent, ConsentSource
from textopt.contacts.models import Contact
from textopt.db.engine import upsert_insert
from textopt.events.models import ContactEvent
from textopt.flows.definition import FlowDefinition, Trigger, TriggerKind
from textopt.flows.models import (
    Flow,
    FlowCursor,
    FlowRun,
    FlowRunState,
    FlowSegmentMember,
    FlowState,
    FlowStepLog,
    StepOutcome,
    log_row,
)
from textopt.flows.service import definition_of, latest_version
from textopt.flows.timing import next_yearly, parse_date_value, recipient_zone
from textopt.logs import log_event
from textopt.vocab import Purpose

__all__ = [
    "DATE_SCAN_EVERY",
    "GAP_GRACE",
    "SCAN_BATCH",
    "SCAN_PAGES",
    "SEGMENT_SCAN_EVERY",
    "STALE_EVENT",
    "YEARLY_AHEAD",
    "NewRun",
    "scan_triggers",
    "start_runs",
]

log = logging.getLogger(__name__)

#: Rows of a source read per query, and queries per pass of one flow at most.
SCAN_BATCH = 1000
SCAN_PAGES = 20
#: How long a gap in event ids is waited for (a transaction still open) before it is passed.
GAP_GRACE = dt.timedelta(minutes=5)
#: An event recorded this long after it happened starts no occurrence.
STALE_EVENT = dt.timedelta(hours=24)
#: Date attributes are read again this often.
DATE_SCAN_EVERY = dt.timedelta(minutes=5)
#: Segments are evaluated again this often.
SEGMENT_SCAN_EVERY = dt.timedelta(minutes=5)
#: A yearly date's occurrence starts this long before its instant (due at the instant).
YEARLY_AHEAD = dt.timedelta(days=1)
_MAX_KEY = 200
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class NewRun:
    """An occurrence to start: its contact, key, trigger data and first due time."""

    contact_id: int
    key: str
    trigger: dict[str, Any]
    due_at: dt.datetime


def start_runs(
    session: Session, *, flow: Flow, version_id: int, runs: Sequence[NewRun], now: dt.datetime
) -> int:
    """Insert the occurrences that do not exist yet (one statement per batch) and log their
    entry; returns how many started."""
    started = 0
    for batch in _chunks(list(runs), 500):
        statement = (
            upsert_insert(session, FlowRun.__table__)
            .values(
                [
                    {
                        "flow_id": flow.id,
                        "version_id": version_id,
                        "contact_id": run.contact_id,
                        "occurrence_key": run.key[:_MAX_KEY],
                        "state": FlowRunState.ACTIVE,
                        "step": 0,
                        "due_at": run.due_at,
                        "lease_owner": None,
                        "lease_until": None,
                        "trigger": run.trigger,
                        "started_at": now,
                        "updated_at": now,
                        "ended_at": None,
                        "exit_reason": None,
                    }
                    for run in batch
                ]
            )
            .on_conflict_do_nothing(index_elements=["flow_id", "contact_id", "occurrence_key"])
            .returning(FlowRun.__table__.c.id)
        )
        ids = list(session.scalars(statement))
        if ids:
            session.execute(
                insert(FlowStepLog),
                [
                    log_row(
                        run_id=run_id,
                        flow_id=flow.id,
                        version_id=version_id,
                        step=0,
                        outcome=StepOutcome.ENTERED,
                        at=now,
                    )
                    for run_id in ids
                ],
            )
        started += len(ids)
    return started


def _cursor(session: Session, flow: Flow) -> FlowCursor:
    cursor = session.get(FlowCursor, flow.id)
    if cursor is None:
        cursor = FlowCursor(flow_id=flow.id, position=0, scanned_at=None)
        session.add(cursor)
    return cursor


def _advance_past_gaps(position: int, rows: Sequence[Any], *, now: dt.datetime) -> int:
    """The new cursor: past every row whose lower ids are all present, or that is old enough
    that a missing lower id can no longer be an open transaction's."""
    expected = position + 1
    for row in rows:
        if row.id != expected and row.received_at > now - GAP_GRACE:
            break
        position = row.id
        expected = row.id + 1
    return position


def _scan_events(
    session: Session, *, trigger: Trigger, cursor: FlowCursor, now: dt.datetime
) -> list[NewRun]:
    runs: list[NewRun] = []
    for _ in range(SCAN_PAGES):
        rows = session.execute(
            select(
                ContactEvent.id,
                ContactEvent.contact_id,
                ContactEvent.type,
                ContactEvent.properties,
                ContactEvent.occurred_at,
                ContactEvent.received_at,
            )
            .where(ContactEvent.id > cursor.position)
            .order_by(ContactEvent.id)
            .limit(SCAN_BATCH)
        ).all()
        runs.extend(_event_runs(rows, trigger=trigger, now=now))
        cursor.position = _advance_past_gaps(cursor.position, rows, now=now)
        if len(rows) < SCAN_BATCH or cursor.position != rows[-1].id:
            break  # read to the end, or stopped at a gap: the next pass reads on
    return runs


def _event_runs(rows: Sequence[Any], *, trigger: Trigger, now: dt.datetime) -> list[NewRun]:
    runs: list[NewRun] = []
    for row in rows:
        if row.type != trigger.event or row.received_at - row.occurred_at > STALE_EVENT:
            continue
        properties = dict(row.properties or {})
        if trigger.key is not None:
            value = properties.get(trigger.key)
            if value is None or isinstance(value, dict | list) or str(value) == "":
                continue  # no occurrence key: not an occurrence of this flow
            key = f"{trigger.key}={value}"
        else:
            key = f"event={row.id}"
        data = {
            "event_id": row.id,
            "event_type": row.type,
            "properties": properties,
            "occurred_at": row.occurred_at.isoformat(),
        }
        runs.append(NewRun(contact_id=row.contact_id, key=key, trigger=data, due_at=now))
    return runs


_CONSENTS = (ConsentAction.GRANTED, ConsentAction.CONFIRMED)


def _scan_optins(
    session: Session, *, trigger: Trigger, cursor: FlowCursor, now: dt.datetime
) -> list[NewRun]:
    runs: list[NewRun] = []
    for _ in range(SCAN_PAGES):
        rows = session.execute(
            select(
                ConsentEvent.id,
                ConsentEvent.contact_id,
                ConsentEvent.channel,
                ConsentEvent.purpose,
                ConsentEvent.action,
                ConsentEvent.source,
                ConsentEvent.occurred_at,
            )
            .where(ConsentEvent.id > cursor.position)
            .order_by(ConsentEvent.id)
            .limit(SCAN_BATCH)
        ).all()
        runs.extend(
            NewRun(
                contact_id=row.contact_id,
                key="welcome",
                trigger={
                    "consent_event_id": row.id,
                    "channel": row.channel,
                    "action": row.action,
                    "occurred_at": row.occurred_at.isoformat(),
                },
                due_at=now,
            )
            for row in rows
            if row.channel == trigger.channel
            and row.purpose == Purpose.MARKETING
            and row.action in _CONSENTS
            and row.source != ConsentSource.IMPORT
        )
        if rows:  # ledger positions are given under its lock, in order: no gap to wait for
            cursor.position = rows[-1].id
        if len(rows) < SCAN_BATCH:
            break
    return runs


def _scan_dates(
    session: Session, *, trigger: Trigger, default_zone: str, now: dt.datetime
) -> list[NewRun]:
    assert trigger.attribute is not None
    value = Contact.attributes[trigger.attribute].as_string()
    runs: list[NewRun] = []
    last_id = 0
    while True:
        rows = session.execute(
            select(Contact.id, value.label("value"), Contact.timezone, Contact.timezones)
            .where(
                Contact.id > last_id,
                Contact.erased_at.is_(None),
                value.is_not(None),
                value != "",
            )
            .order_by(Contact.id)
            .limit(SCAN_BATCH)
        ).all()
        if not rows:
            return runs
        last_id = rows[-1].id
        for row in rows:
            where = recipient_zone(row.timezone, row.timezones or (), default_zone)
            if trigger.yearly:
                found = next_yearly(
                    row.value, hour=trigger.at or (10, 0), where=where, after=now - YEARLY_AHEAD
                )
                if found is None or found[1] > now + YEARLY_AHEAD:
                    continue
                year, instant = found
                data = {"attribute": trigger.attribute, "date": instant.isoformat()}
                runs.append(NewRun(row.id, f"year={year}", data, max(instant, now)))
                continue
            date = parse_date_value(row.value, where)
            if date is None or date <= now:
                continue
            data = {"attribute": trigger.attribute, "date": date.isoformat()}
            runs.append(NewRun(row.id, f"{trigger.attribute}={date.isoformat()}", data, now))


def _scan_segment(
    session: Session, *, flow: Flow, trigger: Trigger, first: bool, now: dt.datetime
) -> list[NewRun]:
    assert trigger.segment is not None
    members = audience_select(trigger.segment, now=now).subquery()
    known = select(FlowSegmentMember.contact_id).where(FlowSegmentMember.flow_id == flow.id)
    newcomers = list(
        session.scalars(
            select(members.c.id).where(members.c.id.not_in(known)).order_by(members.c.id)
        )
    )
    session.execute(
        delete(FlowSegmentMember).where(
            FlowSegmentMember.flow_id == flow.id,
            FlowSegmentMember.contact_id.not_in(select(members.c.id)),
        )
    )
    for batch in _chunks(newcomers, 1000):
        session.execute(
            insert(FlowSegmentMember), [{"flow_id": flow.id, "contact_id": c} for c in batch]
        )
    if first:  # the members at activation were there before: they did not enter
        return []
    stamp = now.isoformat()
    return [
        NewRun(contact_id=c, key=f"entered={stamp}", trigger={"entered_at": stamp}, due_at=now)
        for c in newcomers
    ]


def _scan_flow(
    session: Session, *, flow: Flow, definition: FlowDefinition, default_zone: str, now: dt.datetime
) -> list[NewRun]:
    trigger = definition.trigger
    cursor = _cursor(session, flow)
    if trigger.kind == TriggerKind.EVENT:
        return _scan_events(session, trigger=trigger, cursor=cursor, now=now)
    if trigger.kind == TriggerKind.OPTIN_CONFIRMED:
        return _scan_optins(session, trigger=trigger, cursor=cursor, now=now)
    every = DATE_SCAN_EVERY if trigger.kind == TriggerKind.DATE_ATTRIBUTE else SEGMENT_SCAN_EVERY
    if cursor.scanned_at is not None and now - cursor.scanned_at < every:
        return []
    first = cursor.scanned_at is None
    cursor.scanned_at = now
    if trigger.kind == TriggerKind.DATE_ATTRIBUTE:
        return _scan_dates(session, trigger=trigger, default_zone=default_zone, now=now)
    return _scan_segment(session, flow=flow, trigger=trigger, first=first, now=now)


def scan_triggers(session: Session, *, default_zone: str, now: dt.datetime) -> int:
    """Read every active flow's trigger source since its cursor and start the occurrences
    it finds, each with the flow's latest version; returns how many started.

    On PostgreSQL each flow's cursor row is locked (`SKIP LOCKED`) while it is read, so two
    dispatchers scan different flows; the unique occurrence key would hold anyway.
    """
    started = 0
    for flow in session.scalars(
        select(Flow).where(Flow.state == FlowState.ACTIVE).order_by(Flow.id)
    ):
        if session.get_bind().dialect.name == "postgresql":
            locked = session.scalars(
                select(FlowCursor.flow_id)
                .where(FlowCursor.flow_id == flow.id)
                .with_for_update(skip_locked=True)
            ).first()
            if locked is None and session.get(FlowCursor, flow.id) is not None:
                continue  # another dispatcher is reading this flow's source
        version = latest_version(session, flow=flow)
        definition = definition_of(version)
        runs = _scan_flow(
            session, flow=flow, definition=definition, default_zone=default_zone, now=now
        )
        count = start_runs(session, flow=flow, version_id=version.id, runs=runs, now=now)
        session.flush()
        if count:
            log_event(log, logging.INFO, "flow occurrences started", flow=flow.id, count=count)
        started += count
    return started
