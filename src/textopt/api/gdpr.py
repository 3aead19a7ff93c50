"""`/v1/gdpr`: export everything about a person (art. 15), erase a person (art. 17).

POST with the number in the body, so that it never appears in a URL (and access logs).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.api.schemas import GdprExport
from textopt.config import Settings
from textopt.contacts.service import get_contact_by_phone_or_raise
from textopt.gdpr import service
from textopt.http.deps import AddressDigest, DbSession, get_settings_dep, require

router = APIRouter(prefix="/v1/gdpr", tags=["gdpr"])
Officer = Annotated[Actor, Depends(require(Scope.GDPR))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class PersonRequest(BaseModel):
    """The person, by number."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=40)


class EraseRequest(PersonRequest):
    """An erasure, with the reference of the request."""

    note: str | None = Field(default=None, max_length=500)


class ErasureRead(BaseModel):
    """What an erasure removed."""

    erased_contacts: list[int]
    proofs_deleted: int
    suppressed: list[str]
    files_deleted: int = Field(description="Uploads and rejects files that held the person")


@router.post("/export", response_model=GdprExport)
def export_person(
    body: PersonRequest,
    actor: Officer,
    session: DbSession,
    digest: AddressDigest,
    settings: AppSettings,
) -> dict[str, Any]:
    """Everything held about one person, as JSON."""
    contact = get_contact_by_phone_or_raise(
        session, phone=body.phone, default_region=settings.default_region
    )
    data = service.export_person(session, contact=contact, digest=digest)
    record_audit(
        session, actor=actor, action="gdpr.exported", target_type="contact", target_id=contact.id
    )
    return data


@router.post("/erase", response_model=ErasureRead)
def erase_person(
    body: EraseRequest, actor: Officer, session: DbSession, settings: AppSettings
) -> ErasureRead:
    """Erase a person, and the files holding them; the number stays suppressed as a keyed hash.

    Cannot be undone.
    """
    contact = get_contact_by_phone_or_raise(
        session, phone=body.phone, default_region=settings.default_region
    )
    report = service.erase_person(session, contact=contact, note=body.note, settings=settings)
    record_audit(
        session,
        actor=actor,
        action="gdpr.erased",
        target_type="contact",
        target_id=report.contact_ids[0],
        detail={
            "note": body.note,
            "suppressed": report.suppressed,
            "files_deleted": report.files_deleted,
        },
    )
    return ErasureRead(
        erased_contacts=report.contact_ids,
        proofs_deleted=report.proofs_deleted,
        suppressed=report.suppressed,
        files_deleted=report.files_deleted,
    )
