"""`/v1/contacts`: CRUD, tags, CSV import upload with its rejects report, CSV export."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    Query,
    Request,
    Response,
)
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as FormFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.api.pagination import Page, page_from_list
from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.consent.preferences import read_preferences
from textopt.contacts import importjobs, service, uploads
from textopt.contacts.export import export_contacts
from textopt.contacts.models import Contact, ImportJob, ImportJobState
from textopt.contacts.schemas import ContactCreate, ContactRead, ContactUpdate
from textopt.errors import ValidationError
from textopt.http.deps import (
    CurrentActor,
    DbSession,
    get_settings_dep,
    require,
    require_detached,
)
from textopt.http.params import After, Limit, RowId

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]
DetachedWriter = Annotated[Actor, Depends(require_detached(Scope.WRITE))]
Exporter = Annotated[Actor, Depends(require(Scope.GDPR))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class ConsentStateRead(BaseModel):
    """The current consent for one channel and purpose."""

    channel: str
    purpose: str
    status: str
    source: str
    since: str


class PreferencesRead(BaseModel):
    """What the person chose to receive on one channel (the preference centre)."""

    channel: str
    has_address: bool = Field(description="The contact has a number (SMS) or an address (email)")
    promotions: Literal["subscribed", "pending", "stopped", "none"]
    reminders: bool = Field(description="Transactional messages (reminders, order updates) kept")
    frequency: Literal["2-a-month", "1-a-week"] | None = Field(
        description="The person's own marketing limit; null: the workspace's caps alone"
    )


class ContactDetail(ContactRead):
    """A contact with its current consent and preferences."""

    consent: list[ConsentStateRead] = Field(default_factory=list)
    preferences: list[PreferencesRead] = Field(default_factory=list)


class TagsRequest(BaseModel):
    """Tags to add."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(min_length=1, max_length=100)


class ImportCounts(BaseModel):
    """What an import read, kept, rejected and warned of (`textopt contacts import --json`)."""

    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejected_by_reason: dict[str, int]
    warnings: int
    warnings_by_reason: dict[str, int]
    consents_recorded: int
    batches_committed: int
    encoding: str
    delimiter: str


class ImportResult(ImportCounts):
    """The same report as `textopt contacts import --json`, with where to fetch the rejects."""

    rejects_url: str | None = Field(description="CSV of rejected rows and warnings, if any")


class ImportJobRead(BaseModel):
    """An import running in the background, or how it ended.

    `result` counts the batches committed so far: after `failed` or `interrupted` it is
    exactly what was kept.
    """

    id: int
    state: ImportJobState = Field(description="running, finished, failed or interrupted")
    filename: str
    mapping: dict[str, str] = Field(description="column → field, `attribute` or `ignore`")
    rows_done: int
    rows_total: int | None = Field(description="estimated from the file's line count")
    result: ImportCounts | None
    error: str | None = Field(description="why it failed or was interrupted")
    rejects_url: str | None = Field(description="CSV of rejected rows and warnings, if any")
    created_at: dt.datetime
    finished_at: dt.datetime | None


def _read(contact: Contact) -> ContactRead:
    return ContactRead.model_validate(contact)


def _detail(session: Session, contact: Contact) -> ContactDetail:
    states = consent_service.current_consent(session, contact_id=contact.id)
    consent = [
        ConsentStateRead(
            channel=channel,
            purpose=purpose,
            status=state.status,
            source=state.source,
            since=state.since.isoformat(),
        )
        for (channel, purpose), state in sorted(states.items())
    ]
    detail = ContactDetail.model_validate(contact)
    detail.consent = consent
    detail.preferences = [
        PreferencesRead.model_validate(p.as_dict())
        for p in read_preferences(session, contact_id=contact.id)
    ]
    return detail


@router.get("", response_model=Page[ContactRead])
def list_contacts(
    actor: CurrentActor,
    session: DbSession,
    after: After = None,
    limit: Limit = 50,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ContactRead]:
    """Contacts by ascending id, filtered by tag, country or text."""
    rows = service.list_contacts(
        session, tag=tag, country=country, search=search, limit=limit + 1, after_id=after
    )
    return page_from_list(rows, limit=limit, convert=_read)


@router.post("", response_model=ContactDetail, status_code=201)
def create_contact(
    body: ContactCreate, actor: Writer, session: DbSession, settings: AppSettings
) -> ContactDetail:
    """Add a contact (the number in any notation; stored in E.164)."""
    contact = service.create_contact(
        session, default_region=settings.default_region, **body.model_dump()
    )
    return _detail(session, contact)


def csv_upload_body(file: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a CSV upload: `file` described, `region`, then `fields`."""
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": file},
        "region": {"type": "string", "maxLength": 2},
        **fields,
    }
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


_IMPORT_BODY = csv_upload_body(
    "CSV (`,` `;` or tab; UTF-8 or Latin-1)",
    mapping={
        "type": "string",
        "description": (
            "JSON object: column header → field, `attribute` or "
            '`ignore`, e.g. `{"Numéro client": "phone"}`; columns not '
            "named are read by their header"
        ),
    },
)


async def upload_form(request: Request) -> FormData:
    """The multipart form of an upload, read only now that the caller is known."""
    try:
        return await request.form(max_files=1, max_fields=8)
    except StarletteHTTPException:  # the body passed its limit (413)
        raise
    except Exception as exc:  # not multipart at all, or a broken envelope
        raise ValidationError("send the CSV as multipart/form-data `file`", field="file") from exc


def _upload_fields(form: FormData) -> tuple[FormFile, str | None, dict[str, str]]:
    file, region = form.get("file"), form.get("region")
    if not isinstance(file, FormFile):
        raise ValidationError("send the CSV as multipart/form-data `file`", field="file")
    if region is not None and (not isinstance(region, str) or len(region) > 2):
        raise ValidationError("region: a two-letter country code", field="region")
    return file, region or None, _mapping(form.get("mapping"))


def _mapping(raw: object) -> dict[str, str]:
    """The `mapping` form field: a JSON object of column → field, or nothing."""
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(
            'mapping: a JSON object of column → field, e.g. {"Numéro client": "phone"}',
            field="mapping",
        )
    return value


@router.post("/import", response_model=ImportResult, openapi_extra=_IMPORT_BODY)
async def import_upload(
    request: Request, actor: DetachedWriter, settings: AppSettings
) -> ImportResult:
    """Import a CSV: upsert on phone, one transaction per batch, rejects reported by line.

    The caller is authenticated before a byte of the body is read; the body's size is
    bounded as it streams (`BodyGuard`).
    """
    form = await upload_form(request)
    try:
        file, region, mapping = _upload_fields(form)
        return await run_in_threadpool(
            _import_file,
            request,
            actor=actor,
            settings=settings,
            file=file,
            region=region,
            mapping=mapping,
        )
    finally:
        await form.close()


def _import_file(
    request: Request,
    *,
    actor: Actor,
    settings: Settings,
    file: FormFile,
    region: str | None,
    mapping: dict[str, str],
) -> ImportResult:
    stored = uploads.store_upload(settings, actor=actor, source=file.file, filename=file.filename)
    report = uploads.import_upload(
        request.app.state.engine,
        settings,
        actor=actor,
        token=stored.token,
        filename=stored.filename,
        region=region,
        mapping=mapping,
    )
    data: dict[str, Any] = report.to_dict()
    data["rejects_url"] = (
        f"/v1/contacts/imports/{stored.token}/rejects" if report.rejects_path else None
    )
    return ImportResult(**{k: v for k, v in data.items() if k in ImportResult.model_fields})


def _job_read(job: ImportJob) -> ImportJobRead:
    counts = job.result
    return ImportJobRead(
        id=job.id,
        state=ImportJobState(job.state),
        filename=job.filename,
        mapping=job.mapping,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        result=ImportCounts.model_validate(counts) if counts else None,
        error=job.error,
        rejects_url=(
            f"/v1/contacts/imports/{job.upload_token}/rejects" if job.has_rejects else None
        ),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.post(
    "/import-jobs", response_model=ImportJobRead, status_code=202, openapi_extra=_IMPORT_BODY
)
async def start_import_job(
    request: Request, actor: DetachedWriter, settings: AppSettings
) -> ImportJobRead:
    """Import a CSV in the background: answers at once with the job to follow.

    The upload and its mapping are checked first (422 naming the column); the rows are
    then imported batch by batch while `GET /v1/contacts/import-jobs/{job_id}` tells the
    progress and, at the end, the report.
    """
    form = await upload_form(request)
    try:
        file, region, mapping = _upload_fields(form)
        return await run_in_threadpool(
            _start_job,
            request,
            actor=actor,
            settings=settings,
            file=file,
            region=region,
            mapping=mapping,
        )
    finally:
        await form.close()


def _start_job(
    request: Request,
    *,
    actor: Actor,
    settings: Settings,
    file: FormFile,
    region: str | None,
    mapping: dict[str, str],
) -> ImportJobRead:
    stored = uploads.store_upload(settings, actor=actor, source=file.file, filename=file.filename)
    try:
        job = importjobs.start_import_job(
            request.app.state.engine,
            settings,
            actor=actor,
            runner=request.app.state.import_runner,
            token=stored.token,
            filename=stored.filename,
            region=region,
            mapping=mapping,
        )
    except BaseException:
        stored.path.unlink(missing_ok=True)  # refused: nobody will import it
        raise
    return _job_read(job)


@router.get("/import-jobs/{job_id}", response_model=ImportJobRead)
def get_import_job(job_id: RowId, actor: CurrentActor, session: DbSession) -> ImportJobRead:
    """An import job: its state, progress and (so far or at the end) its report."""
    return _job_read(importjobs.get_import_job(session, job_id=job_id))


@router.get(
    "/imports/{token}/rejects",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def import_rejects(token: str, actor: Writer, settings: AppSettings) -> FileResponse:
    """The rejected rows and warnings of an import, as CSV with a reason column."""
    path = uploads.rejects_file(settings, token=token)
    return FileResponse(path, media_type="text/csv", filename="rejects.csv")


@router.get("/export", response_class=FileResponse, responses={200: {"content": {"text/csv": {}}}})
def export(
    actor: Exporter,
    session: DbSession,
    settings: AppSettings,
    tag: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """Every contact (or those with `tag`) as CSV in the columns the import reads."""
    uploads.purge_expired_files(settings)
    folder = uploads.upload_folder(settings)
    path = folder / f"export-{secrets.token_urlsafe(12)}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        result = export_contacts(session, out=handle, tag=tag)
    record_audit(
        session,
        actor=actor,
        action="contacts.exported",
        target_type="contacts",
        detail={"rows": result.rows, "tag": tag},
    )
    return FileResponse(
        path,
        media_type="text/csv",
        filename="contacts.csv",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/{contact_id}", response_model=ContactDetail)
def get_contact(contact_id: RowId, actor: CurrentActor, session: DbSession) -> ContactDetail:
    """One contact with its current consent."""
    return _detail(session, service.get_contact_or_raise(session, contact_id=contact_id))


@router.patch("/{contact_id}", response_model=ContactDetail)
def update_contact(
    contact_id: RowId,
    body: ContactUpdate,
    actor: Writer,
    session: DbSession,
    settings: AppSettings,
) -> ContactDetail:
    """Change the fields given; a field set to null is cleared (not the phone)."""
    changes = body.model_dump(exclude_unset=True)
    if "phone" in changes and changes["phone"] is None:
        raise ValidationError("the phone number cannot be cleared", field="phone")
    if "attributes" in changes and changes["attributes"] is None:
        changes["attributes"] = {}
    if "is_customer" in changes and changes["is_customer"] is None:
        raise ValidationError("is_customer is true or false", field="is_customer")
    contact = service.update_contact(
        session, contact_id=contact_id, default_region=settings.default_region, **changes
    )
    return _detail(session, contact)


@router.delete("/{contact_id}", status_code=204)
def delete_contact(contact_id: RowId, actor: Writer, session: DbSession) -> Response:
    """Delete a contact without consent history (otherwise: GDPR erasure)."""
    service.delete_contact(session, contact_id=contact_id)
    return Response(status_code=204)


@router.post("/{contact_id}/tags", response_model=ContactDetail)
def add_tags(
    contact_id: RowId, body: TagsRequest, actor: Writer, session: DbSession
) -> ContactDetail:
    """Add tags to a contact."""
    service.tag_contacts(session, contact_ids=[contact_id], tags=body.tags)
    return _detail(session, service.get_contact_or_raise(session, contact_id=contact_id))


@router.delete("/{contact_id}/tags/{tag}", response_model=ContactDetail)
def remove_tag(contact_id: RowId, tag: str, actor: Writer, session: DbSession) -> ContactDetail:
    """Remove one tag from a contact."""
    service.untag_contacts(session, contact_ids=[contact_id], tags=[tag])
    return _detail(session, service.get_contact_or_raise(session, contact_id=contact_id))
