"""Flows and their versions: find, list, create, add a version, change state.

Functions flush but never commit: the caller owns the transaction. A version is written once
and never changed; occurrences keep the version they started with, new occurrences take the
flow's latest version. Activating a flow starts its trigger from that moment: events, opt-ins
and segment entries before it are not replayed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.audience import audience_select
from textopt.consent.models import ConsentEvent
from textopt.contacts.models import Contact
from textopt.db.ids import parse_id
from textopt.errors import ConflictError, InvalidTransition, NotFoundError
from textopt.events.models import ContactEvent
from textopt.flows.definition import FlowDefinition, TriggerKind, parse_definition
from textopt.flows.models import (
    FLOW_TRANSITIONS,
    Flow,
    FlowCursor,
    FlowRun,
    FlowRunState,
    FlowSegmentMember,
    FlowState,
    FlowStepLog,
    FlowVersion,
    StepOutcome,
    log_row,
)

__all__ = [
    "add_version",
    "change_state",
    "contacts_matching",
    "create_flow",
    "definition_of",
    "find_flow",
    "flow_fields",
    "forget_runs_of",
    "get_flow_or_raise",
    "get_version_or_raise",
    "latest_version",
    "list_flows",
    "list_runs",
    "run_fields",
    "run_logs",
    "version_fields",
]


def find_flow(session: Session, *, name_or_id: str | int) -> Flow | None:
    """A flow by its id or its exact name."""
    raw = str(name_or_id).strip()
    if raw.isdigit():
        number = parse_id(raw)
        return session.get(Flow, number) if number is not None else None
    return session.scalars(select(Flow).where(Flow.name == raw)).first()


def get_flow_or_raise(session: Session, *, name_or_id: str | int) -> Flow:
    """A flow by id or name, or NotFoundError."""
    flow = find_flow(session, name_or_id=name_or_id)
    if flow is None:
        raise NotFoundError(f"no flow {str(name_or_id).strip()[:120]!r}", field="flow")
    return flow


def list_flows(session: Session, *, states: tuple[FlowState, ...] = ()) -> list[Flow]:
    """Every flow by name, or those in `states`."""
    query = select(Flow).order_by(Flow.name)
    if states:
        query = query.where(Flow.state.in_([str(s) for s in states]))
    return list(session.scalars(query))


def get_version_or_raise(session: Session, *, flow: Flow, number: int | None = None) -> FlowVersion:
    """A version of `flow` (its latest when `number` is None), or NotFoundError."""
    wanted = flow.latest_version if number is None else number
    version = session.scalars(
        select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.number == wanted)
    ).first()
    if version is None:
        raise NotFoundError(f"flow {flow.name!r} has no version {wanted}", field="version")
    return version


def latest_version(session: Session, *, flow: Flow) -> FlowVersion:
    """The version new occurrences of `flow` take."""
    return get_version_or_raise(session, flow=flow)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> FlowDefinition:
    return parse_definition(json.loads(text))


def definition_of(version: FlowVersion) -> FlowDefinition:
    """A stored version's definition, parsed once per process (versions never change)."""
    return _parsed(json.dumps(version.definition, sort_keys=True))


def _refuse_taken_name(session: Session, *, name: str, own_id: int | None) -> None:
    other = session.scalars(select(Flow.id).where(Flow.name == name)).first()
    if other is not None and other != own_id:
        raise ConflictError(f"name: a flow named {name!r} exists already", field="name")


def create_flow(
    session: Session, *, definition: FlowDefinition, created_by: str, now: dt.datetime
) -> Flow:
    """A new flow in draft, its definition as version 1."""
    _refuse_taken_name(session, name=definition.name, own_id=None)
    flow = Flow(
        name=definition.name,
        state=FlowState.DRAFT,
        latest_version=1,
        created_at=now,
        updated_at=now,
        created_by=created_by[:320],
    )
    session.add(flow)
    session.flush()
    session.add(
        FlowVersion(
            flow_id=flow.id,
            number=1,
            definition=definition.to_data(),
            created_at=now,
            created_by=created_by[:320],
        )
    )
    session.flush()
    return flow


def add_version(
    session: Session,
    *,
    flow: Flow,
    definition: FlowDefinition,
    created_by: str,
    now: dt.datetime,
) -> FlowVersion | None:
    """A new version of `flow` (the name may change); None when it equals the latest, which
    then stays. Running occurrences keep their version; new ones take this one."""
    if flow.state == FlowState.ARCHIVED:
        raise InvalidTransition(f"flow {flow.name!r} is archived: it takes no new version")
    current = latest_version(session, flow=flow)
    data = definition.to_data()
    if data == current.definition:
        return None
    trigger_changed = data["trigger"] != current.definition.get("trigger")
    _refuse_taken_name(session, name=definition.name, own_id=flow.id)
    flow.name = definition.name
    flow.latest_version += 1
    flow.updated_at = now
    version = FlowVersion(
        flow_id=flow.id,
        number=flow.latest_version,
        definition=data,
        created_at=now,
        created_by=created_by[:320],
    )
    session.add(version)
    if trigger_changed and flow.state != FlowState.DRAFT:
        _start_trigger(session, flow=flow, definition=definition, now=now)
    session.flush()
    return version


def _start_trigger(
    session: Session, *, flow: Flow, definition: FlowDefinition, now: dt.datetime
) -> None:
    """Start the trigger's reading from now: the cursor at the latest row of its source."""
    kind = definition.trigger.kind
    position = 0
    if kind == TriggerKind.EVENT:
        position = int(session.scalar(select(func.max(ContactEvent.id))) or 0)
    elif kind == TriggerKind.OPTIN_CONFIRMED:
        position = int(session.scalar(select(func.max(ConsentEvent.id))) or 0)
    cursor = session.get(FlowCursor, flow.id)
    if cursor is None:
        session.add(FlowCursor(flow_id=flow.id, position=position, scanned_at=None))
    else:
        cursor.position, cursor.scanned_at = position, None
    if kind == TriggerKind.SEGMENT_ENTERED:  # members are read afresh: no entry replayed
        session.execute(delete(FlowSegmentMember).where(FlowSegmentMember.flow_id == flow.id))
    flow.activated_at = now


def change_state(session: Session, *, flow: Flow, state: FlowState, now: dt.datetime) -> bool:
    """Move `flow` to `state`; False when it is there already. Activating (from draft or
    paused) starts its trigger from now; archiving exits its open occurrences."""
    current = FlowState(flow.state)
    if current == state:
        return False
    if state not in FLOW_TRANSITIONS[current]:
        raise InvalidTransition(f"flow {flow.name!r} is {current}: it cannot become {state}")
    if state == FlowState.ACTIVE:
        definition = definition_of(latest_version(session, flow=flow))
        _start_trigger(session, flow=flow, definition=definition, now=now)
    if state == FlowState.ARCHIVED:
        _exit_open_runs(session, flow=flow, now=now)
    flow.state = state
    flow.updated_at = now
    session.flush()
    return True


def _exit_open_runs(session: Session, *, flow: Flow, now: dt.datetime) -> None:
    open_runs = session.execute(
        select(FlowRun.id, FlowRun.version_id, FlowRun.step).where(
            FlowRun.flow_id == flow.id, FlowRun.state == FlowRunState.ACTIVE
        )
    ).all()
    if not open_runs:
        return
    session.execute(
        insert(FlowStepLog),
        [
            log_row(
                run_id=run_id,
                flow_id=flow.id,
                version_id=version_id,
                step=step,
                outcome=StepOutcome.EXITED,
                at=now,
                reason="flow_archived",
                sentence="the flow was archived",
            )
            for run_id, version_id, step in open_runs
        ],
    )
    session.execute(
        update(FlowRun)
        .where(FlowRun.flow_id == flow.id, FlowRun.state == FlowRunState.ACTIVE)
        .values(
            state=FlowRunState.EXITED,
            exit_reason="flow_archived",
            ended_at=now,
            updated_at=now,
            lease_owner=None,
            lease_until=None,
        )
    )


def contacts_matching(
    session: Session, *, segment: str, contact_ids: Collection[int], now: dt.datetime
) -> set[int]:
    """Which of these contacts match a segment expression now (condition steps; one query)."""
    if not contact_ids:
        return set()
    query = audience_select(segment, now=now).where(Contact.id.in_(list(contact_ids)))
    return set(session.scalars(query))


def list_runs(
    session: Session, *, contact_id: int | None = None, flow_id: int | None = None, limit: int = 100
) -> list[FlowRun]:
    """Occurrences, the latest first, of a contact and/or a flow."""
    query = select(FlowRun).order_by(FlowRun.id.desc()).limit(min(limit, 1000))
    if contact_id is not None:
        query = query.where(FlowRun.contact_id == contact_id)
    if flow_id is not None:
        query = query.where(FlowRun.flow_id == flow_id)
    return list(session.scalars(query))


def forget_runs_of(session: Session, *, contact_ids: list[int], now: dt.datetime) -> None:
    """An erasure: the contacts' occurrences end and keep no trigger data nor key (an
    event's properties, an appointment's id); their counts stay in the stats."""
    if not contact_ids:
        return
    session.execute(
        update(FlowRun)
        .where(FlowRun.contact_id.in_(contact_ids), FlowRun.state == FlowRunState.ACTIVE)
        .values(state=FlowRunState.EXITED, exit_reason="contact_erased", ended_at=now)
    )
    session.execute(
        update(FlowRun)
        .where(FlowRun.contact_id.in_(contact_ids))
        .values(
            trigger={},
            occurrence_key=literal("erased:") + cast(FlowRun.id, String),
            updated_at=now,
        )
    )


def run_logs(session: Session, *, run_ids: list[int]) -> dict[int, list[FlowStepLog]]:
    """The step logs of these occurrences, in order, by occurrence (one query)."""
    logs: dict[int, list[FlowStepLog]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        for entry in session.scalars(
            select(FlowStepLog).where(FlowStepLog.run_id.in_(run_ids)).order_by(FlowStepLog.id)
        ):
            logs[entry.run_id].append(entry)
    return logs


def flow_fields(flow: Flow) -> dict[str, Any]:
    """A flow as JSON-ready data (without its definition)."""
    return {
        "id": flow.id,
        "name": flow.name,
        "state": flow.state,
        "latest_version": flow.latest_version,
        "created_at": flow.created_at.isoformat(),
        "updated_at": flow.updated_at.isoformat(),
        "activated_at": flow.activated_at.isoformat() if flow.activated_at else None,
        "created_by": flow.created_by,
    }


def version_fields(version: FlowVersion) -> dict[str, Any]:
    """A version as JSON-ready data, with its definition."""
    return {
        "number": version.number,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by,
        "definition": dict(version.definition),
    }


def run_fields(run: FlowRun, *, log: list[FlowStepLog] | None = None) -> dict[str, Any]:
    """An occurrence as JSON-ready data, with its step log when given."""
    data: dict[str, Any] = {
        "id": run.id,
        "flow_id": run.flow_id,
        "version_id": run.version_id,
        "contact_id": run.contact_id,
        "occurrence_key": run.occurrence_key,
        "state": run.state,
        "step": run.step,
        "due_at": run.due_at.isoformat() if run.state == FlowRunState.ACTIVE else None,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "exit_reason": run.exit_reason,
    }
    if log is not None:
        data["log"] = [
            {
                "step": entry.step,
                "outcome": entry.outcome,
                "reason": entry.reason,
                "reason_text": entry.reason_text,
                "message_id": entry.message_id,
                "at": entry.at.isoformat(),
            }
            for entry in log
        ]
    return data
