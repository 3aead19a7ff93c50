"""Contacts: search, one contact's page (with the form that records the person's preferences)
and the printable consent proof (the CSV import is `pages_import`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts.models import Scope
from textopt.campaigns.overview import contact_messages
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.preferences import merge_choices, read_preferences, set_preferences
from textopt.consent.suppression import Digester
from textopt.contacts import service as contacts
from textopt.conversations.service import conversation_of_contact
from textopt.db.base import utcnow
from textopt.dispatch.feedback import get_number_failures
from textopt.errors import TextoptError
from textopt.events.service import latest_events
from textopt.http.deps import DbSession
from textopt.http.params import After, RowId
from textopt.inbound.service import list_inbound
from textopt.links.service import clicks_by_contact
from textopt.questions.service import list_questions
from textopt.web.auth import Viewer, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import Translate, request_translator
from textopt.web.pages_flows import contact_flows
from textopt.web.preference_form import changes_made, changes_shown, read_preference_form
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_PAGE = 50
_EVENTS = 20
_CHANNEL_WORDS = {"sms": "By SMS", "email": "By email"}


@router.get("/app/contacts")
def contact_list(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    q: str = "",
    tag: str = "",
    after: After = None,
) -> HTMLResponse:
    """Contacts matching a search, a page at a time."""
    # NUL cannot be stored or compared in PostgreSQL text: it is never part of a search
    q, tag = q.replace("\x00", ""), tag.replace("\x00", "")
    search, tag_name = q.strip()[:200] or None, tag.strip()[:64] or None
    rows = contacts.list_contacts(
        session, search=search, tag=tag_name, limit=_PAGE + 1, after_id=after
    )
    total = contacts.count_contacts(session, search=search, tag=tag_name)
    return render(
        request,
        "contacts.html",
        section="Contacts",
        contacts=rows[:_PAGE],
        total=total,
        q=q,
        tag=tag,
        next_after=rows[_PAGE - 1].id if len(rows) > _PAGE else None,
    )


def _preferences_notice(_: Translate, notice: str | None, changed: str) -> str | None:
    """The sentence after the preferences form was saved: what changed, or nothing."""
    if notice == "preferences_unchanged":
        return _("Nothing changed: the preferences were already these.")
    if notice != "preferences_saved":
        return None
    by_channel: dict[str, list[str]] = {}
    for channel, change in changes_shown(changed):
        by_channel.setdefault(channel, []).append(_(f"preference_change.{change}"))
    sentences = [
        _("%(channel)s: %(changes)s.")
        % {"channel": _(_CHANNEL_WORDS[channel]), "changes": ", ".join(changes)}
        for channel, changes in by_channel.items()
    ]
    return " ".join([_("Preferences saved."), *sentences])


def _contact_page(
    request: Request,
    viewer: Viewer,
    session: DbSession,
    *,
    contact_id: int,
    notice: str | None = None,
    form_errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
    form_error: str | None = None,
) -> HTMLResponse:
    contact = contacts.get_contact_or_raise(session, contact_id=contact_id)
    events = latest_events(session, contact_id=contact.id, limit=_EVENTS + 1)
    digest: Digester = request.app.state.digester
    states = sorted(consent.current_consent(session, contact_id=contact.id).items())
    suppressed = (  # a contact with only an email address has no number to suppress
        consent.suppression_reasons(session, digest=digest, phone=contact.phone, channel="sms")
        if contact.phone
        else []
    )
    refused = bool(form_errors or form_error)
    return render(
        request,
        "contact.html",
        status_code=422 if refused else 200,
        section="Contacts",
        notice=notice,
        contact=contact,
        states=states,
        preferences=read_preferences(session, contact_id=contact.id),
        preference_errors=form_errors or {},
        preference_values=form_values or {},
        preference_error=form_error,
        suppressed=suppressed,
        failures=(
            get_number_failures(session, digest=digest, phone=contact.phone)
            if contact.phone
            else None
        ),
        ledger=consent.history(session, contact_id=contact.id),
        messages=contact_messages(session, contact_id=contact.id),
        inbound=list_inbound(session, contact_id=contact.id),
        conversation=(
            conversation_of_contact(session, contact_id=contact.id)
            if viewer.can(Scope.INBOX)
            else None
        ),
        clicks=clicks_by_contact(session, contact_id=contact.id),
        events=events[:_EVENTS],
        more_events=len(events) > _EVENTS,
        questions=list_questions(session, contact_id=contact.id, now=utcnow(), limit=_EVENTS),
        **contact_flows(request, session, contact_id=contact.id),
    )


@router.get("/app/contacts/{contact_id}")
def contact_page(
    request: Request,
    contact_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    notice: str | None = None,
    changed: str = "",
) -> HTMLResponse:
    """One contact: details, consent now, the person's preferences and the ledger, every
    message, reply, the latest events and the questions messages asked."""
    return _contact_page(
        request,
        viewer,
        session,
        contact_id=contact_id,
        notice=_preferences_notice(request_translator(request), notice, changed[:500]),
    )


async def _posted_fields(request: Request) -> dict[str, str]:
    """A form's text fields (the last value of each), each cut short: no field is long."""
    posted = await request.form()
    return {key: value[:200] for key, value in posted.items() if isinstance(value, str)}


@router.post("/app/contacts/{contact_id}/preferences")
def save_contact_preferences(
    request: Request,
    contact_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    form: Annotated[dict[str, str], Depends(_posted_fields)],
) -> Response:
    """Record what the person asked for (by phone, at the counter): one ledger event per
    channel and purpose that changes, the user as its author, an audit entry."""
    check_form(viewer, form.get("csrf_token"), Scope.WRITE)
    contact = contacts.get_contact_or_raise(session, contact_id=contact_id)
    before = read_preferences(session, contact_id=contact.id)
    read = read_preference_form(form, before)
    _ = request_translator(request)
    if read.errors:
        errors = {field: _(key) for field, key in read.errors.items()}
        return _contact_page(
            request,
            viewer,
            session,
            contact_id=contact.id,
            form_errors=errors,
            form_values=read.values,
        )
    try:
        with session.begin_nested():
            set_preferences(
                session,
                actor=viewer.actor,
                digest=request.app.state.digester,
                contact_id=contact.id,
                choices=merge_choices(before, read.changes),
                now=utcnow(),
            )
    except TextoptError as exc:
        return _contact_page(
            request,
            viewer,
            session,
            contact_id=contact.id,
            form_values=read.values,
            form_error=translate_message(_, exc.message),
        )
    changed = changes_made(before, read_preferences(session, contact_id=contact.id))
    target = f"/app/contacts/{contact.id}"
    if changed:
        target += f"?notice=preferences_saved&changed={quote(','.join(changed))}"
    else:
        target += "?notice=preferences_unchanged"
    return RedirectResponse(target + "#preferences", status_code=303)


@router.get("/app/contacts/{contact_id}/proof")
def consent_proof(
    request: Request, contact_id: RowId, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """The printable consent record of one person: what a CNIL audit asks for."""
    settings: Settings = request.app.state.settings
    contact = contacts.get_contact_or_raise(session, contact_id=contact_id)
    ledger = consent.history(session, contact_id=contact.id)
    versions = sorted({e.consent_text_version for e, _ in ledger if e.consent_text_version})
    texts = [t for v in versions if (t := consent.get_consent_text(session, version=v))]
    replies = [
        r
        for r in list_inbound(session, contact_id=contact.id)
        if r.keyword in ("confirm", "stop", "start")
    ]
    check = consent.verify_ledger(session, digest=request.app.state.digester)
    return render(
        request,
        "proof.html",
        section="Contacts",
        contact=contact,
        brand=settings.brand_name,
        now=utcnow(),
        states=sorted(consent.current_consent(session, contact_id=contact.id).items()),
        ledger=ledger,
        texts=texts,
        replies=replies,
        ledger_ok=check.ok,
        ledger_problem=check.problem,
        events_checked=check.events_checked,
    )
