"""Flows: the list with each flow's counts, one flow's page (state, stats per step of each
version, its latest occurrences), the step list editor with a preview for a chosen contact,
and activate, pause, archive.

Reading needs `read`; the editor needs `write`; changing a flow's state needs `launch`.
Saving a flow that has run makes a new version: occurrences already started keep theirs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from textopt.accounts.models import Scope
from textopt.config import Settings
from textopt.contacts import service as contacts
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.db.ids import parse_id
from textopt.errors import TextoptError, ValidationError
from textopt.flows import commands, service
from textopt.flows.definition import ASKS, StepKind, TriggerKind, parse_definition
from textopt.flows.listing import flow_summaries
from textopt.flows.models import FLOW_TRANSITIONS, Flow, FlowState
from textopt.flows.preview import PreviewStep, preview_flow
from textopt.flows.stats import flow_stats
from textopt.http.deps import DbSession
from textopt.http.params import RowId
from textopt.vocab import Channel, Purpose
from textopt.web.auth import CsrfField, Viewer, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.flow_form import STEP_FIELDS, FlowForm, field_id, step_of
from textopt.web.i18n import Translate, request_translator
from textopt.web.reasons import reason_sentence
from textopt.web.rendering import render

__all__ = ["contact_flows", "flow_reason", "router"]

router = APIRouter(include_in_schema=False)
_NOTICES = ("created", "versioned", "unchanged", "active", "paused", "archived")
_RUNS = 20
_ACTIONS = {
    FlowState.ACTIVE: commands.activate_flow,
    FlowState.PAUSED: commands.pause_flow,
    FlowState.ARCHIVED: commands.archive_flow,
}


def flow_reason(_: Translate, code: str | None) -> str:
    """Why an occurrence left a step or a message was not sent, in the viewer's words."""
    if not code:
        return ""
    key = f"flow_exit.{code}"
    translated = _(key)
    return translated if translated != key else reason_sentence(_, code)


def _notice(request: Request, notice: str | None) -> str | None:
    return request_translator(request)(f"flows.{notice}") if notice in _NOTICES else None


@router.get("/app/flows")
def flows_page(
    request: Request, viewer: WebViewer, session: DbSession, notice: str | None = None
) -> HTMLResponse:
    """Every flow with its state, version and counts."""
    return render(
        request,
        "flows.html",
        section="Flows",
        summaries=flow_summaries(session),
        notice=_notice(request, notice),
    )


@router.get("/app/flows/new")
def new_flow_page(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """The editor, empty but for one send step."""
    viewer.require(Scope.WRITE)
    return _editor(request, session, flow=None, form=FlowForm())


@router.post("/app/flows/new")
async def new_flow(request: Request, viewer: WebViewer, session: DbSession) -> Response:
    """The editor's buttons: change the steps, preview, or create the flow (in draft)."""
    return await _submit(request, viewer, session, flow=None)


@router.get("/app/flows/{flow_id}")
def flow_page(
    flow_id: RowId,
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    notice: str | None = None,
) -> HTMLResponse:
    """One flow: its state and actions, its steps, stats per step, latest occurrences."""
    flow = service.get_flow_or_raise(session, name_or_id=flow_id)
    runs = service.list_runs(session, flow_id=flow.id, limit=_RUNS)
    names = _contacts_by_id(session, {run.contact_id for run in runs})
    definition = service.latest_version(session, flow=flow).definition
    return render(
        request,
        "flow.html",
        section="Flows",
        flow=flow,
        definition=definition,
        stats=flow_stats(session, flow=flow),
        runs=runs,
        names=names,
        transitions=sorted(str(s) for s in FLOW_TRANSITIONS[FlowState(flow.state)]),
        flow_reason=lambda code: flow_reason(request_translator(request), code),
        notice=_notice(request, notice),
    )


def contact_flows(request: Request, session: DbSession, *, contact_id: int) -> dict[str, Any]:
    """What the contact page shows of a contact's flows: the latest occurrences, each
    flow's name, and the words of an exit reason (two reads)."""
    runs = service.list_runs(session, contact_id=contact_id, limit=_RUNS)
    ids = {run.flow_id for run in runs}
    names = dict(session.execute(select(Flow.id, Flow.name).where(Flow.id.in_(ids))).all())
    translate = request_translator(request)
    return {
        "runs": runs,
        "flow_names": names,
        "flow_reason": lambda code: flow_reason(translate, code),
    }


def _contacts_by_id(session: DbSession, ids: set[int]) -> dict[int, str]:
    """How each contact is shown in a list of occurrences (one read)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Contact.id, Contact.first_name, Contact.phone, Contact.email).where(
            Contact.id.in_(ids)
        )
    )
    return {
        cid: " ".join(p for p in (first, phone or email) if p) for cid, first, phone, email in rows
    }


@router.get("/app/flows/{flow_id}/edit")
def edit_flow_page(
    flow_id: RowId, request: Request, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """The editor, filled with the flow's latest version."""
    viewer.require(Scope.WRITE)
    flow = service.get_flow_or_raise(session, name_or_id=flow_id)
    form = FlowForm.from_definition(service.latest_version(session, flow=flow).definition)
    return _editor(request, session, flow=flow, form=form)


@router.post("/app/flows/{flow_id}/edit")
async def edit_flow(
    flow_id: RowId, request: Request, viewer: WebViewer, session: DbSession
) -> Response:
    """The editor's buttons: change the steps, preview, or save a new version."""
    flow = service.get_flow_or_raise(session, name_or_id=flow_id)
    return await _submit(request, viewer, session, flow=flow)


def _change(
    flow_id: int, state: FlowState, viewer: Viewer, session: DbSession, token: str | None
) -> Response:
    check_form(viewer, token, Scope.LAUNCH)
    _ACTIONS[state](session, actor=viewer.actor, name_or_id=flow_id, now=utcnow())
    return RedirectResponse(f"/app/flows/{flow_id}?notice={state}", status_code=303)


@router.post("/app/flows/{flow_id}/activate")
def activate_flow(
    flow_id: RowId, viewer: WebViewer, session: DbSession, csrf_token: CsrfField = None
) -> Response:
    """Start a flow: its trigger reads from now on."""
    return _change(flow_id, FlowState.ACTIVE, viewer, session, csrf_token)


@router.post("/app/flows/{flow_id}/pause")
def pause_flow(
    flow_id: RowId, viewer: WebViewer, session: DbSession, csrf_token: CsrfField = None
) -> Response:
    """Pause a flow: nothing starts, nothing moves until it is activated again."""
    return _change(flow_id, FlowState.PAUSED, viewer, session, csrf_token)


@router.post("/app/flows/{flow_id}/archive")
def archive_flow(
    flow_id: RowId, viewer: WebViewer, session: DbSession, csrf_token: CsrfField = None
) -> Response:
    """End a flow for good; its open occurrences exit."""
    return _change(flow_id, FlowState.ARCHIVED, viewer, session, csrf_token)


async def _submit(
    request: Request, viewer: Viewer, session: DbSession, *, flow: Flow | None
) -> Response:
    raw = await request.form()
    token = raw.get("csrf_token")
    check_form(viewer, token if isinstance(token, str) else None, Scope.WRITE)
    fields = {key: value for key, value in raw.items() if isinstance(value, str)}
    form = FlowForm.from_fields(fields)
    op = fields.get("op", "save")
    if form.apply(op):
        return _editor(request, session, flow=flow, form=form)
    if op == "preview":
        return _preview(request, session, flow=flow, form=form)
    try:
        with session.begin_nested():
            if flow is None:
                created = commands.create_flow(
                    session, actor=viewer.actor, definition=form.to_data(), now=utcnow()
                )
                target, notice = created.id, "created"
            else:
                _, version = commands.add_flow_version(
                    session,
                    actor=viewer.actor,
                    name_or_id=flow.id,
                    definition=form.to_data(),
                    now=utcnow(),
                )
                target, notice = flow.id, "versioned" if version is not None else "unchanged"
    except TextoptError as exc:
        if flow is not None:
            session.refresh(flow)
        return _editor(request, session, flow=flow, form=form, error=exc)
    return RedirectResponse(f"/app/flows/{target}?notice={notice}", status_code=303)


def _find_contact(session: DbSession, settings: Settings, given: str) -> Contact:
    number = parse_id(given) if given.isdigit() else None
    if number is not None:
        return contacts.get_contact_or_raise(session, contact_id=number)
    return contacts.get_contact_by_address_or_raise(
        session, address=given, default_region=settings.default_region
    )


def _preview(
    request: Request, session: DbSession, *, flow: Flow | None, form: FlowForm
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        definition = parse_definition(form.to_data())
    except TextoptError as exc:
        return _editor(request, session, flow=flow, form=form, error=exc)
    try:  # whatever the lookup says, it is said beside the contact's field
        if not form.contact:
            raise ValidationError("choose a contact to preview the flow for", field="contact")
        contact = _find_contact(session, settings, form.contact)
    except TextoptError as exc:
        return _editor(request, session, flow=flow, form=form, error=exc, at="contact")
    try:
        steps = preview_flow(
            session, settings=settings, definition=definition, contact=contact, now=utcnow()
        )
    except TextoptError as exc:
        return _editor(request, session, flow=flow, form=form, error=exc)
    return _editor(request, session, flow=flow, form=form, preview=steps, contact=contact)


def _editor(
    request: Request,
    session: DbSession,
    *,
    flow: Flow | None,
    form: FlowForm,
    error: TextoptError | None = None,
    preview: list[PreviewStep] | None = None,
    contact: Contact | None = None,
    at: str | None = None,
) -> HTMLResponse:
    """The editor page; `error` beside the field its path names (or `at`)."""
    _ = request_translator(request)
    where = at or (field_id(error.field) if error is not None else "")
    context: dict[str, Any] = {
        "flow": flow,
        "form": form,
        "error": translate_message(_, error.message) if error is not None else None,
        "error_field": where,
        "error_step": step_of(error.field) if error is not None else None,
        "trigger_kinds": [str(k) for k in TriggerKind],
        "step_kinds": [str(k) for k in StepKind],
        "step_fields": STEP_FIELDS,
        "channels": [str(c) for c in Channel],
        "purposes": [str(p) for p in Purpose],
        "asks": ASKS,
        "preview": preview,
        "contact": contact,
        "flow_reason": lambda code: flow_reason(_, code),
        "sentence": lambda text: translate_message(_, text) if text else "",
    }
    return render(
        request,
        "flow_edit.html",
        status_code=422 if error is not None else 200,
        section="Flows",
        **context,
    )
