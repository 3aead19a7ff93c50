"""Public pages: the hosted signup form of a list, and the redirect of tracked links.

Neither needs a login. The signup form is protected by a per-form token (signed with the
workspace key, echoed by a SameSite=Strict cookie: a page of another site can neither read
nor send it) and by the opt-in limits. No response says anything about another person: the
answer to a submission is the same whether the number was new, known, or suppressed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.errors import RateLimited, ValidationError
from textopt.http.deps import DbSession, client_ip, limit
from textopt.links.service import follow_link
from textopt.optin.models import SignupList
from textopt.optin.service import get_list_or_raise, list_text, start_signup
from textopt.web.error_sentences import translate_message
from textopt.web.form_tokens import FORM_MAX_AGE, check_form_token, new_form_token
from textopt.web.i18n import translator
from textopt.web.rendering import render

__all__ = ["FORM_COOKIE", "LINK_LIMITS", "root_short_link", "router"]

router = APIRouter(include_in_schema=False)
FORM_COOKIE = "textopt_form"
_CONFIRM_WORD = {"fr": "OUI", "en": "YES"}
_public = [Depends(limit("public", per_minute=lambda s: s.public_rate_per_minute))]
# A carrier's NAT may put many recipients behind one address: links get a wider budget.
LINK_LIMITS = [Depends(limit("links", per_minute=lambda s: s.public_rate_per_minute * 10))]


def _purpose(slug: str) -> str:
    return f"signup-form|{slug}"


def _form(
    request: Request,
    session: DbSession,
    signup_list: SignupList,
    *,
    phone: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    token = new_form_token(settings, _purpose(signup_list.slug))
    response = render(
        request,
        "signup.html",
        status_code=status_code,
        lang=signup_list.language,
        _=translator(signup_list.language),
        signup_list=signup_list,
        consent_text=list_text(session, signup_list=signup_list),
        form_token=token,
        phone=phone,
        error=error,
        done=False,
        headers={"Referrer-Policy": "no-referrer"},
    )
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=FORM_MAX_AGE,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path=f"/s/{signup_list.slug}",
    )
    return response


@router.get("/s/{slug}", dependencies=_public)
def signup_form(request: Request, slug: str, session: DbSession) -> HTMLResponse:
    """The hosted signup page: brand, the consent text verbatim, an unticked box."""
    return _form(request, session, get_list_or_raise(session, slug=slug))


@router.post("/s/{slug}", dependencies=_public)
def signup(
    request: Request,
    slug: str,
    session: DbSession,
    phone: Annotated[str, Form(max_length=40)] = "",
    consent: Annotated[str, Form(max_length=8)] = "",
    form_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Record the pending consent and text the confirmation; the reply OUI confirms."""
    settings: Settings = request.app.state.settings
    signup_list = get_list_or_raise(session, slug=slug)
    _ = translator(signup_list.language)
    check_form_token(
        settings, _purpose(signup_list.slug), form_token, request.cookies.get(FORM_COOKIE)
    )
    if consent != "yes":
        return _form(
            request,
            session,
            signup_list,
            phone=phone,
            error=_("Tick the box to agree: nothing is sent without it."),
            status_code=422,
        )
    try:
        with session.begin_nested():
            start_signup(
                session,
                settings=settings,
                limiter=request.app.state.limiter,
                signup_list=signup_list,
                phone=phone,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent"),
                form_url=str(request.url),
                now=utcnow(),
            )
    except (ValidationError, RateLimited) as exc:
        # The errors name only what the person typed (their number, its country, the rate).
        message = (
            translate_message(_, exc.message)
            if isinstance(exc, ValidationError)
            else _("too many signups")
        )
        return _form(request, session, signup_list, phone=phone, error=message, status_code=422)
    return render(
        request,
        "signup.html",
        lang=signup_list.language,
        _=_,
        signup_list=signup_list,
        phone=phone,
        done=True,
        confirm_word=_CONFIRM_WORD.get(signup_list.language, "YES"),
        headers={"Referrer-Policy": "no-referrer"},
    )


def _redirect(session: DbSession, request: Request, code: str) -> Response:
    url = follow_link(
        session, code=code, user_agent=request.headers.get("user-agent"), now=utcnow()
    )
    return RedirectResponse(
        url,
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/l/{code}", dependencies=LINK_LIMITS)
def short_link(request: Request, code: str, session: DbSession) -> Response:
    """A tracked link on the server's own address: count the click, redirect."""
    return _redirect(session, request, code)


def root_short_link(request: Request, code: str, session: DbSession) -> Response:
    """A tracked link on the link domain (`https://go.example.com/abc1234`)."""
    return _redirect(session, request, code)
