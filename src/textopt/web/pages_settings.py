"""Settings: brand, STOP number, caps, provider accounts, the pack in force, signup lists."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts.models import Scope
from textopt.accounts.service import list_users, record_audit
from textopt.config import Settings
from textopt.consent.service import list_consent_texts
from textopt.errors import TextoptError
from textopt.http.deps import DbSession
from textopt.links.reach import unreachable_bases
from textopt.links.service import link_base
from textopt.optin.service import create_list, list_lists
from textopt.policy import get_pack, select_pack
from textopt.policy.packs import Pack, format_minutes
from textopt.web.auth import CsrfField, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import Translate, choose_language, request_translator, weekdays
from textopt.web.rendering import render

__all__ = ["PackRule", "pack_rules", "router"]

router = APIRouter(include_in_schema=False)


def _and(_: Translate, words: list[str]) -> str:
    return _(" and ").join(_(w) for w in words)


class PackRule(NamedTuple):
    """One rule of a pack as a page shows it; `source_lang` is the language of its source."""

    name: str
    requirement: str
    source: str
    source_lang: str
    confidence: str


def _source(pack: Pack, where: str | int, source: str, lang: str) -> tuple[str, str]:
    """The source in `lang` when the pack words it so (`source_fr`), else as written."""
    table = pack.data.get("caps", [])[where] if isinstance(where, int) else pack.data.get(where)
    french = table.get("source_fr") if isinstance(table, dict) else None
    if lang == "fr" and isinstance(french, str) and french.strip():
        return french.strip(), "fr"
    return source, "en"


def pack_rules(pack: Pack, _: Translate, *, lang: str) -> list[PackRule]:
    """Each rule of `pack` (name, requirement, source, its language, confidence) in words."""
    h, hol, c, t, s, f = (
        pack.hours,
        pack.holidays,
        pack.consent,
        pack.transactional,
        pack.sender,
        pack.footer,
    )
    hours = _("marketing %(days)s, %(start)s–%(end)s, recipient's local time") % {
        "days": weekdays(_, h.days),
        "start": format_minutes(h.start),
        "end": format_minutes(h.end),
    }
    holidays = (
        _("no marketing on public holidays (%(country)s)")
        % {"country": hol.country or _("the recipient's country")}
        if hol.blocked
        else _("public holidays allowed")
    )
    consent = _("; ").join(
        (_("%(channel)s: consent or soft opt-in") if soft else _("%(channel)s: consent only"))
        % {"channel": channel}
        for channel, soft in (("SMS", c.soft_opt_in), (_("email"), c.email_soft_opt_in))
    )
    exempt = [k for k, ok in (("hours", t.exempt_from_hours), ("caps", t.exempt_from_caps)) if ok]
    transactional = _("no consent needed; exempt from %(what)s") % {
        "what": _and(_, exempt) if exempt else _("nothing")
    }
    kinds = [k for k, ok in (("numeric", s.numeric), ("alphanumeric", s.alphanumeric)) if ok]
    sender = (
        _("%(kinds)s senders, at most %(n)s characters")
        % {"kinds": _and(_, kinds), "n": s.max_length}
        if kinds
        else _("no sender ID accepted")
    )
    if s.blocked:
        sender += _("; blocked: %(names)s") % {"names": ", ".join(sorted(s.blocked))}
    footer = (
        _("STOP instruction required (%(text)s)") % {"text": f.text}
        if f.stop_required
        else _("no STOP instruction required")
    )
    rows: list[tuple[str, str, str | int, str, str]] = [
        (_("rule.hours"), hours, "hours", h.source, h.confidence),
        (_("rule.holidays"), holidays, "holidays", hol.source, hol.confidence),
        (_("rule.consent"), consent, "consent", c.source, c.confidence),
        (_("rule.transactional"), transactional, "transactional", t.source, t.confidence),
        (_("rule.sender"), sender, "sender", s.source, s.confidence),
        (_("rule.footer"), footer, "footer", f.source, f.confidence),
    ]
    rows.extend(
        (
            _("cap %(n)s") % {"n": i + 1},
            _("at most %(n)s per %(hours)s h (%(channels)s)")
            % {
                "n": cap.max_messages,
                "hours": int(cap.window.total_seconds() // 3600),
                "channels": ", ".join(_(ch) for ch in sorted(cap.channels)),
            },
            i,
            cap.source,
            cap.confidence,
        )
        for i, cap in enumerate(pack.caps)
    )
    return [
        PackRule(name, text, *_source(pack, where, source, lang), _(f"confidence.{level}"))
        for name, text, where, source, level in rows
    ]


def _settings_page(
    request: Request, session: DbSession, viewer: WebViewer, *, error: str | None
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    pack = get_pack(select_pack(settings.default_region).pack)
    # Only the account's name, kind and rate: options may hold credentials.
    providers = [
        (name, str(options.get("kind", name)), options.get("rate"))
        for name, options in sorted(settings.providers.items())
    ]
    return render(
        request,
        "settings.html",
        status_code=422 if error else 200,
        section="Settings",
        settings=settings,
        providers=providers,
        pack=pack,
        rules=pack_rules(
            pack,
            request_translator(request),
            lang=choose_language(request, settings=settings),
        ),
        lists=list_lists(session),
        texts=list_consent_texts(session),
        users=list_users(session) if viewer.can("admin") else [],
        link_base=link_base(settings),
        unreachable=unreachable_bases(settings),
        error=error,
    )


@router.get("/app/settings")
def settings_page(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """What the workspace is configured with."""
    return _settings_page(request, session, viewer, error=None)


@router.post("/app/settings/lists")
def add_list(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    name: Annotated[str, Form(max_length=200)],
    slug: Annotated[str, Form(max_length=64)],
    brand: Annotated[str, Form(max_length=100)],
    consent_text_version: Annotated[str, Form(max_length=64)],
    language: Annotated[str, Form(max_length=8)] = "fr",
    countries: Annotated[str, Form(max_length=100)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Open a hosted signup page (admin)."""
    check_form(viewer, csrf_token, Scope.ADMIN)
    try:
        with session.begin_nested():
            created = create_list(
                session,
                slug=slug,
                name=name,
                brand=brand,
                consent_text_version=consent_text_version,
                language=language,
                countries=[c for c in countries.replace(" ", "").split(",") if c] or None,
            )
    except TextoptError as exc:
        error = translate_message(request_translator(request), exc.message)
        return _settings_page(request, session, viewer, error=error)
    record_audit(
        session,
        actor=viewer.actor,
        action="signup_list.created",
        target_type="signup_list",
        target_id=created.id,
        detail={"slug": created.slug, "consent_text_version": created.consent_text_version},
    )
    return RedirectResponse("/app/settings", status_code=303)
