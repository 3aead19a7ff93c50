"""Signing in and out, the language switch, and the overview page."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts import service as accounts
from textopt.campaigns.overview import workspace_overview
from textopt.campaigns.service import list_campaigns
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.errors import AuthenticationError
from textopt.http.deps import (
    COOKIE_NAME,
    DbSession,
    check_csrf,
    clear_session_cookie,
    current_login,
    limit,
    set_session_cookie,
    sign_in,
)
from textopt.web.auth import CsrfField, WebViewer
from textopt.web.charts import bar_chart, funnel_chart
from textopt.web.error_sentences import translate_message
from textopt.web.form_tokens import FORM_MAX_AGE, check_form_token, new_form_token
from textopt.web.i18n import LANGUAGE_COOKIE, LANGUAGES, request_translator
from textopt.web.rendering import number_format, render

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


LOGIN_FORM_COOKIE = "textopt_login_form"
_LOGIN_FORM = "login-form"


def _login_form(
    request: Request, *, next: str, email: str, error: str | None, status_code: int = 200
) -> HTMLResponse:
    """The sign-in form with a fresh signed token in a hidden field and in a cookie."""
    settings: Settings = request.app.state.settings
    token = new_form_token(settings, _LOGIN_FORM)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        next=safe_next(next),
        email=email,
        error=error,
        form_token=token,
    )
    response.set_cookie(
        LOGIN_FORM_COOKIE,
        token,
        max_age=FORM_MAX_AGE,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/app/login",
    )
    return response


@router.get("/app/login")
def login_page(request: Request, next: str = "/app/") -> HTMLResponse:
    """The sign-in form."""
    return _login_form(request, next=next, email="", error=None)


@router.post(
    "/app/login",
    dependencies=[Depends(limit("login", per_minute=lambda s: s.login_rate_per_minute))],
)
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/app/",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the password, open a session, set its cookie, go where the user was going.

    The form's signed token must come back in the field and its cookie: another site
    cannot sign a browser into an account of its choosing (login CSRF).
    """
    settings: Settings = request.app.state.settings
    check_form_token(settings, _LOGIN_FORM, form_token, request.cookies.get(LOGIN_FORM_COOKIE))
    try:
        _actor, _login, token = sign_in(request, email=email, password=password)
    except AuthenticationError as exc:
        _ = request_translator(request)
        error = translate_message(_, exc.message)
        return _login_form(request, next=next, email=email, error=error, status_code=401)
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
        (_("waiting"), figures.waiting),
        (_("sent"), figures.sent),
        (_("delivered"), figures.delivered),
    ]
    zone = ZoneInfo(request.app.state.settings.workspace_timezone)
    hours = [(f"{at.astimezone(zone).hour:02d}h", count) for at, count in figures.hours]
    number = number_format(request)
    return render(
        request,
        "overview.html",
        section="Overview",
        overview=figures,
        campaigns=list_campaigns(session, limit=8),
        funnel_chart=funnel_chart(stages, title=_("Delivery funnel"), number=number),
        hours_chart=bar_chart(hours, title=_("Sends per hour, last 24 hours"), number=number),
    )
