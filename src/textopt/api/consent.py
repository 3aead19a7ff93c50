"""`/v1/contacts/{id}/consent` and `/v1/consent`: grant, revoke, history, verify, texts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.consent import service
from textopt.consent.models import ConsentAction, ConsentEvent, ConsentProof, ConsentSource
from textopt.contacts.service import get_contact_or_raise
from textopt.errors import ValidationError
from textopt.http.deps import (
    AddressDigest,
    CurrentActor,
    DbSession,
    client_ip,
    get_digester_dep,
    require,
)
from textopt.http.params import RowId
from textopt.vocab import Channel, Purpose

router = APIRouter(prefix="/v1", tags=["consent"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]


class ConsentRequest(BaseModel):
    """A grant or a revocation to record in the ledger, with what proves it."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Channel.SMS
    purpose: Purpose = Purpose.MARKETING
    source: ConsentSource = ConsentSource.API
    occurred_at: dt.datetime | None = Field(
        default=None, description="When the person acted (ISO 8601 with offset); default now"
    )
    consent_text_version: str | None = Field(default=None, max_length=64)
    proof: dict[str, Any] = Field(
        default_factory=dict, description="How it was obtained: form URL, IP, note..."
    )


class ConsentEventRead(BaseModel):
    """One ledger event."""

    event: int
    channel: str
    purpose: str
    action: str
    source: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    consent_text_version: str | None
    hash: str
    proof: dict[str, Any] | None = Field(description="null once erased")


class ConsentHistory(BaseModel):
    """A contact's ledger events and current state per channel/purpose."""

    contact_id: RowId
    current: dict[str, str]
    events: list[ConsentEventRead]


class LedgerReportRead(BaseModel):
    """What verifying the whole chain found."""

    ok: bool
    events_checked: int
    proofs_checked: int
    proofs_erased: int
    first_broken_id: int | None
    states_checked: int = Field(description="derived states recomputed from the ledger")
    problems: list[str] = Field(description="chain breaks, then states differing from it")


class ConsentTextCreate(BaseModel):
    """A consent text version (never changed once registered)."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=10_000)
    channel: Channel = Channel.SMS
    purpose: Purpose = Purpose.MARKETING
    language: str = Field(default="fr", min_length=2, max_length=8)


class ConsentTextRead(BaseModel):
    """A registered consent text."""

    model_config = ConfigDict(from_attributes=True)

    version: str
    channel: str
    purpose: str
    language: str
    body: str
    created_at: dt.datetime


def _event(event: ConsentEvent, proof: ConsentProof | None = None) -> ConsentEventRead:
    return ConsentEventRead(
        event=event.id,
        channel=event.channel,
        purpose=event.purpose,
        action=event.action,
        source=event.source,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        consent_text_version=event.consent_text_version,
        hash=event.hash,
        proof=proof.data if proof is not None else None,
    )


def _record(
    action: ConsentAction,
    contact_id: RowId,
    body: ConsentRequest,
    actor: Actor,
    request: Request,
    session: DbSession,
) -> ConsentEventRead:
    if body.occurred_at is not None and body.occurred_at.tzinfo is None:
        raise ValidationError("occurred_at needs a time zone offset", field="occurred_at")
    contact = get_contact_or_raise(session, contact_id=contact_id)
    # the address the consent is about: the channel's own, else the one the contact has
    if (body.channel == Channel.EMAIL and contact.email) or not contact.phone:
        key, address = "email", contact.email
    else:
        key, address = "phone", contact.phone
    proof: dict[str, Any] = {key: address, "recorded_by": actor.label}
    proof.setdefault("api_client_ip", client_ip(request))
    proof.update(body.proof)
    event = service.record_consent(
        session,
        digest=get_digester_dep(request),
        contact_id=contact.id,
        channel=body.channel,
        purpose=body.purpose,
        action=action,
        source=body.source,
        occurred_at=body.occurred_at,
        consent_text_version=body.consent_text_version,
        proof=proof,
    )
    return _event(event)


@router.post(
    "/contacts/{contact_id}/consent/grant", response_model=ConsentEventRead, status_code=201
)
def grant(
    contact_id: RowId, body: ConsentRequest, actor: Writer, request: Request, session: DbSession
) -> ConsentEventRead:
    """Record that the contact gave consent (refused for a suppressed number)."""
    return _record(ConsentAction.GRANTED, contact_id, body, actor, request, session)


@router.post(
    "/contacts/{contact_id}/consent/revoke", response_model=ConsentEventRead, status_code=201
)
def revoke(
    contact_id: RowId, body: ConsentRequest, actor: Writer, request: Request, session: DbSession
) -> ConsentEventRead:
    """Record that the contact withdrew consent (honoured at once)."""
    return _record(ConsentAction.REVOKED, contact_id, body, actor, request, session)


@router.get("/contacts/{contact_id}/consent", response_model=ConsentHistory)
def history(contact_id: RowId, actor: CurrentActor, session: DbSession) -> ConsentHistory:
    """The contact's ledger events in chain order, and the current state."""
    contact = get_contact_or_raise(session, contact_id=contact_id)
    current = {
        f"{channel}/{purpose}": state.status
        for (channel, purpose), state in service.current_consent(
            session, contact_id=contact.id
        ).items()
    }
    events = [_event(e, p) for e, p in service.history(session, contact_id=contact.id)]
    return ConsentHistory(contact_id=contact.id, current=current, events=events)


@router.get("/consent/verify", response_model=LedgerReportRead)
def verify(actor: CurrentActor, session: DbSession, digest: AddressDigest) -> LedgerReportRead:
    """Recompute the whole hash chain and every proof digest."""
    report = service.verify_ledger(session, digest=digest)
    return LedgerReportRead(
        ok=report.ok,
        events_checked=report.events_checked,
        proofs_checked=report.proofs_checked,
        proofs_erased=report.proofs_erased,
        first_broken_id=report.first_broken_id,
        states_checked=report.states_checked,
        problems=report.problems,
    )


@router.get("/consent/texts", response_model=list[ConsentTextRead])
def list_texts(actor: CurrentActor, session: DbSession) -> list[ConsentTextRead]:
    """Every registered consent text."""
    return [ConsentTextRead.model_validate(t) for t in service.list_consent_texts(session)]


@router.post("/consent/texts", response_model=ConsentTextRead, status_code=201)
def add_text(body: ConsentTextCreate, actor: Writer, session: DbSession) -> ConsentTextRead:
    """Register the exact text people are shown under a version name."""
    text = service.add_consent_text(session, **body.model_dump())
    return ConsentTextRead.model_validate(text)
