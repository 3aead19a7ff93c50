"""GDPR over HTTP: a person's export and erasure, both in the audit log."""

from __future__ import annotations

from tests.factories.api import ApiClient


def test_a_person_is_exported_then_erased_and_both_are_audited(admin: ApiClient) -> None:
    cid = admin.post("/v1/contacts", json={"phone": "0612345678", "first_name": "Alice"}).json()[
        "id"
    ]
    admin.post(f"/v1/contacts/{cid}/consent/grant", json={})
    export = admin.post("/v1/gdpr/export", json={"phone": "06 12 34 56 78"})
    assert export.status_code == 200
    assert export.json()["contact"]["first_name"] == "Alice"
    assert len(export.json()["consent"]["history"]) == 1
    erased = admin.post("/v1/gdpr/erase", json={"phone": "0612345678", "note": "ticket 7"})
    assert erased.json() == {"erased_contacts": [cid], "proofs_deleted": 1, "suppressed": ["phone"]}
    assert admin.get(f"/v1/contacts/{cid}").status_code == 404
    assert admin.post("/v1/gdpr/erase", json={"phone": "0612345678"}).status_code == 404
    audit = admin.get("/v1/audit", params={"target_type": "contact"}).json()["items"]
    assert [(e["action"], e["target_id"]) for e in audit] == [
        ("gdpr.exported", str(cid)),
        ("gdpr.erased", str(cid)),
    ]
    assert audit[1]["detail"]["note"] == "ticket 7"
    assert admin.post("/v1/gdpr/export", json={"phone": "x"}).json()["field"] == "phone"
