"""Webhook services: endpoints, the event outbox, claiming and recording deliveries.

`emit_events` is called by the services where things happen (dispatch, consent, campaign
lifecycle) inside their own transaction, so an event exists if and only if its cause was
committed. It costs one SELECT of the active endpoints and, when any subscribes, one bulk
INSERT per batch of events, whatever the batch's size.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from textopt.errors import NotFoundError, ValidationError
from textopt.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from textopt.webhooks.schemas import BODY_VERSION
from textopt.webhooks.signing import endpoint_secret
from textopt.webhooks.targets import TargetGuard

__all__ = [
    "AttemptOutcome",
    "DeliveryJob",
    "claim_deliveries",
    "create_endpoint",
    "delete_endpoint",
    "emit_events",
    "get_endpoint_or_raise",
    "list_attempts",
    "list_deliveries",
    "list_endpoints",
    "parse_events",
    "record_attempts",
    "retry_delay",
    "secret_of",
]

_MAX_ERROR = 500
_DELIVERIES = cast(Table, WebhookDelivery.__table__)


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """What the delivery loop needs to POST one delivery."""

    delivery_id: int
    url: str
    secret_salt: str
    event: str
    event_id: str
    body: bytes
    attempt: int  # 1 for the first attempt


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one POST gave: a status code, or an error before any answer."""

    delivery_id: int
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer: delivered."""
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff after failed attempt number `attempt`: 30 s, 1 min, 2 min... at most 1 h."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempt - 1, 0), 3600))


def parse_events(values: Iterable[str]) -> list[str]:
    """Event names, checked; at least one."""
    names = sorted({part.strip() for v in values for part in v.split(",") if part.strip()})
    if not names:
        raise ValidationError("subscribe to at least one event", field="events")
    for name in names:
        try:
            WebhookEvent(name)
        except ValueError as exc:
            known = ", ".join(e.value for e in WebhookEvent)
            raise ValidationError(
                f"unknown event {name!r} (known: {known})", field="events"
            ) from exc
    return names


def _check_url(url: str, *, guard: TargetGuard) -> str:
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 2000:
        raise ValidationError(f"{url!r} is not an http(s) URL", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("a webhook URL carries no user name or password", field="url")
    guard.resolve(text)  # refused unless every address is public or allowed
    return text


def secret_of(endpoint: WebhookEndpoint, *, workspace_key: bytes) -> str:
    """The endpoint's signing secret."""
    return endpoint_secret(workspace_key=workspace_key, salt=endpoint.secret_salt)


def create_endpoint(
    session: Session,
    *,
    url: str,
    events: Iterable[str],
    workspace_key: bytes,
    guard: TargetGuard,
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once).

    The URL's host must resolve to public addresses only, or to networks `guard` allows.
    """
    endpoint = WebhookEndpoint(
        url=_check_url(url, guard=guard),
        events=parse_events(events),
        secret_salt=secrets.token_hex(16),
        active=True,
        description=(description or "").strip()[:200] or None,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret_of(endpoint, workspace_key=workspace_key)


def get_endpoint_or_raise(session: Session, *, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint with this id, or NotFoundError."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError(f"no webhook endpoint with id {endpoint_id}")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def delete_endpoint(session: Session, *, endpoint_id: int) -> WebhookEndpoint:
    """Deactivate an endpoint: no new deliveries, pending ones are given up (log kept)."""
    endpoint = get_endpoint_or_raise(session, endpoint_id=endpoint_id)
    endpoint.active = False
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error="endpoint deleted")
    )
    session.flush()
    return endpoint


def emit_events(
    session: Session,
    *,
    events: Sequence[tuple[WebhookEvent, Mapping[str, Any]]],
    now: dt.datetime,
) -> int:
    """Queue deliveries of `events` (type, data) to every subscribed endpoint; returns rows."""
    if not events:
        return 0
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.is_(True))
    ).all()
    if not endpoints:
        return 0
    rows: list[dict[str, Any]] = []
    created = now.astimezone(dt.UTC).isoformat()
    for event, data in events:
        targets = [e.id for e in endpoints if str(event) in (e.events or [])]
        if not targets:
            continue
        event_id = f"evt_{uuid.uuid4().hex}"
        envelope = {
            "id": event_id,
            "type": str(event),
            "version": BODY_VERSION,
            "created_at": created,
            "data": dict(data),
        }
        rows.extend(
            {
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "event": str(event),
                "payload": envelope,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in targets
        )
    if rows:
        session.connection().execute(insert(_DELIVERIES), rows)  # Core: no ORM per row
    return len(rows)


def claim_deliveries(
    session: Session, *, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[DeliveryJob]:
    """Take due deliveries; each is leased (its next attempt moved to `now + lease`).

    A deliverer that dies mid-POST leaves the row to be tried again after the lease: at
    least once, which is why every delivery carries its event id for receivers to dedupe.
    """
    query = (
        select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret_salt)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    jobs: list[DeliveryJob] = []
    for delivery, url, salt in session.execute(query):
        delivery.attempts += 1
        delivery.next_attempt_at = now + lease
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
        jobs.append(
            DeliveryJob(
                delivery_id=delivery.id,
                url=url,
                secret_salt=salt,
                event=delivery.event,
                event_id=delivery.event_id,
                body=body.encode(),
                attempt=delivery.attempts,
            )
        )
    session.flush()
    return jobs


def record_attempts(
    session: Session, *, outcomes: Sequence[AttemptOutcome], max_attempts: int
) -> None:
    """Log each attempt and move its delivery on: delivered, retried later, or failed."""
    if not outcomes:
        return
    by_id = {
        d.id: d
        for d in session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id.in_([o.delivery_id for o in outcomes]))
        )
    }
    session.execute(
        insert(WebhookAttempt),
        [
            {
                "delivery_id": o.delivery_id,
                "at": o.at,
                "status_code": o.status_code,
                "error": (o.error or "")[:_MAX_ERROR] or None,
                "duration_ms": o.duration_ms,
            }
            for o in outcomes
        ],
    )
    for outcome in outcomes:
        delivery = by_id.get(outcome.delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            continue  # the endpoint was deleted meanwhile
        delivery.last_status_code = outcome.status_code
        delivery.last_error = (outcome.error or "")[:_MAX_ERROR] or None
        if outcome.ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = outcome.at
        elif delivery.attempts >= max_attempts:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = outcome.at + retry_delay(delivery.attempts)
    session.flush()


def list_deliveries(
    session: Session,
    *,
    endpoint_id: int,
    after_id: int | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries, oldest first, a page at a time."""
    get_endpoint_or_raise(session, endpoint_id=endpoint_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(WebhookDelivery.id > after_id)
    return list(session.scalars(query))


def list_attempts(
    session: Session, *, delivery_ids: Sequence[int]
) -> dict[int, list[WebhookAttempt]]:
    """The attempts of these deliveries, in order, keyed by delivery id."""
    result: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
            .order_by(WebhookAttempt.id)
        )
        for attempt in session.scalars(query):
            result[attempt.delivery_id].append(attempt)
    return result
