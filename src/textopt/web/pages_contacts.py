"""Contacts: search, one contact's page and the printable consent proof (the CSV import
is `pages_import`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from textopt.accounts.models import Scope
from textopt.campaigns.overview import contact_messages
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.preferences import read_preferences
from textopt.consent.suppression import Digester
from textopt.contacts import service as contacts
from textopt.conversations.service import conversation_of_contact
from textopt.db.base import utcnow
from textopt.dispatch.feedback import get_number_failures
from textopt.events.service import latest_events
from textopt.http.deps import DbSession
from textopt.http.params import After, RowId
from textopt.inbound.service import list_inbound
from textopt.links.service import clicks_by_contact
from textopt.questions.service import list_questions
from textopt.web.auth import WebViewer
from textopt.web.pages_flows import contact_flows
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_PAGE = 50
_EVENTS = 20


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


@router.get("/app/contacts/{contact_id}")
def contact_page(
    request: Request, contact_id: RowId, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """One contact: details, consent now, the person's preferences and the ledger, every
    message, reply, the latest events and the questions messages asked."""
    contact = contacts.get_contact_or_raise(session, contact_id=contact_id)
    events = latest_events(session, contact_id=contact.id, limit=_EVENTS + 1)
    digest: Digester = request.app.state.digester
    states = sorted(consent.current_consent(session, contact_id=contact.id).items())
    suppressed = (  # a contact with only an email address has no number to suppress
        consent.suppression_reasons(session, digest=digest, phone=contact.phone, channel="sms")
        if contact.phone
        else []
    )
    return render(
        request,
        "contact.html",
        section="Contacts",
        contact=contact,
        states=states,
        preferences=read_preferences(session, contact_id=contact.id),
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
