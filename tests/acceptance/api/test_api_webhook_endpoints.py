"""Webhook endpoints over HTTP: the secret shown once, the delivery log, deletion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import ApiClient, client, make_app, make_key

from textopt.accounts.models import Scope
from textopt.config import Settings


@pytest.fixture
def app(engine: Engine, campaign_settings: Settings) -> FastAPI:
    """The API of an operator who lets webhooks reach a receiver on this machine."""
    allowed = campaign_settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})
    return make_app(engine, allowed)


def test_an_endpoint_gets_opt_out_deliveries_in_its_log_until_deleted(admin: ApiClient) -> None:
    made = admin.post(
        "/v1/webhooks",
        json={
            "url": "http://127.0.0.1:9/hook",
            "events": ["contact.opted_out"],
            "description": "crm",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["secret"].startswith("whsec_")
    eid = made.json()["id"]
    assert "secret" not in admin.get("/v1/webhooks").json()[0]
    cid = admin.post("/v1/contacts", json={"phone": "0612345678"}).json()["id"]
    admin.post(f"/v1/contacts/{cid}/consent/grant", json={})
    admin.post(f"/v1/contacts/{cid}/consent/revoke", json={})
    log = admin.get(f"/v1/webhooks/{eid}/deliveries").json()
    assert [d["event"] for d in log["items"]] == ["contact.opted_out"]
    assert log["items"][0]["status"] == "pending"
    assert log["items"][0]["log"] == []
    assert log["items"][0]["payload"]["data"]["contact_id"] == cid
    deleted = admin.delete(f"/v1/webhooks/{eid}")
    assert deleted.json()["active"] is False
    assert admin.get(f"/v1/webhooks/{eid}/deliveries").json()["items"][0]["status"] == "failed"
    assert admin.get("/v1/webhooks/999/deliveries").status_code == 404


def test_bad_endpoints_are_refused_with_the_field(admin: ApiClient) -> None:
    bad_url = admin.post("/v1/webhooks", json={"url": "ftp://x", "events": ["campaign.completed"]})
    assert bad_url.status_code == 422
    assert bad_url.json()["field"] == "url"
    bad_event = admin.post("/v1/webhooks", json={"url": "https://x.example", "events": ["nope"]})
    assert bad_event.status_code == 422
    assert bad_event.json()["field"].startswith("events")
    none = admin.post("/v1/webhooks", json={"url": "https://x.example", "events": []})
    assert none.status_code == 422


@pytest.fixture
def strict_admin(engine: Engine, campaign_settings: Settings) -> Iterator[ApiClient]:
    """An admin of the API with the default policy: public addresses only."""
    with client(make_app(engine, campaign_settings), make_key(engine, list(Scope))) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://[::1]:8000/",
        "http://0x7f000001/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://user:pw@127.0.0.1/",
    ],
)
def test_internal_addresses_are_refused_at_registration(strict_admin: ApiClient, url: str) -> None:
    refused = strict_admin.post("/v1/webhooks", json={"url": url, "events": ["campaign.completed"]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "url"
    assert strict_admin.get("/v1/webhooks").json() == []
