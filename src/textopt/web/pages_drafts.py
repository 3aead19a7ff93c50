"""Drafts in the dashboard: the composer (new and edit), duplicate, delete, and the launch
with its confirmation page (recipients, audience, segments, cost, first and last send)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts.models import Scope
from textopt.campaigns import commands, service
from textopt.campaigns.models import Campaign, CampaignStatus, ChannelRule
from textopt.campaigns.segments import get_segment, list_segments
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.errors import NothingToSend, TemplateError, TextoptError, ValidationError
from textopt.http.deps import DbSession
from textopt.http.params import RowId
from textopt.links.service import link_base, tracks_links
from textopt.web.auth import CsrfField, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import Translate, request_translator
from textopt.web.rendering import render
from textopt.web.template_errors import describe_template_error

__all__ = ["OWN_FILTER", "router"]

router = APIRouter(include_in_schema=False)

#: The channel rules as the composer offers them (catalogue keys).
_RULE_WORDS = {
    ChannelRule.SMS: "SMS only",
    ChannelRule.EMAIL: "Email only",
    ChannelRule.BOTH: "SMS and email",
    ChannelRule.SMS_ELSE_EMAIL: "SMS, else email",
    ChannelRule.EMAIL_ELSE_SMS: "Email, else SMS",
}

#: The audience choice that keeps a draft's own filter (a draft made with a filter, no segment).
OWN_FILTER = "__own_filter__"


def _composer(
    request: Request,
    session: DbSession,
    *,
    form: dict[str, Any],
    error: str | None,
    campaign: Campaign | None = None,
) -> HTMLResponse:
    return render(
        request,
        "compose.html",
        status_code=422 if error else 200,
        section="Campaigns",
        segments=list_segments(session),
        form=form,
        error=error,
        campaign=campaign,
        own_filter=OWN_FILTER,
        channel_rules=[(rule.value, _RULE_WORDS[rule]) for rule in ChannelRule],
        link_base=link_base(request.app.state.settings),
    )


def _form_error(_: Translate, exc: TextoptError) -> str:
    """A refused form's error in the viewer's language (a template error says line or name)."""
    if isinstance(exc, TemplateError):
        return describe_template_error(_, exc.message)
    return translate_message(_, exc.message)


def _local_input(value: dt.datetime | None, zone: str) -> str:
    """An instant as a `datetime-local` field shows it, in the workspace's zone."""
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _local_time(value: str, zone: str) -> dt.datetime | None:
    if not value.strip():
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"start {value!r} is not a date and time", field="send_at") from exc
    return naive.replace(tzinfo=ZoneInfo(zone)) if naive.tzinfo is None else naive


@router.get("/app/campaigns/new")
def composer(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """The composer: template editor with live counter, samples and cost."""
    viewer.require(Scope.WRITE)
    settings: Settings = request.app.state.settings
    form = {
        "name": "",
        "segment": "",
        "purpose": "marketing",
        "brand_name": settings.brand_name,
        "sender_id": "",
        "send_at": "",
        "text": "",
        "smart_encoding": True,
        "track_links": False,
        **_NO_EMAIL,
    }
    return _composer(request, session, form=form, error=None)


#: The email part of a form with no email (an SMS campaign).
_NO_EMAIL: dict[str, str] = {
    "channels": str(ChannelRule.SMS),
    "email_subject": "",
    "email_template": "",
    "email_text_template": "",
    "email_from": "",
}


def _email_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The email part of a submitted form as campaign fields (None for what is left empty)."""
    return {
        "channels": form["channels"],
        "email_subject": form["email_subject"] or None,
        "email_template": form["email_template"] or None,
        "email_text_template": form["email_text_template"] or None,
        "email_from": form["email_from"].strip() or None,
    }


def _draft_form(
    name: str,
    segment: str,
    text: str,
    purpose: str,
    brand_name: str,
    sender_id: str,
    send_at: str,
    smart_encoding: bool,
    track_links: bool,
    email: dict[str, str],
) -> dict[str, Any]:
    return {
        **email,
        "name": name,
        "segment": segment,
        "purpose": purpose,
        "brand_name": brand_name,
        "sender_id": sender_id,
        "send_at": send_at,
        "text": text,
        "smart_encoding": smart_encoding,
        "track_links": track_links,
    }


NameField = Annotated[str, Form(max_length=200)]
SegmentField = Annotated[str, Form(max_length=100)]
TextField = Annotated[str, Form(max_length=20_000)]
PurposeField = Annotated[str, Form(max_length=16)]
BrandField = Annotated[str, Form(max_length=100)]
SenderField = Annotated[str, Form(max_length=32)]
StartField = Annotated[str, Form(max_length=40)]
FlagField = Annotated[bool, Form()]
ChannelsField = Annotated[str, Form(max_length=20)]
SubjectField = Annotated[str, Form(max_length=1_000)]
FromField = Annotated[str, Form(max_length=320)]


def _submitted_email(
    channels: str, subject: str, html: str, text: str, sender: str
) -> dict[str, str]:
    # a browser sends a textarea's lines ending in CRLF; the files of the CLI end in LF
    return {
        "channels": channels or str(ChannelRule.SMS),
        "email_subject": subject,
        "email_template": html.replace("\r\n", "\n"),
        "email_text_template": text.replace("\r\n", "\n"),
        "email_from": sender,
    }


def _no_segment(_: Translate) -> str:
    return _("Choose the audience: a saved segment (none is taken for you).")


@router.post("/app/campaigns/new")
def create_draft(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    name: NameField,
    text: TextField = "",
    segment: SegmentField = "",
    purpose: PurposeField = "marketing",
    brand_name: BrandField = "",
    sender_id: SenderField = "",
    send_at: StartField = "",
    smart_encoding: FlagField = False,
    track_links: FlagField = False,
    channels: ChannelsField = "",
    email_subject: SubjectField = "",
    email_template: TextField = "",
    email_text_template: TextField = "",
    email_from: FromField = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Save the draft (every mistake reported now) and go to its preview."""
    check_form(viewer, csrf_token, Scope.WRITE)
    _ = request_translator(request)
    settings: Settings = request.app.state.settings
    email = _submitted_email(
        channels, email_subject, email_template, email_text_template, email_from
    )
    form = _draft_form(
        name,
        segment,
        text,
        purpose,
        brand_name,
        sender_id,
        send_at,
        smart_encoding,
        track_links,
        email,
    )
    if not segment.strip() or segment == OWN_FILTER:
        return _composer(request, session, form=form, error=_no_segment(_))
    try:
        with session.begin_nested():
            campaign = commands.create(
                session,
                actor=viewer.actor,
                settings=settings,
                now=utcnow(),
                name=name,
                template=text,
                purpose=purpose,
                brand_name=brand_name or None,
                sender_id=sender_id.strip() or None,
                segment=segment,
                send_at=_local_time(send_at, settings.workspace_timezone),
                smart_encoding=smart_encoding,
                track_links=track_links,
                **_email_fields(form),
            )
    except TextoptError as exc:
        return _composer(request, session, form=form, error=_form_error(_, exc))
    return RedirectResponse(f"/app/campaigns/{campaign.id}?notice=created", status_code=303)


def _draft_or_page(session: DbSession, campaign_id: int) -> Campaign | RedirectResponse:
    """The draft, or a redirect to the campaign's page when it is no longer a draft."""
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        return RedirectResponse(f"/app/campaigns/{campaign_id}?notice=not_draft", status_code=303)
    return campaign


@router.get("/app/campaigns/{campaign_id}/edit", response_model=None)
def edit_page(
    request: Request, campaign_id: RowId, viewer: WebViewer, session: DbSession
) -> Response:
    """The composer filled with the draft."""
    viewer.require(Scope.WRITE)
    settings: Settings = request.app.state.settings
    found = _draft_or_page(session, campaign_id)
    if isinstance(found, Response):
        return found
    campaign = found
    saved = get_segment(session, name_or_id=campaign.segment_id) if campaign.segment_id else None
    form = _draft_form(
        campaign.name,
        saved.name if saved is not None else OWN_FILTER,
        campaign.template,
        campaign.purpose,
        campaign.brand_name,
        campaign.sender_id or "",
        _local_input(campaign.send_at, settings.workspace_timezone),
        campaign.smart_encoding,
        tracks_links(campaign),
        {
            "channels": str(campaign.channels),
            "email_subject": campaign.email_subject or "",
            "email_template": campaign.email_template or "",
            "email_text_template": campaign.email_text_template or "",
            "email_from": campaign.email_from or "",
        },
    )
    return _composer(request, session, form=form, error=None, campaign=campaign)


@router.post("/app/campaigns/{campaign_id}/edit")
def save_draft(
    request: Request,
    campaign_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    name: NameField,
    text: TextField = "",
    segment: SegmentField = "",
    purpose: PurposeField = "marketing",
    brand_name: BrandField = "",
    sender_id: SenderField = "",
    send_at: StartField = "",
    smart_encoding: FlagField = False,
    track_links: FlagField = False,
    channels: ChannelsField = "",
    email_subject: SubjectField = "",
    email_template: TextField = "",
    email_text_template: TextField = "",
    email_from: FromField = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Save the draft's changes (validated as at creation) and go back to its preview."""
    check_form(viewer, csrf_token, Scope.WRITE)
    _ = request_translator(request)
    settings: Settings = request.app.state.settings
    found = _draft_or_page(session, campaign_id)
    if isinstance(found, Response):
        return found
    email = _submitted_email(
        channels, email_subject, email_template, email_text_template, email_from
    )
    form = _draft_form(
        name,
        segment,
        text,
        purpose,
        brand_name,
        sender_id,
        send_at,
        smart_encoding,
        track_links,
        email,
    )
    if not segment.strip():
        return _composer(request, session, form=form, error=_no_segment(_), campaign=found)
    changes: dict[str, Any] = {
        "name": name,
        "template": text,
        "purpose": purpose,
        "brand_name": brand_name or None,
        "sender_id": sender_id.strip() or None,
        "smart_encoding": smart_encoding,
        "track_links": track_links,
        **_email_fields(form),
    }
    if segment != OWN_FILTER:
        changes["segment"] = segment
    try:
        with session.begin_nested():
            changes["send_at"] = _local_time(send_at, settings.workspace_timezone)
            commands.edit(
                session,
                campaign_id=campaign_id,
                actor=viewer.actor,
                settings=settings,
                now=utcnow(),
                changes=changes,
            )
    except TextoptError as exc:
        session.refresh(found)
        return _composer(request, session, form=form, error=_form_error(_, exc), campaign=found)
    return RedirectResponse(f"/app/campaigns/{campaign_id}?notice=edited", status_code=303)


@router.post("/app/campaigns/{campaign_id}/duplicate")
def duplicate(
    request: Request,
    campaign_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    csrf_token: CsrfField = None,
) -> Response:
    """Copy any campaign into a new draft and open it."""
    check_form(viewer, csrf_token, Scope.WRITE)
    _ = request_translator(request)
    original = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    copy = commands.duplicate(
        session,
        campaign_id=campaign_id,
        actor=viewer.actor,
        settings=request.app.state.settings,
        now=utcnow(),
        name=f"{original.name} ({_('copy')})"[:200],
    )
    return RedirectResponse(f"/app/campaigns/{copy.id}?notice=duplicated", status_code=303)


@router.post("/app/campaigns/{campaign_id}/delete")
def delete(
    campaign_id: RowId, viewer: WebViewer, session: DbSession, csrf_token: CsrfField = None
) -> Response:
    """Delete a draft for good and go back to the list."""
    check_form(viewer, csrf_token, Scope.WRITE)
    found = _draft_or_page(session, campaign_id)
    if isinstance(found, Response):
        return found
    commands.delete(session, campaign_id=campaign_id, actor=viewer.actor)
    return RedirectResponse("/app/campaigns?notice=deleted", status_code=303)


@router.get("/app/campaigns/{campaign_id}/launch", response_model=None)
def confirm_launch(
    request: Request, campaign_id: RowId, viewer: WebViewer, session: DbSession
) -> Response:
    """What the launch will do (from the plan's preview), to confirm; a draft that would send
    nothing, or whose template fails, goes back to its preview, which says why."""
    viewer.require(Scope.LAUNCH)
    settings: Settings = request.app.state.settings
    found = _draft_or_page(session, campaign_id)
    if isinstance(found, Response):
        return found
    preview = service.preview(session, campaign=found, settings=settings, now=utcnow())
    if preview.template_problems or commands.nothing_to_send(preview) is not None:
        return RedirectResponse(f"/app/campaigns/{campaign_id}", status_code=303)
    saved = get_segment(session, name_or_id=found.segment_id) if found.segment_id else None
    return render(
        request,
        "launch.html",
        section="Campaigns",
        campaign=found,
        segment=saved,
        plan=preview.to_dict(),
        first_send=preview.first_send,
        last_send=preview.last_send,
        deferred_total=sum(preview.deferred.values()),
        blocked_total=sum(preview.blocked.values()),
    )


@router.post("/app/campaigns/{campaign_id}/launch")
def launch(
    request: Request,
    campaign_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    confirm: Annotated[str, Form(max_length=8)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Launch once confirmed (else show the confirmation); a refusal goes back to the
    preview, which says why in the viewer's language."""
    check_form(viewer, csrf_token, Scope.LAUNCH)
    found = _draft_or_page(session, campaign_id)
    if isinstance(found, Response):
        return found  # launched already (a second click, another tab): its page says so
    if confirm != "yes":
        return RedirectResponse(f"/app/campaigns/{campaign_id}/launch", status_code=303)
    settings: Settings = request.app.state.settings
    try:
        with session.begin_nested():
            commands.launch(
                session,
                campaign_id=campaign_id,
                actor=viewer.actor,
                settings=settings,
                now=utcnow(),
            )
    except (TemplateError, NothingToSend):
        return RedirectResponse(
            f"/app/campaigns/{campaign_id}?notice=not_launched", status_code=303
        )
    return RedirectResponse(f"/app/campaigns/{campaign_id}?notice=launched", status_code=303)
