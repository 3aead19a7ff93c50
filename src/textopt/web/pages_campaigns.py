"""Segments, the composer's live counter, a campaign's preview and report, and its controls
(the composer itself, drafts and the launch are `pages_drafts`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.campaigns import commands, service
from textopt.campaigns.overview import sends_by_hour
from textopt.campaigns.report import campaign_report
from textopt.campaigns.segments import count_audience, create_segment, list_segments
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.eligibility import workspace_policy
from textopt.errors import ValidationError
from textopt.http.deps import DbSession, check_csrf
from textopt.http.params import RowId
from textopt.links.service import clicks_by_campaign, tracks_links
from textopt.policy import Calendar, quiet_hours, select_pack, sending_calendar
from textopt.policy.packs import format_minutes
from textopt.policy.windows import holiday_name
from textopt.web.auth import CsrfField, WebViewer, check_form
from textopt.web.charts import Number, bar_chart, funnel_chart
from textopt.web.composer import analyze_draft, email_draft_error
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import Translate, long_date, request_translator, weekdays
from textopt.web.rendering import counted, number_format, render
from textopt.web.template_errors import describe_template_error

__all__ = ["router", "send_time_charts"]

router = APIRouter(include_in_schema=False)
_DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}
_NOTICES = (
    *_DONE.values(),
    "launched",
    "created",
    "edited",
    "duplicated",
    "deleted",
    "not_launched",
    "not_draft",
)
_MAX_DAYS_SHOWN = 4


def _notice(_: Translate, notice: str | None) -> str | None:
    return _(f"notice.{notice}") if notice in _NOTICES else None


@router.get("/app/segments")
def segments_page(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """Saved segments with their live count, and the form to add one."""
    return _segments(request, session, error=None, name="", filter_text="")


def _segments(
    request: Request, session: DbSession, *, error: str | None, name: str, filter_text: str
) -> HTMLResponse:
    now = utcnow()
    rows = [(s, count_audience(session, filter=s.filter, now=now)) for s in list_segments(session)]
    return render(
        request,
        "segments.html",
        status_code=422 if error else 200,
        section="Segments",
        segments=rows,
        error=error,
        name=name,
        filter=filter_text,
    )


@router.post("/app/segments")
def add_segment(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    name: Annotated[str, Form(max_length=100)],
    filter: Annotated[str, Form(max_length=10_000)],
    csrf_token: CsrfField = None,
) -> Response:
    """Save a segment; a bad filter is shown with its column."""
    check_form(viewer, csrf_token, Scope.WRITE)
    try:
        with session.begin_nested():
            create_segment(session, name=name, filter=filter)
    except ValidationError as exc:
        error = translate_message(request_translator(request), exc.message)
        return _segments(request, session, error=error, name=name, filter_text=filter)
    return RedirectResponse("/app/segments", status_code=303)


@router.get("/app/api/count")
def segment_count(
    request: Request, viewer: WebViewer, session: DbSession, filter: str = ""
) -> JSONResponse:
    """The live count of a filter being typed (or why it does not parse), in words."""
    if not filter.strip():
        return JSONResponse({"count": None, "error": None, "label": None})
    try:
        count = count_audience(session, filter=filter[:10_000], now=utcnow())
    except ValidationError as exc:
        error = translate_message(request_translator(request), exc.message)
        return JSONResponse({"count": None, "error": error, "label": None})
    label = counted(request, count, "contact", "contacts")
    return JSONResponse({"count": count, "error": None, "label": label})


class DraftText(BaseModel):
    """What the composer sends on each keystroke (debounced)."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(default="", max_length=20_000)
    segment: str | None = Field(default=None, max_length=100)
    audience: str | None = Field(default=None, max_length=10_000)  # a draft's own filter
    purpose: str = Field(default="marketing", pattern="^(marketing|transactional)$")
    brand_name: str | None = Field(default=None, max_length=100)
    smart_encoding: bool = True
    track_links: bool = False
    channels: str = Field(default="sms", max_length=20)
    email_subject: str = Field(default="", max_length=1_000)
    email_template: str = Field(default="", max_length=20_000)
    email_text_template: str = Field(default="", max_length=20_000)


@router.post("/app/api/analyze")
def analyze(
    request: Request,
    body: DraftText,
    viewer: WebViewer,
    session: DbSession,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """The composer's live counter: encoding, segments, UCS-2 characters, samples, cost.

    It renders the draft, the marketer's code: only those who may write campaigns run it.
    """
    check_csrf(viewer.login, x_csrf_token)
    viewer.require(Scope.WRITE)
    settings: Settings = request.app.state.settings
    result = analyze_draft(
        session,
        settings=settings,
        text=body.text,
        segment=body.segment,
        audience=body.audience,
        purpose=body.purpose,
        brand_name=body.brand_name,
        smart_encoding=body.smart_encoding,
        track_links=body.track_links,
        now=utcnow(),
    )
    _ = request_translator(request)
    if result["error"]:
        result["error"] = describe_template_error(_, result["error"])
    for sample in result["samples"]:
        if "error" in sample:
            sample["error"] = describe_template_error(_, sample["error"])
    # the email part is checked as the SMS is, on the same contacts, when the rule sends one
    email_error = (
        email_draft_error(
            session,
            subject=body.email_subject,
            html=body.email_template,
            text=body.email_text_template,
            segment=body.segment,
            audience=body.audience,
            now=utcnow(),
        )
        if "email" in body.channels
        else None
    )
    result["email_error"] = describe_template_error(_, email_error) if email_error else None
    return JSONResponse(result)


@router.get("/app/campaigns")
def campaigns_page(
    request: Request, viewer: WebViewer, session: DbSession, notice: str | None = None
) -> HTMLResponse:
    """Every campaign, newest first."""
    return render(
        request,
        "campaigns.html",
        section="Campaigns",
        campaigns=service.list_campaigns(session, limit=200),
        notice=_notice(request_translator(request), notice),
    )


def _day_of(label: str) -> dt.date | None:
    """The date of a histogram's day label (`2026-11-25 Wed`)."""
    try:
        return dt.date.fromisoformat(label[:10])
    except ValueError:
        return None


def send_time_charts(
    _: Translate, hours: dict[str, list[int]], calendar: Calendar, *, number: Number | None = None
) -> list[Markup]:
    """A chart per local day of the preview, its hours closed to marketing shaded."""
    charts = []
    for label, counts in sorted(hours.items())[:_MAX_DAYS_SHOWN]:
        day = _day_of(label)
        caption = long_date(_, day) if day is not None else label
        if day is not None and holiday_name(calendar, day) is not None:
            caption += f" — {_('holiday')}"
        title = f"{_('Send times by local hour')}: {caption}"
        charts.append(
            bar_chart(
                [(f"{h:02d}h", count) for h, count in enumerate(counts)],
                title=title,
                shaded=set(range(24)) if day is None else set(quiet_hours(calendar, day)),
                shaded_label=_("Shaded: hours when marketing may not be sent"),
                height=150,
                caption=caption,
                number=number,
            )
        )
    return charts


def _nothing_to_send(_: Translate, audience: int) -> str:
    if not audience:
        return _("Nothing would be sent: the audience is empty. Choose another segment.")
    return _("Nothing would be sent: everyone in the audience is excluded (reasons below).")


@router.get("/app/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    notice: str | None = None,
) -> HTMLResponse:
    """A draft's preview (exclusions, send times, cost) or a launched campaign's report."""
    _ = request_translator(request)
    settings: Settings = request.app.state.settings
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    now = utcnow()
    values: dict[str, Any] = {
        "preview": None,
        "report": None,
        "problems": [],
        "nothing_to_send": None,
    }
    if campaign.status == "draft":
        preview = service.preview(session, campaign=campaign, settings=settings, now=now)
        # The audience's local hours are shaded by the rules of the workspace's own region.
        region = select_pack(settings.default_region)
        calendar = sending_calendar(region, workspace_policy(settings))
        data = preview.to_dict()
        refusal = commands.nothing_to_send(preview)
        values.update(
            problems=[
                (describe_template_error(_, message), count)
                for message, count in preview.template_problems.most_common()
            ],
            nothing_to_send=None if refusal is None else _nothing_to_send(_, preview.audience),
            preview=data,
            deferred_total=sum(preview.deferred.values()),
            blocked_total=sum(preview.blocked.values()),
            histograms=send_time_charts(_, preview.hours, calendar, number=number_format(request)),
            quiet_rule=f"{weekdays(_, calendar.days)} {format_minutes(calendar.start)}"
            f"–{format_minutes(calendar.end)}",
        )
    else:
        report = campaign_report(session, campaign=campaign)
        clicks = clicks_by_campaign(session, campaign_id=campaign.id)
        start = campaign.launched_at or campaign.created_at
        end = min(campaign.completed_at or now, start + dt.timedelta(hours=48), now)
        # at least half a day, so that one busy hour does not fill the whole chart
        until = max(end + dt.timedelta(hours=1), start + dt.timedelta(hours=12))
        hours = sends_by_hour(session, since=start, until=until, campaign_id=campaign.id)
        zone = ZoneInfo(settings.workspace_timezone)
        values.update(
            report=report,
            clicks=clicks,
            funnel_chart=funnel_chart(
                [
                    (_("planned"), report["messages"] - sum(report["blocked_by_reason"].values())),
                    (_("sent"), report["sent"]),
                    (_("delivered"), report["delivered"]),
                    (_("clicked"), clicks.contacts),
                ],
                title=_("Delivery funnel"),
                number=number_format(request),
            ),
            hours_chart=bar_chart(
                [(f"{at.astimezone(zone).hour:02d}h", count) for at, count in hours],
                title=_("Sends per hour"),
                number=number_format(request),
            ),
        )
    return render(
        request,
        "campaign.html",
        section="Campaigns",
        campaign=campaign,
        tracked=tracks_links(campaign),
        notice=_notice(_, notice),
        **values,
    )


@router.post("/app/campaigns/{campaign_id}/{action}")
def campaign_action(
    request: Request,
    campaign_id: RowId,
    action: str,
    viewer: WebViewer,
    session: DbSession,
    csrf_token: CsrfField = None,
) -> Response:
    """Pause, resume or cancel (the launch permission); a launch is confirmed first."""
    check_form(viewer, csrf_token, Scope.LAUNCH)
    actor, now = viewer.actor, utcnow()
    if action not in _DONE:
        service.get_campaign_or_raise(session, campaign_id=campaign_id)  # a missing one: 404
        raise ValidationError(f"unknown campaign action {action!r}", field="action")
    if action == "pause":
        commands.pause(session, campaign_id=campaign_id, actor=actor, now=now)
    elif action == "resume":
        commands.resume(session, campaign_id=campaign_id, actor=actor, now=now)
    else:
        commands.cancel(session, campaign_id=campaign_id, actor=actor, now=now)
    return RedirectResponse(f"/app/campaigns/{campaign_id}?notice={_DONE[action]}", status_code=303)
