"""Segments and campaigns over HTTP: the whole life of a campaign, audited; bad input."""

from __future__ import annotations

from sqlalchemy import Engine
from tests.factories.api import ApiClient
from tests.factories.campaigns import add_contact

from textopt.db.engine import session_scope


def _audience(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Alice")
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)


def test_segments_are_created_counted_renamed_and_deleted(admin: ApiClient, engine: Engine) -> None:
    _audience(engine)
    made = admin.post("/v1/segments", json={"name": "vip", "filter": "tag:vip and consent:sms"})
    assert made.status_code == 201, made.text
    assert made.json()["canonical"]
    assert admin.get("/v1/segments/vip/count").json()["count"] == 1
    assert admin.get(f"/v1/segments/{made.json()['id']}").json()["name"] == "vip"
    renamed = admin.patch("/v1/segments/vip", json={"name": "best", "description": "our best"})
    assert renamed.json()["name"] == "best"
    assert renamed.json()["description"] == "our best"
    assert [s["name"] for s in admin.get("/v1/segments").json()] == ["best"]
    bad = admin.post("/v1/segments", json={"name": "x", "filter": "tag vip"})
    assert bad.status_code == 422
    assert "column" in bad.json()["detail"]
    assert admin.post("/v1/segments", json={"name": "best", "filter": "all"}).status_code == 409
    assert admin.delete("/v1/segments/best").status_code == 204
    assert admin.get("/v1/segments/best").status_code == 404
    # digits int() does not read (superscripts) are a name like any other: not found
    for key in ("4\u00b3", "\u00b2"):
        assert admin.get(f"/v1/segments/{key}").status_code == 404
        assert admin.patch(f"/v1/segments/{key}", json={"name": "z"}).status_code == 404


def test_a_campaign_is_previewed_launched_paused_resumed_cancelled_and_audited(
    admin: ApiClient, engine: Engine
) -> None:
    _audience(engine)
    created = admin.post(
        "/v1/campaigns",
        json={"name": "Soldes", "text": "Soldes -20% chez Boutique", "audience": "tag:vip"},
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["status"] == "draft"
    preview = admin.post(f"/v1/campaigns/{cid}/preview")
    assert preview.status_code == 200
    assert preview.json()["audience"] == 2
    assert preview.json()["blocked"] == {"no_consent": 1}
    launched = admin.post(f"/v1/campaigns/{cid}/launch")
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "running"
    assert admin.post(f"/v1/campaigns/{cid}/launch").status_code == 422
    assert admin.post(f"/v1/campaigns/{cid}/pause").json()["status"] == "paused"
    assert admin.post(f"/v1/campaigns/{cid}/pause").status_code == 409
    assert admin.post(f"/v1/campaigns/{cid}/resume").json()["status"] == "running"
    report = admin.get(f"/v1/campaigns/{cid}/report").json()
    assert report["messages"] == 2
    assert report["blocked_by_reason"] == {"no_consent": 1}
    why = admin.post(f"/v1/campaigns/{cid}/why", json={"phone": "06 98 76 54 32"}).json()
    assert why["stored_decision"]["reason"] == "no_consent"
    # by id in the URL; a number is never taken from a URL (access logs keep URLs)
    contact = admin.get("/v1/contacts", params={"search": "0698765432"}).json()["items"][0]
    by_id = admin.get(f"/v1/campaigns/{cid}/why", params={"contact_id": contact["id"]})
    assert by_id.json()["stored_decision"]["reason"] == "no_consent"
    assert admin.get(f"/v1/campaigns/{cid}/why", params={"phone": "0698765432"}).status_code == 422
    cancelled = admin.post(f"/v1/campaigns/{cid}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["messages_cancelled"] == 1
    assert admin.get(f"/v1/campaigns/{cid}").json()["status"] == "cancelled"
    page = admin.get("/v1/campaigns").json()
    assert [c["id"] for c in page["items"]] == [cid]
    assert page["next"] is None
    audit = admin.get("/v1/audit", params={"target_type": "campaign"}).json()["items"]
    assert [e["action"] for e in audit] == [
        "campaign.created",
        "campaign.launched",
        "campaign.paused",
        "campaign.resumed",
        "campaign.cancelled",
    ]
    assert all(e["actor_type"] == "api_key" and e["target_id"] == str(cid) for e in audit)


def test_bad_campaigns_are_refused_with_the_field(admin: ApiClient) -> None:
    cases = {
        "name": {"name": " ", "text": "x", "audience": "all"},
        "sender_id": {"name": "a", "text": "x", "audience": "all", "sender_id": "A B"},
        "send_at": {"name": "a", "text": "x", "audience": "all", "send_at": "2026-01-01T10:00"},
        "validity_hours": {"name": "a", "text": "x", "audience": "all", "validity_hours": 0},
    }
    for field, body in cases.items():
        response = admin.post("/v1/campaigns", json=body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, response.json()
    for field, instant in (
        ("expires_at", "9999-12-31T23:59:59-14:00"),  # leaves the calendar in UTC
        ("expires_at", "9999-12-31T00:00:00+00:00"),
        ("send_at", "2999-01-01T10:00:00+01:00"),
    ):
        body = {"name": "a", "text": "x", "audience": "all", field: instant}
        response = admin.post("/v1/campaigns", json=body)
        assert response.status_code == 422, (field, instant, response.text)
        assert response.json()["field"] == field, response.json()
    unknown = admin.post(
        "/v1/campaigns", json={"name": "a", "text": "x", "audience": "all", "provider": "nope"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "config_error"
    assert admin.post("/v1/campaigns/999/launch").status_code == 404
    assert admin.post("/v1/campaigns/1/why", json={"phone": "0612345678"}).status_code == 404
    assert admin.get("/v1/campaigns/1/why", params={"contact_id": 1}).status_code == 404
