"""`/v1/flows`: flows (a trigger and ordered steps) — create, list, read, add a version,
activate, pause, archive, stats per step, a contact's occurrences, a preview for a contact.

Reading needs `read`; creating and versioning need `write` (as segments and drafts);
activating, pausing and archiving need `launch` (as campaigns). The definition is the JSON
form of the TOML the CLI applies (docs/flows.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.contacts import service as contacts
from textopt.db.base import utcnow
from textopt.flows import commands, service
from textopt.flows.definition import parse_definition
from textopt.flows.models import Flow, FlowRun
from textopt.flows.preview import preview_fields, preview_flow
from textopt.flows.stats import flow_stats, stats_fields
from textopt.http.deps import CurrentActor, DbSession, get_settings_dep, require
from textopt.http.params import RowId

router = APIRouter(prefix="/v1", tags=["flows"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]
Launcher = Annotated[Actor, Depends(require(Scope.LAUNCH))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class TriggerBody(BaseModel):
    """What starts an occurrence."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["event", "date_attribute", "optin_confirmed", "segment_entered"]
    event: str | None = Field(default=None, description="event: its type (keyword.<word> too)")
    key: str | None = Field(
        default=None, description="event: the property naming one occurrence (appointment_id)"
    )
    attribute: str | None = Field(default=None, description="date_attribute: the attribute")
    yearly: bool | None = Field(default=None, description="date_attribute: every year")
    at: str | None = Field(default=None, description="yearly: the local hour, 10:00")
    channel: Literal["sms", "email"] | None = Field(default=None, description="optin_confirmed")
    segment: str | None = Field(default=None, description="segment_entered: an expression")


class StepBody(BaseModel):
    """One step: wait, condition or send (the fields of its kind only)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["wait", "condition", "send"]
    duration: str | None = Field(default=None, description="wait: 2h, 3d, 1d12h")
    until: str | None = Field(default=None, description="wait: appointment_at - 24h")
    at: str | None = Field(default=None, description="wait: moved to this local hour, 10:00")
    segment: str | None = Field(default=None, description="condition: a segment expression")
    channel: Literal["sms", "email"] | None = None
    purpose: Literal["transactional", "marketing"] | None = None
    template: str | None = Field(default=None, description="send: the SMS text or email HTML")
    subject: str | None = Field(default=None, description="send, email: the subject")
    text: str | None = Field(default=None, description="send, email: the text part")
    sender: str | None = Field(default=None, description="send: sender ID or From address")
    validity: str | None = Field(default=None, description="send: expires after (24h)")
    asks: Literal["appointment"] | None = Field(
        default=None, description="send: the recipient is asked to confirm or cancel"
    )


class FlowBody(BaseModel):
    """A flow's definition: checked whole, errors name the step and the field."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    trigger: TriggerBody
    steps: list[StepBody] = Field(min_length=1, max_length=30)
    exit_on: list[str] = Field(default_factory=list, max_length=20)

    def data(self) -> dict[str, Any]:
        """As the definition reader takes it."""
        return self.model_dump(exclude_none=True)


class FlowRead(BaseModel):
    """A flow and its latest version's definition."""

    id: int
    name: str
    state: str = Field(description="draft, active, paused or archived")
    latest_version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    activated_at: dt.datetime | None
    created_by: str
    definition: dict[str, Any] | None = None


class VersionRead(BaseModel):
    """One version of a flow."""

    number: int
    created_at: dt.datetime
    created_by: str
    definition: dict[str, Any]


class StepCounts(BaseModel):
    """One step's counts."""

    step: int = Field(description="0: the trigger")
    kind: str
    entered: int
    waiting: int
    sent: int
    skipped: dict[str, int] = Field(description="By reason")
    exited: dict[str, int] = Field(description="By reason")
    completed: int


class VersionStatsRead(BaseModel):
    """One version's steps and counts."""

    version: int
    occurrences: int
    active: int
    steps: list[StepCounts]


class LogEntry(BaseModel):
    """What happened at one step of an occurrence."""

    step: int
    outcome: str
    reason: str | None
    reason_text: str | None
    message_id: int | None
    at: dt.datetime


class RunRead(BaseModel):
    """One occurrence of a flow for a contact, with its step log."""

    id: int
    flow_id: int
    version_id: int
    contact_id: int
    occurrence_key: str
    state: str = Field(description="active, completed or exited")
    step: int = Field(description="The next step's number - 1 (steps done)")
    due_at: dt.datetime | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    exit_reason: str | None
    log: list[LogEntry]


class PreviewBody(BaseModel):
    """Whom to preview the flow for, and (optionally) a definition not yet saved."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int = Field(ge=1)
    definition: FlowBody | None = Field(
        default=None, description="Preview this definition instead of the latest version"
    )


class PreviewStepRead(BaseModel):
    """One step as it would go."""

    step: int
    kind: str
    at: dt.datetime | None
    local: str | None = Field(description="The same instant in the contact's zone")
    outcome: str
    reason: str | None
    sentence: str | None
    text: str | None
    subject: str | None
    send_at: dt.datetime | None = Field(description="When the policy would let it go")


def _read(flow: Flow, definition: dict[str, Any] | None = None) -> FlowRead:
    return FlowRead(**service.flow_fields(flow), definition=definition)


@router.get("/flows", response_model=list[FlowRead])
def list_flows(actor: CurrentActor, session: DbSession) -> list[FlowRead]:
    """Every flow, by name (without definitions)."""
    return [_read(flow) for flow in service.list_flows(session)]


@router.post("/flows", response_model=FlowRead, status_code=201)
def create_flow(body: FlowBody, actor: Writer, session: DbSession) -> FlowRead:
    """Create a flow in draft (409 if the name exists; 422 names the step and field at fault)."""
    flow = commands.create_flow(session, actor=actor, definition=body.data(), now=utcnow())
    version = service.latest_version(session, flow=flow)
    return _read(flow, dict(version.definition))


@router.get("/flows/{flow}", response_model=FlowRead)
def get_flow(flow: str, actor: CurrentActor, session: DbSession) -> FlowRead:
    """A flow by id or name, with its latest version's definition."""
    found = service.get_flow_or_raise(session, name_or_id=flow)
    return _read(found, dict(service.latest_version(session, flow=found).definition))


@router.post("/flows/{flow}/versions", response_model=VersionRead, status_code=201)
def add_version(flow: str, body: FlowBody, actor: Writer, session: DbSession) -> VersionRead:
    """A new version: running occurrences keep theirs, new ones take it (an identical
    definition returns the latest version unchanged)."""
    found, version = commands.add_flow_version(
        session, actor=actor, name_or_id=flow, definition=body.data(), now=utcnow()
    )
    current = version or service.latest_version(session, flow=found)
    return VersionRead(**service.version_fields(current))


@router.get("/flows/{flow}/versions/{number}", response_model=VersionRead)
def get_version(flow: str, number: RowId, actor: CurrentActor, session: DbSession) -> VersionRead:
    """One version of a flow."""
    found = service.get_flow_or_raise(session, name_or_id=flow)
    version = service.get_version_or_raise(session, flow=found, number=number)
    return VersionRead(**service.version_fields(version))


@router.post("/flows/{flow}/activate", response_model=FlowRead)
def activate_flow(flow: str, actor: Launcher, session: DbSession) -> FlowRead:
    """Start (or resume) a flow: its trigger reads from now on."""
    return _read(commands.activate_flow(session, actor=actor, name_or_id=flow, now=utcnow()))


@router.post("/flows/{flow}/pause", response_model=FlowRead)
def pause_flow(flow: str, actor: Launcher, session: DbSession) -> FlowRead:
    """Pause a flow: nothing starts, nothing moves."""
    return _read(commands.pause_flow(session, actor=actor, name_or_id=flow, now=utcnow()))


@router.post("/flows/{flow}/archive", response_model=FlowRead)
def archive_flow(flow: str, actor: Launcher, session: DbSession) -> FlowRead:
    """End a flow for good; its open occurrences exit."""
    return _read(commands.archive_flow(session, actor=actor, name_or_id=flow, now=utcnow()))


@router.get("/flows/{flow}/stats", response_model=list[VersionStatsRead])
def flow_stats_route(flow: str, actor: CurrentActor, session: DbSession) -> list[VersionStatsRead]:
    """Per version, per step: entered, waiting, sent, skipped and exited by reason."""
    found = service.get_flow_or_raise(session, name_or_id=flow)
    return [VersionStatsRead(**item) for item in stats_fields(flow_stats(session, flow=found))]


@router.post("/flows/{flow}/preview", response_model=list[PreviewStepRead])
def preview(
    flow: str, body: PreviewBody, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> list[PreviewStepRead]:
    """What the flow would do for a contact: times in their zone, texts, the policy's
    decision. Nothing is written."""
    found = service.get_flow_or_raise(session, name_or_id=flow)
    definition = (
        parse_definition(body.definition.data())
        if body.definition is not None
        else service.definition_of(service.latest_version(session, flow=found))
    )
    contact = contacts.get_contact_or_raise(session, contact_id=body.contact_id)
    steps = preview_flow(
        session, settings=settings, definition=definition, contact=contact, now=utcnow()
    )
    return [PreviewStepRead(**item) for item in preview_fields(steps)]


@router.get("/flows/{flow}/occurrences", response_model=list[RunRead])
def flow_runs(
    flow: str,
    actor: CurrentActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RunRead]:
    """A flow's latest occurrences, the latest first, each with its step log."""
    found = service.get_flow_or_raise(session, name_or_id=flow)
    return _runs(session, service.list_runs(session, flow_id=found.id, limit=limit))


def _runs(session: Session, runs: list[FlowRun]) -> list[RunRead]:
    logs = service.run_logs(session, run_ids=[run.id for run in runs])
    return [RunRead(**service.run_fields(run, log=logs.get(run.id, []))) for run in runs]


@router.get("/contacts/{contact_id}/flows", response_model=list[RunRead])
def contact_runs(contact_id: RowId, actor: CurrentActor, session: DbSession) -> list[RunRead]:
    """A contact's occurrences of flows, the latest first, each with its step log."""
    contacts.get_contact_or_raise(session, contact_id=contact_id)
    return _runs(session, service.list_runs(session, contact_id=contact_id))
