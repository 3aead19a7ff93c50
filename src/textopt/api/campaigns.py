"""`/v1/campaigns`: create, edit, duplicate, delete, list, show, preview, launch, pause,
resume, cancel, report, why."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.api.pagination import Page, page_of
from textopt.api.schemas import CampaignReport, LaunchReport, PlanReportRead, RecipientExplanation
from textopt.campaigns import commands, service
from textopt.campaigns.models import Campaign
from textopt.campaigns.report import campaign_report, explain_recipient
from textopt.config import Settings
from textopt.contacts.service import get_contact_by_phone_or_raise, get_contact_or_raise
from textopt.db.base import utcnow
from textopt.db.ids import MAX_ID
from textopt.errors import ValidationError
from textopt.http.deps import CurrentActor, DbSession, get_settings_dep, require
from textopt.http.params import After, Limit, RowId
from textopt.instants import utc_instant
from textopt.vocab import Channel, Purpose

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]
Launcher = Annotated[Actor, Depends(require(Scope.LAUNCH))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class CampaignCreate(BaseModel):
    """A draft campaign: nothing is sent until it is launched."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    text: str = Field(max_length=20_000, description="The message template ({{ first_name }})")
    purpose: Purpose = Purpose.MARKETING
    channel: Channel = Channel.SMS
    segment: str | None = Field(default=None, max_length=100, description="A saved segment")
    audience: str | None = Field(default=None, max_length=10_000, description="Or a filter")
    brand_name: str | None = Field(default=None, max_length=100)
    sender_id: str | None = Field(default=None, max_length=32)
    send_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    validity_hours: int = Field(default=24, ge=1, le=24 * 365)
    throughput: float | None = Field(default=None, gt=0, le=1_000_000)
    provider: str | None = Field(default=None, max_length=64)
    smart_encoding: bool = True
    fold_accents: bool = False


class CampaignUpdate(BaseModel):
    """The fields of a draft to change; those left out keep their value. `segment` and
    `audience` replace each other."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=20_000)
    purpose: Purpose | None = None
    segment: str | None = Field(default=None, max_length=100)
    audience: str | None = Field(default=None, max_length=10_000)
    brand_name: str | None = Field(default=None, max_length=100)
    sender_id: str | None = Field(default=None, max_length=32)
    send_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    validity_hours: int | None = Field(default=None, ge=1, le=24 * 365)
    throughput: float | None = Field(default=None, gt=0, le=1_000_000)
    provider: str | None = Field(default=None, max_length=64)
    smart_encoding: bool | None = None
    fold_accents: bool | None = None


class CampaignCopy(BaseModel):
    """The new draft's name (default: the original's, marked as a copy)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)


class CampaignRead(BaseModel):
    """A campaign's settings and state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: str
    purpose: str
    channel: str
    brand_name: str
    sender_id: str | None
    template: str
    audience_filter: str
    segment_id: int | None
    send_at: dt.datetime | None
    expires_at: dt.datetime | None
    validity_hours: int
    throughput: float | None
    provider: str
    smart_encoding: bool
    created_at: dt.datetime
    launched_at: dt.datetime | None
    completed_at: dt.datetime | None


class Cancelled(CampaignRead):
    """A cancelled campaign and how many unsent messages were cancelled."""

    messages_cancelled: int


def _read(campaign: Campaign) -> CampaignRead:
    return CampaignRead.model_validate(campaign)


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    return None if value is None else utc_instant(value, field=field)


@router.get("", response_model=Page[CampaignRead])
def list_campaigns(
    actor: CurrentActor, session: DbSession, after: After = None, limit: Limit = 50
) -> Page[CampaignRead]:
    """Campaigns by ascending id."""
    return page_of(
        session, select(Campaign), id_column=Campaign.id, after=after, limit=limit, convert=_read
    )


@router.post("", response_model=CampaignRead, status_code=201)
def create_campaign(
    body: CampaignCreate, actor: Writer, session: DbSession, settings: AppSettings
) -> CampaignRead:
    """Create a draft; every mistake (template, filter, sender, brand) is reported now."""
    values = body.model_dump()
    text = values.pop("text")
    campaign = commands.create(
        session,
        actor=actor,
        settings=settings,
        now=utcnow(),
        template=text,
        **{
            **values,
            "send_at": _aware(body.send_at, "send_at"),
            "expires_at": _aware(body.expires_at, "expires_at"),
        },
    )
    return _read(campaign)


@router.get("/{campaign_id}", response_model=CampaignRead)
def get_campaign(campaign_id: RowId, actor: CurrentActor, session: DbSession) -> CampaignRead:
    """One campaign."""
    return _read(service.get_campaign_or_raise(session, campaign_id=campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignRead)
def edit_campaign(
    campaign_id: RowId,
    body: CampaignUpdate,
    actor: Writer,
    session: DbSession,
    settings: AppSettings,
) -> CampaignRead:
    """Change a draft (409 once launched); validated as at creation, template included.

    A field sent as `null` keeps its value, except `send_at`, `expires_at`, `sender_id` and
    `throughput`, which `null` clears.
    """
    given = body.model_dump(exclude_unset=True)
    clearable = {"send_at", "expires_at", "sender_id", "throughput"}
    changes = {k: v for k, v in given.items() if v is not None or k in clearable}
    if "text" in changes:
        changes["template"] = changes.pop("text")
    for key in ("send_at", "expires_at"):
        if key in changes:
            changes[key] = _aware(changes[key], key)
    campaign = commands.edit(
        session,
        campaign_id=campaign_id,
        actor=actor,
        settings=settings,
        now=utcnow(),
        changes=changes,
    )
    return _read(campaign)


@router.delete("/{campaign_id}", status_code=204, response_class=Response)
def delete_campaign(campaign_id: RowId, actor: Writer, session: DbSession) -> Response:
    """Delete a draft for good (409 once launched: cancel it instead)."""
    commands.delete(session, campaign_id=campaign_id, actor=actor)
    return Response(status_code=204)


@router.post("/{campaign_id}/duplicate", response_model=CampaignRead, status_code=201)
def duplicate_campaign(
    campaign_id: RowId,
    actor: Writer,
    session: DbSession,
    settings: AppSettings,
    body: CampaignCopy | None = None,
) -> CampaignRead:
    """A new draft with the campaign's message, audience and settings (any campaign)."""
    campaign = commands.duplicate(
        session,
        campaign_id=campaign_id,
        actor=actor,
        settings=settings,
        now=utcnow(),
        name=body.name if body is not None else None,
    )
    return _read(campaign)


@router.post("/{campaign_id}/preview", response_model=PlanReportRead)
def preview(
    campaign_id: RowId, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """What launching now would do: exclusions by reason, deferrals, send times, cost."""
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    report = service.preview(session, campaign=campaign, settings=settings, now=utcnow())
    return report.to_dict()


@router.post("/{campaign_id}/launch", response_model=LaunchReport)
def launch(
    campaign_id: RowId, actor: Launcher, session: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """Plan every recipient into the outbox and start (or schedule) the campaign.

    Refused (409, code `nothing_to_send`) when no message would go out: the preview says why.
    """
    done = commands.launch(
        session, campaign_id=campaign_id, actor=actor, settings=settings, now=utcnow()
    )
    return {**done.report.to_dict(), "status": done.campaign.status}


@router.post("/{campaign_id}/pause", response_model=CampaignRead)
def pause(campaign_id: RowId, actor: Launcher, session: DbSession) -> CampaignRead:
    """Stop claiming the campaign's messages; nothing is lost."""
    return _read(commands.pause(session, campaign_id=campaign_id, actor=actor, now=utcnow()))


@router.post("/{campaign_id}/resume", response_model=CampaignRead)
def resume(campaign_id: RowId, actor: Launcher, session: DbSession) -> CampaignRead:
    """Continue a paused campaign where it stopped."""
    return _read(commands.resume(session, campaign_id=campaign_id, actor=actor, now=utcnow()))


@router.post("/{campaign_id}/cancel", response_model=Cancelled)
def cancel(campaign_id: RowId, actor: Launcher, session: DbSession) -> Cancelled:
    """Cancel for good; unsent messages become `cancelled`."""
    done = commands.cancel(session, campaign_id=campaign_id, actor=actor, now=utcnow())
    return Cancelled(
        **_read(done.campaign).model_dump(), messages_cancelled=done.messages_cancelled
    )


@router.get("/{campaign_id}/report", response_model=CampaignReport)
def report(campaign_id: RowId, actor: CurrentActor, session: DbSession) -> dict[str, Any]:
    """Counts by state and reason, failures by code, opt-outs, segments and cost."""
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    return campaign_report(session, campaign=campaign)


class WhyQuestion(BaseModel):
    """Whose decision to explain: a contact id, or a number (in the body, never a URL)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    phone: str | None = Field(default=None, min_length=1, max_length=40)


def _explain(
    session: Session, settings: Settings, campaign_id: int, question: WhyQuestion
) -> dict[str, Any]:
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    if (question.contact_id is None) == (question.phone is None):
        raise ValidationError("give either contact_id or phone", field="contact_id")
    if question.contact_id is not None:
        contact = get_contact_or_raise(session, contact_id=question.contact_id)
    else:
        contact = get_contact_by_phone_or_raise(
            session, phone=question.phone or "", default_region=settings.default_region
        )
    return explain_recipient(
        session, campaign=campaign, contact=contact, settings=settings, now=utcnow()
    )


@router.get("/{campaign_id}/why", response_model=RecipientExplanation)
def why(
    campaign_id: RowId,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    contact_id: Annotated[int, Query(ge=1, le=MAX_ID, description="The contact's id")],
) -> dict[str, Any]:
    """Why this contact did or did not get the campaign: the stored decision and the trace.

    By contact id: a phone number in a URL would be written to every access log on the
    way; to ask by number, POST it in the body.
    """
    return _explain(session, settings, campaign_id, WhyQuestion(contact_id=contact_id))


@router.post("/{campaign_id}/why", response_model=RecipientExplanation)
def why_by_body(
    campaign_id: RowId,
    question: WhyQuestion,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
) -> dict[str, Any]:
    """Why this person did or did not get the campaign, asked by `phone` or `contact_id`."""
    return _explain(session, settings, campaign_id, question)
