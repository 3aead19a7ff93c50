"""The audited commands every face calls (CLI, API, dashboard): one function per action.

Each takes the actor, checks the input whole, changes the flow and writes the audit entry in
the caller's transaction (the caller commits). A definition is given as data (the JSON of the
API, a TOML file read, the dashboard's step editor) or as a checked `FlowDefinition`.

- `create_flow`: a new flow in draft (version 1);
- `add_flow_version`: a new version of a flow (running occurrences keep theirs);
- `apply_flow`: create the flow named in the definition, or add a version to it;
- `activate_flow`, `pause_flow`, `archive_flow`: change its state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.flows import service
from textopt.flows.definition import FlowDefinition, parse_definition
from textopt.flows.models import Flow, FlowState, FlowVersion

__all__ = [
    "AppliedFlow",
    "activate_flow",
    "add_flow_version",
    "apply_flow",
    "archive_flow",
    "create_flow",
    "pause_flow",
]


def _definition(raw: FlowDefinition | Mapping[str, Any]) -> FlowDefinition:
    return raw if isinstance(raw, FlowDefinition) else parse_definition(raw)


def _may(actor: Actor, scope: Scope) -> None:
    # The faces check the permission before reading the request; this guards other callers.
    if not actor.operator:
        actor.require(scope)


def _audit(session: Session, *, actor: Actor, action: str, flow: Flow, **detail: Any) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        target_type="flow",
        target_id=flow.id,
        detail={"name": flow.name, **detail},
    )


def create_flow(
    session: Session,
    *,
    actor: Actor,
    definition: FlowDefinition | Mapping[str, Any],
    now: dt.datetime,
) -> Flow:
    """A new flow in draft, with its definition as version 1 (audited)."""
    _may(actor, Scope.WRITE)
    checked = _definition(definition)
    flow = service.create_flow(session, definition=checked, created_by=actor.label, now=now)
    _audit(session, actor=actor, action="flow.created", flow=flow, version=1)
    return flow


def add_flow_version(
    session: Session,
    *,
    actor: Actor,
    name_or_id: str | int,
    definition: FlowDefinition | Mapping[str, Any],
    now: dt.datetime,
) -> tuple[Flow, FlowVersion | None]:
    """A new version of a flow (audited); None when the definition equals the latest."""
    _may(actor, Scope.WRITE)
    checked = _definition(definition)
    flow = service.get_flow_or_raise(session, name_or_id=name_or_id)
    version = service.add_version(
        session, flow=flow, definition=checked, created_by=actor.label, now=now
    )
    if version is not None:
        _audit(session, actor=actor, action="flow.versioned", flow=flow, version=version.number)
    return flow, version


@dataclass(frozen=True, slots=True)
class AppliedFlow:
    """What `apply_flow` did: the flow, and whether it was created or given a version."""

    flow: Flow
    created: bool
    version: int | None  # the new version's number; None when nothing changed


def apply_flow(
    session: Session,
    *,
    actor: Actor,
    definition: FlowDefinition | Mapping[str, Any],
    now: dt.datetime,
) -> AppliedFlow:
    """Create the flow the definition names, or add a version to the flow of that name."""
    checked = _definition(definition)
    existing = service.find_flow(session, name_or_id=checked.name)
    if existing is None:
        flow = create_flow(session, actor=actor, definition=checked, now=now)
        return AppliedFlow(flow=flow, created=True, version=1)
    flow, version = add_flow_version(
        session, actor=actor, name_or_id=existing.id, definition=checked, now=now
    )
    return AppliedFlow(flow=flow, created=False, version=version.number if version else None)


def _change(
    session: Session,
    *,
    actor: Actor,
    name_or_id: str | int,
    state: FlowState,
    now: dt.datetime,
) -> Flow:
    _may(actor, Scope.LAUNCH)
    flow = service.get_flow_or_raise(session, name_or_id=name_or_id)
    if service.change_state(session, flow=flow, state=state, now=now):
        _audit(session, actor=actor, action=f"flow.{state}", flow=flow)
    return flow


def activate_flow(
    session: Session, *, actor: Actor, name_or_id: str | int, now: dt.datetime
) -> Flow:
    """Start a flow (from draft or paused): its trigger reads from now on (audited)."""
    return _change(session, actor=actor, name_or_id=name_or_id, state=FlowState.ACTIVE, now=now)


def pause_flow(session: Session, *, actor: Actor, name_or_id: str | int, now: dt.datetime) -> Flow:
    """Pause a flow: nothing starts, nothing moves until it is activated again (audited)."""
    return _change(session, actor=actor, name_or_id=name_or_id, state=FlowState.PAUSED, now=now)


def archive_flow(
    session: Session, *, actor: Actor, name_or_id: str | int, now: dt.datetime
) -> Flow:
    """End a flow for good; its open occurrences exit (audited)."""
    return _change(session, actor=actor, name_or_id=name_or_id, state=FlowState.ARCHIVED, now=now)
