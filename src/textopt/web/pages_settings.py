"""Settings: brand, STOP number, caps, provider accounts, the pack in force, signup lists."""

from __future__ import annotations

from typing import Annotated

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
from textopt.web.auth import CsrfField, WebViewer, check_form
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _settings_page(
    request: Request, session: DbSession, viewer: WebViewer, *, error: str | None
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
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
        pack=get_pack(select_pack(settings.default_region).pack),
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
        return _settings_page(request, session, viewer, error=exc.message)
    record_audit(
        session,
        actor=viewer.actor,
        action="signup_list.created",
        target_type="signup_list",
        target_id=created.id,
        detail={"slug": created.slug, "consent_text_version": created.consent_text_version},
    )
    return RedirectResponse("/app/settings", status_code=303)
