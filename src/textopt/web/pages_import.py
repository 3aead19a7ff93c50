"""The CSV import: upload, the columns mapped in the page, the job's progress and result.

The upload is kept server side (`contacts.uploads`); the mapping page shows its headers
with what each is read as, a preview of its first rows, and a choice per column; the
import then runs as a background job (`contacts.importjobs`) whose page polls a small
JSON endpoint and shows the result once it ends, after a reload too.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from textopt.accounts.models import Scope
from textopt.config import Settings
from textopt.contacts import uploads
from textopt.contacts.csvfile import (
    ATTRIBUTE,
    IGNORED,
    MAPPING_TARGETS,
    named_target,
    open_rows,
    sniff_format,
    suggested_targets,
)
from textopt.contacts.importjobs import (
    ImportRunner,
    get_import_job,
    job_for_upload,
    list_import_jobs,
    start_import_job,
)
from textopt.contacts.models import ImportJob, ImportJobState
from textopt.errors import TextoptError, ValidationError
from textopt.http.deps import DbSession
from textopt.http.params import RowId
from textopt.web.auth import CsrfField, Viewer, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import choose_language, request_translator
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_PREVIEW_ROWS = 5
_SAMPLES = 3
_MAX_COLUMNS = 500  # a wider file is refused: its form would pass the 1,000 fields parsed


@router.get("/app/import")
def import_page(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """Upload a CSV; the latest imports below."""
    settings: Settings = request.app.state.settings
    return render(
        request,
        "import.html",
        section="Import",
        stage="upload",
        error=None,
        region=settings.default_region,
        jobs=list_import_jobs(session),
    )


@router.post("/app/import")
async def upload(request: Request, viewer: WebViewer, session: DbSession) -> HTMLResponse:
    """Keep the upload aside and show how its columns will be read.

    The session and its role are checked before a byte of the upload is read (form
    parameters would be read first); the body is bounded as it streams (`BodyGuard`).
    """
    viewer.require(Scope.WRITE)
    session.commit()  # on SQLite the request's transaction would hold the write lock
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
        path = stored.path
        return _mapping_page(request, token=stored.token, filename=stored.filename, region=region)
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
            error=translate_message(_, exc.message),
            region=region,
            jobs=[],
        )


def _mapping_page(
    request: Request,
    *,
    token: str,
    filename: str,
    region: str,
    chosen: Mapping[int, str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """The upload's columns, what each is read as (or was chosen), and its first rows."""
    path = uploads.stored_upload(request.app.state.settings, token=token)
    fmt = sniff_format(path)
    with path.open(encoding=fmt.encoding, newline="") as handle:
        header, rows = open_rows(handle, delimiter=fmt.delimiter)
        preview = [cells for _, cells in islice(rows, _PREVIEW_ROWS)]
    if not header:
        raise ValidationError(f"{filename} is empty: it has no header line", field="file")
    if len(header) > _MAX_COLUMNS:
        raise ValidationError(
            f"{filename} has {len(header)} columns; at most {_MAX_COLUMNS} are read",
            field="file",
        )
    targets = suggested_targets(header)
    if chosen:
        targets = [chosen.get(index, target) for index, target in enumerate(targets)]
    if error is None and not {"phone", "email"} & set(targets):
        error = "No column is read as the phone or the email: choose which one holds them."
    columns = [
        {
            "index": index,
            "header": name.replace("\ufeff", "").strip(),
            "target": targets[index],
            "samples": [
                row[index] for row in preview[:_SAMPLES] if index < len(row) and row[index]
            ],
        }
        for index, name in enumerate(header)
    ]
    width = len(header)
    _ = request_translator(request)
    return render(
        request,
        "import.html",
        status_code=422 if error and chosen is not None else 200,
        section="Import",
        stage="mapping",
        error=translate_message(_, error) if error else None,
        token=token,
        filename=filename,
        fmt=fmt,
        columns=columns,
        targets=MAPPING_TARGETS,
        preview=[(row + [""] * width)[:width] for row in preview],
        region=region,
    )


def _check_choices(request: Request, header: list[str], chosen: Mapping[int, str]) -> None:
    """Refuse, in the viewer's language, a field chosen twice or no phone and no email."""
    _ = request_translator(request)
    targets = [chosen.get(i, t) for i, t in enumerate(suggested_targets(header))]
    first: dict[str, int] = {}
    for index, target in enumerate(targets):
        if target in (ATTRIBUTE, IGNORED):
            continue
        if target in first:
            message = _(
                'Columns "{first}" and "{second}" are both read as {field}: choose '
                "something else for one of them."
            )
            raise ValidationError(
                message.format(
                    first=header[first[target]].strip(),
                    second=header[index].strip(),
                    field=_(f"field.{target}"),
                ),
                field="mapping",
            )
        first[target] = index
    if "phone" not in first and "email" not in first:
        raise ValidationError(
            _("No column is read as the phone or the email: choose which one holds them."),
            field="mapping",
        )


def _explicit_mapping(header: list[str], chosen: Mapping[int, str]) -> dict[str, str]:
    """The columns whose choice differs from what their name says, by header."""
    mapping: dict[str, str] = {}
    for index, target in chosen.items():
        name = header[index].replace("\ufeff", "").strip()
        if name and target != named_target(name):
            mapping[name] = target
    return mapping


@router.post("/app/import/{token}", response_model=None)
async def run_import(
    request: Request,
    token: str,
    viewer: WebViewer,
    session: DbSession,
    region: Annotated[str, Form(max_length=2)] = "",
    filename: Annotated[str, Form(max_length=200)] = "upload.csv",
    csrf_token: CsrfField = None,
) -> Response:
    """Start importing the upload with the mapping chosen (`map-<column>` fields); on to
    the job's page."""
    check_form(viewer, csrf_token, Scope.WRITE)
    session.commit()  # the import writes in its own sessions (SQLite: one writer)
    form = await request.form()  # already read for the fields above: the same form
    chosen = {
        int(key[4:]): value[:40]
        for key, value in form.items()
        if key.startswith("map-") and key[4:].isdigit() and isinstance(value, str) and value
    }
    return await run_in_threadpool(
        _start,
        request,
        viewer,
        token=token,
        filename=filename.replace("\x00", "").strip() or "upload.csv",
        region=region.replace("\x00", "").upper(),
        chosen=chosen,
    )


def _start(
    request: Request,
    viewer: Viewer,
    *,
    token: str,
    filename: str,
    region: str,
    chosen: dict[int, str],
) -> Response:
    settings: Settings = request.app.state.settings
    existing = job_for_upload(request.app.state.engine, token=token)
    if existing is not None:  # one job per upload: a second click leads to the first
        return RedirectResponse(f"/app/import/jobs/{existing.id}", status_code=303)
    path = uploads.stored_upload(settings, token=token)
    fmt = sniff_format(path)
    with path.open(encoding=fmt.encoding, newline="") as handle:
        header, _ = open_rows(handle, delimiter=fmt.delimiter)
    chosen = {index: target for index, target in chosen.items() if index < len(header)}
    runner: ImportRunner = request.app.state.import_runner
    try:
        _check_choices(request, header, chosen)
        job = start_import_job(
            request.app.state.engine,
            settings,
            actor=viewer.actor,
            runner=runner,
            token=token,
            filename=filename,
            region=region or None,
            mapping=_explicit_mapping(header, chosen),
        )
    except ValidationError as exc:
        return _mapping_page(
            request,
            token=token,
            filename=filename,
            region=region or settings.default_region,
            chosen=chosen,
            error=exc.message,
        )
    return RedirectResponse(f"/app/import/jobs/{job.id}", status_code=303)


def _percent(job: ImportJob) -> int:
    if job.state == ImportJobState.FINISHED:
        return 100
    if not job.rows_total:
        return 0
    return min(99, job.rows_done * 100 // job.rows_total)


@router.get("/app/import/jobs/{job_id}")
def job_page(
    request: Request, job_id: RowId, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """One import: its progress while it runs, then what it kept, rejected and warned of."""
    job = get_import_job(session, job_id=job_id)
    counts = ("rows_read", "created", "updated", "unchanged", "rejected", "warnings")
    result: dict[str, Any] = {
        **dict.fromkeys(counts, 0),
        "consents_recorded": 0,
        "rejected_by_reason": {},
        "warnings_by_reason": {},
        **(job.result or {}),
    }
    _ = request_translator(request)
    return render(
        request,
        "import_job.html",
        section="Import",
        job=job,
        error=translate_message(_, job.error) if job.error else None,
        percent=_percent(job),
        result=result,
        running=job.state == ImportJobState.RUNNING,
    )


@router.get("/app/import/jobs/{job_id}/progress")
def job_progress(
    request: Request, job_id: RowId, viewer: WebViewer, session: DbSession
) -> JSONResponse:
    """Where an import stands, for the progress bar of its page."""
    job = get_import_job(session, job_id=job_id)
    _ = request_translator(request)
    total = job.rows_total or 0
    body = {
        "state": job.state,
        "state_label": _(f"import_job.{job.state}"),
        "rows_done": job.rows_done,
        "rows_total": total,
        "percent": _percent(job),
        "label": _("{done} of {total} rows").format(
            done=_number(request, job.rows_done), total=_number(request, total)
        ),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _number(request: Request, value: int) -> str:
    """A count as the pages write it (a narrow space between thousands in French)."""
    french = choose_language(request, settings=request.app.state.settings) == "fr"
    return f"{value:,}".replace(",", "\u202f" if french else ",")


@router.get("/app/import/{token}/rejects")
def download_rejects(request: Request, token: str, viewer: WebViewer) -> Response:
    """The rejected rows and warnings of an import, as CSV with a reason column."""
    viewer.require(Scope.WRITE)
    path = uploads.rejects_file(request.app.state.settings, token=token)
    return FileResponse(path, media_type="text/csv", filename="rejects.csv")
