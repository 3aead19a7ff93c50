"""`/v1/events`: recorded once per Idempotency-Key, validated field by field, listed by page."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from tests.factories.api import ApiClient, scoped_client

from textopt.accounts.models import Scope
from textopt.db.engine import session_scope
from textopt.events.models import ContactEvent

SHIPPED = {"phone": "06 12 34 56 78", "type": "Order_Shipped", "properties": {"order": "A-17"}}


def _events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(ContactEvent)) or 0)


def _contact(api: ApiClient, phone: str = "+33612345678", email: str = "ana@example.com") -> int:
    created = api.post("/v1/contacts", json={"phone": phone, "email": email})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_the_same_key_records_one_event_and_another_body_under_it_is_a_conflict(
    admin: ApiClient, engine: Engine
) -> None:
    contact = _contact(admin)
    first = admin.post("/v1/events", json=SHIPPED, headers={"Idempotency-Key": "ship-A-17"})
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True
    assert first.json()["type"] == "order_shipped"  # types are compared in lower case
    assert first.json()["contact_id"] == contact
    assert first.json()["source"] == "api"
    # the same request naming the contact in another notation is the same request
    again = admin.post(
        "/v1/events",
        json={**SHIPPED, "phone": "+33 6 12 34 56 78", "type": "order_shipped"},
        headers={"Idempotency-Key": "ship-A-17"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    other = admin.post(
        "/v1/events",
        json={**SHIPPED, "properties": {"order": "A-18"}},
        headers={"Idempotency-Key": "ship-A-17"},
    )
    assert other.status_code == 409
    assert other.json()["field"] == "Idempotency-Key"
    assert _events(engine) == 1
    # without a key, each request is a new event
    assert admin.post("/v1/events", json=SHIPPED).status_code == 201
    assert admin.post("/v1/events", json=SHIPPED).status_code == 201
    assert _events(engine) == 3


def test_bad_events_are_refused_naming_the_field(admin: ApiClient, engine: Engine) -> None:
    _contact(admin)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    deep: dict[str, object] = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    cases = [
        ({**SHIPPED, "type": "order shipped"}, "type"),
        ({**SHIPPED, "type": "_x"}, "type"),
        ({**SHIPPED, "occurred_at": future}, "occurred_at"),
        ({**SHIPPED, "occurred_at": "2026-11-01T10:00:00"}, "occurred_at"),
        ({**SHIPPED, "properties": deep}, "properties"),
        ({**SHIPPED, "properties": {"note": "x" * 20_000}}, "properties"),
        ({**SHIPPED, "properties": {"": 1}}, "properties"),
        ({**SHIPPED, "properties": ["not", "an", "object"]}, "properties"),
        ({**SHIPPED, "email": "ana@example.com"}, "email"),
        ({"type": "order_shipped"}, "contact_id"),
        ({**SHIPPED, "phone": "12"}, "phone"),
        ({**SHIPPED, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        answer = admin.post("/v1/events", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    nan = admin.post(
        "/v1/events",
        content=b'{"phone": "0612345678", "type": "x", "properties": {"v": NaN}}',
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert _events(engine) == 0


def test_an_event_of_an_unknown_contact_is_not_found_and_creates_no_contact(
    admin: ApiClient, engine: Engine
) -> None:
    _contact(admin)
    for body, field in (
        ({**SHIPPED, "phone": "+33699999999"}, "phone"),
        ({"email": "nobody@example.com", "type": "visit"}, "email"),
        ({"contact_id": 9999, "type": "visit"}, "contact_id"),
    ):
        answer = admin.post("/v1/events", json=body)
        assert answer.status_code == 404, answer.text
        assert answer.json()["field"] == field
        assert "existing contacts only" in answer.json()["detail"]
    assert admin.get("/v1/contacts").json()["items"][0]["phone"] == "+33612345678"
    assert len(admin.get("/v1/contacts").json()["items"]) == 1
    assert _events(engine) == 0


def test_events_are_listed_by_contact_type_and_time_a_page_at_a_time(admin: ApiClient) -> None:
    ana = _contact(admin)
    bob = _contact(admin, phone="+33698765432", email="bob@example.com")
    base = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    for day, (who, kind) in enumerate(
        [(ana, "order_shipped"), (bob, "order_shipped"), (ana, "visit"), (ana, "order_shipped")]
    ):
        at = (base + dt.timedelta(days=day)).isoformat()
        body = {"contact_id": who, "type": kind, "occurred_at": at}
        assert admin.post("/v1/events", json=body).status_code == 201
    page = admin.get("/v1/events", params={"limit": 2})
    assert [e["occurred_at"][:10] for e in page.json()["items"]] == ["2026-11-01", "2026-11-02"]
    rest = admin.get("/v1/events", params={"limit": 2, "after": page.json()["next"]})
    assert len(rest.json()["items"]) == 2
    assert rest.json()["next"] is None
    shipped = admin.get("/v1/events", params={"contact": ana, "type": "ORDER_SHIPPED"})
    assert [e["occurred_at"][:10] for e in shipped.json()["items"]] == ["2026-11-01", "2026-11-04"]
    since = admin.get(
        "/v1/events", params={"type": "order_shipped", "since": "2026-11-02T00:00:00Z"}
    )
    assert [e["contact_id"] for e in since.json()["items"]] == [bob, ana]
    mine = admin.get(f"/v1/contacts/{ana}/events", params={"type": "visit"})
    assert [e["type"] for e in mine.json()["items"]] == ["visit"]
    assert admin.get("/v1/contacts/9999/events").status_code == 404
    assert admin.get("/v1/events", params={"contact": 9999}).status_code == 404
    assert admin.get("/v1/events", params={"type": "a b"}).json()["field"] == "type"


def test_recording_events_needs_the_events_scope(
    app: FastAPI, engine: Engine, admin: ApiClient, viewer: ApiClient
) -> None:
    _contact(admin)
    assert viewer.post("/v1/events", json=SHIPPED).status_code == 403
    assert viewer.get("/v1/events").status_code == 200
    with scoped_client(app, engine, Scope.EVENTS) as shop:
        recorded = shop.post("/v1/events", json=SHIPPED)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"].startswith("API key events")
        assert shop.post("/v1/messages", json={"to": "0612345678", "text": "x"}).status_code == 403
