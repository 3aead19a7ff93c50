"""Signing in and out, the language switch, and the overview page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts import service as accounts
from textopt.api.deps import (
    COOKIE_NAME,
    DbSession,
    check_csrf,
    clear_session_cookie,
    client_ip,
    current_login,
    limit,
    set_session_cookie,
)
from textopt.campaigns.overview import workspace_overview
from textopt.campaigns.service import list_campaigns
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.errors import AuthenticationError
from textopt.web.auth import CsrfField, WebViewer
from textopt.web.charts import bar_chart, funnel_chart
from textopt.web.i18n import LANGUAGE_COOKIE, LANGUAGES, request_translator
from textopt.web.rendering import render

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/app/") -> str:
    """A local path to go back to; anything else (another site, `//host`) gives `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/")
def root() -> RedirectResponse:
    """The dashboard lives under /app/."""
    return RedirectResponse("/app/", status_code=303)


@router.get("/app/login")
def login_page(request: Request, next: str = "/app/") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", next=safe_next(next), email="", error=None)


@router.post(
    "/app/login",
    dependencies=[Depends(limit("login", per_minute=lambda s: s.login_rate_per_minute))],
)
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/app/",
) -> Response:
    """Check the password, open a session, set its cookie, go where the user was going."""
    settings: Settings = request.app.state.settings
    try:
        user = accounts.authenticate_password(session, email=email, password=password)
    except AuthenticationError as exc:
        _ = request_translator(request)
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            email=email,
            error=_(exc.message),
        )
    _, token = accounts.start_login_session(
        session,
        user=user,
        lifetime=dt.timedelta(hours=settings.session_hours),
        ip=client_ip(request),
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, token=token, settings=settings)
    return response


@router.post("/app/logout")
def logout(request: Request, session: DbSession, csrf_token: CsrfField = None) -> Response:
    """End the session (its CSRF token proves the form came from our page)."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(COOKIE_NAME)
    if token:
        try:
            login_session, _ = current_login(session, request)
        except AuthenticationError:
            login_session = None
        if login_session is not None:
            check_csrf(login_session, csrf_token)
            accounts.end_login_session(session, token=token)
    response = RedirectResponse("/app/login", status_code=303)
    clear_session_cookie(response, settings=settings)
    return response


@router.get("/app/lang")
def switch_language(to: str, next: str = "/app/") -> RedirectResponse:
    """Remember the chosen language in a cookie and go back."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if to in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, to, max_age=365 * 86400, samesite="lax", httponly=True, path="/"
        )
    return response


@router.get("/app/")
def overview(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """Recent campaigns, the delivery funnel, sends per hour, the opt-out rate."""
    _ = request_translator(request)
    now = utcnow()
    figures = workspace_overview(session, now=now)
    stages = [
        (_("decided"), figures.planned),
        (_("sent"), figures.sent),
        (_("delivered"), figures.delivered),
    ]
    zone = ZoneInfo(request.app.state.settings.workspace_timezone)
    hours = [(f"{at.astimezone(zone).hour:02d}h", count) for at, count in figures.hours]
    return render(
        request,
        "overview.html",
        section="Overview",
        overview=figures,
        campaigns=list_campaigns(session, limit=8),
        funnel_chart=funnel_chart(stages, title=_("Delivery funnel")),
        hours_chart=bar_chart(hours, title=_("Sends per hour, last 24 hours")),
    )
