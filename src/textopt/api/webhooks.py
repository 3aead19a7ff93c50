"""`/v1/webhooks`: endpoints of your own systems, their deliveries and attempts (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.api.pagination import Page
from textopt.config import Settings
from textopt.http.deps import DbSession, get_settings_dep, require
from textopt.http.params import After, Limit, RowId
from textopt.webhooks import service
from textopt.webhooks.models import WebhookEndpoint, WebhookEvent
from textopt.webhooks.targets import TargetGuard

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Actor, Depends(require(Scope.ADMIN))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class EndpointCreate(BaseModel):
    """Where to POST which events."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL of your receiver")
    events: list[WebhookEvent] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=200)


class EndpointRead(BaseModel):
    """An endpoint (its secret is never shown again)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    description: str | None
    created_at: dt.datetime


class EndpointCreated(EndpointRead):
    """A new endpoint with its signing secret: shown this once."""

    secret: str


class AttemptRead(BaseModel):
    """One POST of a delivery."""

    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    """One event for one endpoint, with every attempt."""

    id: int
    event: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, object]
    log: list[AttemptRead]


def _read(endpoint: WebhookEndpoint) -> EndpointRead:
    return EndpointRead.model_validate(endpoint)


@router.get("", response_model=list[EndpointRead])
def list_endpoints(actor: Admin, session: DbSession) -> list[EndpointRead]:
    """Every endpoint."""
    return [_read(e) for e in service.list_endpoints(session)]


@router.post("", response_model=EndpointCreated, status_code=201)
def create_endpoint(
    body: EndpointCreate, actor: Admin, session: DbSession, settings: AppSettings
) -> EndpointCreated:
    """Register an endpoint; the answer holds its signing secret, shown once."""
    endpoint, secret = service.create_endpoint(
        session,
        url=body.url,
        events=[str(e) for e in body.events],
        description=body.description,
        workspace_key=settings.resolved_secret_key(),
        guard=TargetGuard.from_networks(settings.webhook_allowed_networks),
    )
    record_audit(
        session,
        actor=actor,
        action="webhook.created",
        target_type="webhook",
        target_id=endpoint.id,
        detail={"url": endpoint.url, "events": endpoint.events},
    )
    return EndpointCreated(**_read(endpoint).model_dump(), secret=secret)


@router.delete("/{endpoint_id}", response_model=EndpointRead)
def delete_endpoint(endpoint_id: RowId, actor: Admin, session: DbSession) -> EndpointRead:
    """Deactivate an endpoint; its pending deliveries are given up, the log is kept."""
    endpoint = service.delete_endpoint(session, endpoint_id=endpoint_id)
    record_audit(
        session,
        actor=actor,
        action="webhook.deleted",
        target_type="webhook",
        target_id=endpoint.id,
    )
    return _read(endpoint)


@router.get("/{endpoint_id}/deliveries", response_model=Page[DeliveryRead])
def deliveries(
    endpoint_id: RowId, actor: Admin, session: DbSession, after: After = None, limit: Limit = 50
) -> Page[DeliveryRead]:
    """The delivery log of an endpoint, oldest first, with each attempt."""
    rows = service.list_deliveries(
        session, endpoint_id=endpoint_id, after_id=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    attempts = service.list_attempts(session, delivery_ids=[d.id for d in rows])
    items = [
        DeliveryRead(
            id=d.id,
            event=d.event,
            event_id=d.event_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            payload=d.payload,
            log=[AttemptRead.model_validate(a) for a in attempts[d.id]],
        )
        for d in rows
    ]
    return Page[DeliveryRead](items=items, next=str(rows[-1].id) if more and rows else None)
