"""Public pages: the hosted signup form of a list, the preference centre an unsubscribe link
opens, and the redirect of tracked links.

None needs a login. The signup form is protected by a per-form token (signed with the
workspace key, echoed by a SameSite=Strict cookie: a page of another site can neither read
nor send it) and by the opt-in limits. No response says anything about another person: the
answer to a submission is the same whether the number was new, known, or suppressed. The
preference centre is reached by a link signed for one contact (`consent.unsubscribe`); the
RFC 8058 one-click `POST /u/{token}` stays in the API's hooks and stops at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.config import Settings
from textopt.consent.models import ConsentSource, FrequencyLimit
from textopt.consent.preferences import (
    ChannelPreferences,
    PreferenceChoice,
    read_preferences,
    save_preferences,
)
from textopt.consent.unsubscribe import UnsubscribeLink, read_unsubscribe_token
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.errors import RateLimited, ValidationError
from textopt.http.deps import DbSession, client_ip, limit
from textopt.links.service import follow_link
from textopt.optin.models import SignupList
from textopt.optin.service import get_list_or_raise, list_text, start_signup
from textopt.vocab import Channel
from textopt.web.error_sentences import translate_message
from textopt.web.form_tokens import FORM_MAX_AGE, check_form_token, new_form_token
from textopt.web.i18n import LANGUAGES, choose_language, translator
from textopt.web.rendering import render

__all__ = [
    "FORM_COOKIE",
    "LINK_LIMITS",
    "preference_centre",
    "root_short_link",
    "router",
    "save_preference_centre",
]

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


def _link(request: Request, session: DbSession, token: str) -> tuple[UnsubscribeLink, Contact]:
    """The signed link's contact; the same refusal for a forged link and a vanished contact."""
    settings: Settings = request.app.state.settings
    link = read_unsubscribe_token(token, key=settings.resolved_secret_key())
    contact = session.get(Contact, link.contact_id)
    if contact is None or contact.erased_at is not None:
        raise ValidationError("this unsubscribe link is not valid", field="token")
    return link, contact


def _page_language(request: Request, contact: Contact, asked: str | None) -> str:
    """The language asked for by the page's switch, else the person's, else the browser's."""
    if asked in LANGUAGES:
        return str(asked)
    if contact.language in LANGUAGES:
        return str(contact.language)
    return choose_language(request, settings=request.app.state.settings)


def _shown(
    link: UnsubscribeLink, preferences: list[ChannelPreferences]
) -> list[ChannelPreferences]:
    """The channels the person can be reached on; the link's own always."""
    return [p for p in preferences if p.has_address or p.channel == link.channel]


def _preference_page(
    request: Request,
    *,
    token: str,
    link: UnsubscribeLink,
    preferences: list[ChannelPreferences],
    lang: str,
    saved: bool | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "preferences.html",
        status_code=status_code,
        lang=lang,
        _=translator(lang),
        token=token,
        link_channel=str(link.channel),
        channels=_shown(link, preferences),
        saved=saved,
        error=error,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


@router.get("/u/{token}", dependencies=_public)
def preference_centre(
    request: Request, token: str, session: DbSession, lang: str | None = None
) -> HTMLResponse:
    """The preference centre: keep reminders, stop promotions, choose channels and frequency.

    Opening it changes nothing (mail scanners open links); only a person's submission does.
    """
    link, contact = _link(request, session, token)
    preferences = read_preferences(session, contact_id=contact.id)
    language = _page_language(request, contact, lang)
    return _preference_page(request, token=token, link=link, preferences=preferences, lang=language)


def _choices(form: dict[str, list[str]], shown: list[ChannelPreferences]) -> list[PreferenceChoice]:
    """What the form asks for on each channel it showed; ValidationError names a bad field."""
    listed = set(form.get("channels", []))
    choices = []
    for preferences in shown:
        name = str(preferences.channel)
        if name not in listed:
            continue
        frequency = (form.get(f"{name}_frequency") or ["default"])[-1]
        if frequency != "default" and frequency not in {f.value for f in FrequencyLimit}:
            raise ValidationError(
                f"unknown frequency {frequency!r}: choose default, 2-a-month or 1-a-week",
                field=f"{name}_frequency",
            )
        choices.append(
            PreferenceChoice(
                channel=Channel(name),
                promotions=form.get(f"{name}_promotions", [""])[-1] == "keep",
                reminders=form.get(f"{name}_reminders", [""])[-1] == "keep",
                frequency=None if frequency == "default" else FrequencyLimit(frequency),
            )
        )
    return choices


@router.post("/u/{token}/preferences", dependencies=_public)
async def save_preference_centre(
    request: Request, token: str, session: DbSession, lang: str | None = None
) -> HTMLResponse:
    """Record each change the person made, one ledger event per channel and purpose."""
    link, contact = _link(request, session, token)
    language = _page_language(request, contact, lang)
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value[:40])
    shown = _shown(link, read_preferences(session, contact_id=contact.id))
    try:
        choices = _choices(values, shown)
    except ValidationError as exc:
        _ = translator(language)
        return _preference_page(
            request,
            token=token,
            link=link,
            preferences=shown,
            lang=language,
            error=_("Choose how often from the list (%(field)s).") % {"field": exc.field},
            status_code=422,
        )
    recorded = save_preferences(
        session,
        digest=request.app.state.digester,
        contact_id=contact.id,
        choices=choices,
        source=ConsentSource.UNSUBSCRIBE_LINK,
        now=utcnow(),
        proof={
            "link": "preferences",
            "campaign": link.campaign_id,
            "ip": client_ip(request),
            "user_agent": request.headers.get("user-agent", "")[:500],
        },
    )
    return _preference_page(
        request,
        token=token,
        link=link,
        preferences=read_preferences(session, contact_id=contact.id),
        lang=language,
        saved=bool(recorded),
    )
