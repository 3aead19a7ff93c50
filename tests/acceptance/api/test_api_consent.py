"""Consent over HTTP: grant, revoke, history with proofs, ledger verification, texts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text
from tests.factories.api import ApiClient


def test_grant_revoke_and_history_with_the_proof(admin: ApiClient) -> None:
    cid = admin.post("/v1/contacts", json={"phone": "0612345678"}).json()["id"]
    text = admin.post("/v1/consent/texts", json={"version": "v1", "body": "Oui aux SMS"})
    assert text.status_code == 201
    assert [t["version"] for t in admin.get("/v1/consent/texts").json()] == ["v1"]
    grant = admin.post(
        f"/v1/contacts/{cid}/consent/grant",
        json={"consent_text_version": "v1", "proof": {"form": "https://shop.example/optin"}},
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["action"] == "granted"
    assert grant.json()["source"] == "api"
    assert admin.get(f"/v1/contacts/{cid}").json()["consent"][0]["status"] == "granted"
    assert admin.post(f"/v1/contacts/{cid}/consent/revoke", json={}).status_code == 201
    history = admin.get(f"/v1/contacts/{cid}/consent").json()
    assert history["current"] == {"sms/marketing": "revoked"}
    assert [e["action"] for e in history["events"]] == ["granted", "revoked"]
    assert history["events"][0]["proof"]["form"] == "https://shop.example/optin"
    verify = admin.get("/v1/consent/verify").json()
    assert verify["ok"]
    assert verify["events_checked"] == 2


def test_bad_consent_requests_name_the_field(admin: ApiClient) -> None:
    cid = admin.post("/v1/contacts", json={"phone": "0612345678"}).json()["id"]
    unknown_text = admin.post(
        f"/v1/contacts/{cid}/consent/grant", json={"consent_text_version": "nope"}
    )
    assert unknown_text.status_code == 422
    assert unknown_text.json()["field"] == "consent_text_version"
    naive = admin.post(
        f"/v1/contacts/{cid}/consent/grant", json={"occurred_at": "2026-01-01T10:00:00"}
    )
    assert naive.status_code == 422
    assert naive.json()["field"] == "occurred_at"
    for future in (
        "9999-12-31T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "2999-01-01T10:00:00+01:00",
    ):
        refused = admin.post(f"/v1/contacts/{cid}/consent/grant", json={"occurred_at": future})
        assert refused.status_code == 422, (future, refused.text)
        assert refused.json()["field"] == "occurred_at"
    channel = admin.post(f"/v1/contacts/{cid}/consent/grant", json={"channel": "fax"})
    assert channel.status_code == 422
    assert channel.json()["field"] == "channel"
    assert admin.post("/v1/contacts/999/consent/grant", json={}).status_code == 404
    again = admin.post("/v1/consent/texts", json={"version": "v1", "body": "a"})
    assert again.status_code == 201
    assert admin.post("/v1/consent/texts", json={"version": "v1", "body": "b"}).status_code == 422


def test_a_grant_for_an_erased_number_is_refused_as_a_conflict(admin: ApiClient) -> None:
    admin.post("/v1/contacts", json={"phone": "0612345678"})
    admin.post("/v1/gdpr/erase", json={"phone": "0612345678"})
    cid = admin.post("/v1/contacts", json={"phone": "0612345678"}).json()["id"]
    refused = admin.post(f"/v1/contacts/{cid}/consent/grant", json={})
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_error"


def test_a_revocation_after_a_grant_wins_and_verify_reports_a_state_written_by_hand(
    admin: ApiClient, engine: Engine
) -> None:
    cid = admin.post("/v1/contacts", json={"phone": "0612345678"}).json()["id"]
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)).isoformat()
    assert (
        admin.post(f"/v1/contacts/{cid}/consent/grant", json={"occurred_at": soon}).status_code
        == 201
    )
    past = "2026-01-01T10:00:00+01:00"
    assert (
        admin.post(f"/v1/contacts/{cid}/consent/revoke", json={"occurred_at": past}).status_code
        == 201
    )
    assert admin.get(f"/v1/contacts/{cid}").json()["consent"][0]["status"] == "revoked"
    assert admin.get("/v1/consent/verify").json()["ok"] is True
    with engine.begin() as connection:
        connection.execute(text("UPDATE consent_state SET status = 'granted', event_id = 1"))
    report = admin.get("/v1/consent/verify").json()
    assert report["ok"] is False
    assert report["first_broken_id"] is None
    assert "the ledger says revoked" in report["problems"][0]
