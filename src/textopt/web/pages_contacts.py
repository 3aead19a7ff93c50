"""Contacts: search, one contact's page, the printable consent proof, and the CSV import."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from textopt.accounts.models import Scope
from textopt.campaigns.overview import contact_messages
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.suppression import Digester
from textopt.contacts import service as contacts
from textopt.contacts import uploads
from textopt.contacts.csvfile import map_columns, open_rows, sniff_format
from textopt.db.base import utcnow
from textopt.dispatch.feedback import get_number_failures
from textopt.errors import TextoptError, ValidationError
from textopt.events.service import latest_events
from textopt.http.deps import DbSession
from textopt.http.params import After, RowId
from textopt.inbound.service import list_inbound
from textopt.links.service import clicks_by_contact
from textopt.web.auth import CsrfField, Viewer, WebViewer, check_form
from textopt.web.i18n import request_translator
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_PAGE = 50
_SAMPLES = 3
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
    """One contact: details, consent now and its history, every message, reply and the latest
    events."""
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
        suppressed=suppressed,
        failures=(
            get_number_failures(session, digest=digest, phone=contact.phone)
            if contact.phone
            else None
        ),
        ledger=consent.history(session, contact_id=contact.id),
        messages=contact_messages(session, contact_id=contact.id),
        inbound=list_inbound(session, contact_id=contact.id),
        clicks=clicks_by_contact(session, contact_id=contact.id),
        events=events[:_EVENTS],
        more_events=len(events) > _EVENTS,
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


@router.get("/app/import")
def import_page(request: Request, viewer: WebViewer) -> HTMLResponse:
    """Upload a CSV."""
    settings: Settings = request.app.state.settings
    return render(
        request,
        "import.html",
        section="Import",
        stage="upload",
        error=None,
        region=settings.default_region,
    )


@router.post("/app/import")
async def upload(request: Request, viewer: WebViewer) -> HTMLResponse:
    """Keep the upload aside and show how its columns will be read.

    The session and its role are checked before a byte of the upload is read (form
    parameters would be read first); the body is bounded as it streams (`BodyGuard`).
    """
    viewer.require(Scope.WRITE)
    form = await request.form(max_files=1, max_fields=8)
    try:
        token, file, region = form.get("csrf_token"), form.get("file"), form.get("region")
        check_form(viewer, token if isinstance(token, str) else None, Scope.WRITE)
        if not isinstance(file, FormFile):
            raise ValidationError("choose a CSV file", field="file")
        chosen = region if isinstance(region, str) and len(region) <= 2 else ""
        return await run_in_threadpool(
            _keep_upload, request, viewer=viewer, file=file, region=chosen
        )
    finally:
        await form.close()


def _keep_upload(request: Request, *, viewer: Viewer, file: FormFile, region: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    region = (region or settings.default_region).upper()
    path: Path | None = None
    try:
        stored = uploads.store_upload(
            settings, actor=viewer.actor, source=file.file, filename=file.filename
        )
        token, path, filename = stored.token, stored.path, stored.filename
        fmt = sniff_format(path)
        with path.open(encoding=fmt.encoding, newline="") as handle:
            header, rows = open_rows(handle, delimiter=fmt.delimiter)
            columns = map_columns(header, source=filename)
            samples = [cells for _, cells in islice(rows, _SAMPLES)]
    except TextoptError as exc:
        if path is not None:
            path.unlink(missing_ok=True)
        _ = request_translator(request)
        return render(
            request,
            "import.html",
            status_code=422,
            section="Import",
            stage="upload",
            error=_(exc.message),
            region=region,
        )
    targets = {index: name for name, index in columns.fields.items()}
    mapping = [
        (
            name,
            targets.get(index),
            [row[index] for row in samples if index < len(row) and row[index]],
        )
        for index, name in enumerate(header)
    ]
    return render(
        request,
        "import.html",
        section="Import",
        stage="mapping",
        error=None,
        token=token,
        filename=filename,
        fmt=fmt,
        mapping=mapping,
        region=region,
    )


@router.post("/app/import/{token}")
def run_import(
    request: Request,
    token: str,
    viewer: WebViewer,
    session: DbSession,
    region: Annotated[str, Form(max_length=2)] = "",
    filename: Annotated[str, Form(max_length=200)] = "upload.csv",
    csrf_token: CsrfField = None,
) -> HTMLResponse:
    """Import the upload: upsert on phone, batch by batch; rejects kept for download."""
    check_form(viewer, csrf_token, Scope.WRITE)
    # The import commits batch by batch in its own sessions: end this request's transaction
    # first (on SQLite it holds the write lock the import needs).
    session.commit()
    report = uploads.import_upload(
        request.app.state.engine,
        request.app.state.settings,
        actor=viewer.actor,
        token=token,
        filename=filename,
        region=region or None,
    )
    return render(
        request,
        "import.html",
        section="Import",
        stage="done",
        error=None,
        filename=filename,
        report=report,
        rejected=sum(report.rejected.values()),
        rejects_token=token if report.rejects_path else None,
    )


@router.get("/app/import/{token}/rejects")
def download_rejects(request: Request, token: str, viewer: WebViewer) -> Response:
    """The rejected rows and warnings of an import, as CSV with a reason column."""
    viewer.require(Scope.WRITE)
    path = uploads.rejects_file(request.app.state.settings, token=token)
    return FileResponse(path, media_type="text/csv", filename="rejects.csv")
