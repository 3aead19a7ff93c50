"""The events CSV import: upload a file of past events (orders shipped, appointments), every
row checked, all recorded or none, the refused rows listed in the viewer's language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from textopt.accounts.models import Scope
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import TextoptError, ValidationError
from textopt.events.importer import EventImportReport, import_events_upload
from textopt.http.deps import DbSession
from textopt.web.auth import Viewer, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import request_translator
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_SHOWN_ERRORS = 200  # the rest are counted, not listed: the file is fixed and sent again


@router.get("/app/events/import")
def events_import_page(request: Request, viewer: WebViewer) -> HTMLResponse:
    """Upload an events CSV."""
    return _page(request, report=None, error=None)


@router.post("/app/events/import")
async def events_import_upload(
    request: Request, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """Check every row of the uploaded file, then record all its events or none.

    The session and its role are checked before a byte of the upload is read; the body is
    bounded as it streams (`BodyGuard`).
    """
    viewer.require(Scope.EVENTS)
    session.commit()  # on SQLite the request's transaction would hold the write lock
    form = await request.form(max_files=1, max_fields=8)
    try:
        token, file, region = form.get("csrf_token"), form.get("file"), form.get("region")
        check_form(viewer, token if isinstance(token, str) else None, Scope.EVENTS)
        if not isinstance(file, FormFile):
            raise ValidationError("choose a CSV file", field="file")
        chosen = region if isinstance(region, str) and len(region) <= 2 else ""
        return await run_in_threadpool(_import, request, viewer=viewer, file=file, region=chosen)
    finally:
        await form.close()


def _import(request: Request, *, viewer: Viewer, file: FormFile, region: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    try:
        with session_scope(request.app.state.engine) as session:
            report = import_events_upload(
                session,
                source=file.file,
                filename=file.filename,
                default_region=(region or settings.default_region).upper(),
                secret=settings.resolved_secret_key(),
                actor=viewer.actor,
                now=utcnow(),
            )
    except TextoptError as exc:  # the file as a whole: no column of contacts, not a CSV…
        _ = request_translator(request)
        return _page(request, report=None, error=translate_message(_, exc.message), status=422)
    return _page(request, report=report, error=None, status=200 if report.committed else 422)


def _page(
    request: Request, *, report: EventImportReport | None, error: str | None, status: int = 200
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    _ = request_translator(request)
    errors = []
    if report is not None:
        errors = [
            {"line": e.line, "column": e.column, "message": translate_message(_, e.message)}
            for e in report.errors[:_SHOWN_ERRORS]
        ]
    return render(
        request,
        "events_import.html",
        status_code=status,
        section="Import",
        report=report,
        errors=errors,
        more_errors=len(report.errors) - len(errors) if report is not None else 0,
        error=error,
        region=settings.default_region,
    )
