"""GDPR over HTTP: a person's export and erasure, both in the audit log."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.factories.api import ApiClient

from textopt.config import Settings


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
    assert erased.json() == {
        "erased_contacts": [cid],
        "proofs_deleted": 1,
        "suppressed": ["phone"],
        "files_deleted": 0,
    }
    assert admin.get(f"/v1/contacts/{cid}").status_code == 404
    assert admin.post("/v1/gdpr/erase", json={"phone": "0612345678"}).status_code == 404
    audit = admin.get("/v1/audit", params={"target_type": "contact"}).json()["items"]
    assert [(e["action"], e["target_id"]) for e in audit] == [
        ("gdpr.exported", str(cid)),
        ("gdpr.erased", str(cid)),
    ]
    assert audit[1]["detail"]["note"] == "ticket 7"
    assert admin.post("/v1/gdpr/export", json={"phone": "x"}).json()["field"] == "phone"


def _import(admin: ApiClient, text: str) -> str:
    answer = admin.post(
        "/v1/contacts/import", files={"file": ("clients.csv", text.encode(), "text/csv")}
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["rejects_url"]
    assert admin.get(url).status_code == 200
    return url


def test_an_erasure_deletes_the_rejects_files_that_hold_the_person(admin: ApiClient) -> None:
    # Alice's second row is a duplicate: her number and name are in the rejects file
    alices = _import(admin, "phone;first_name\n0612345678;Alice\n+33 6 12 34 56 78;Alice M\n")
    others = _import(admin, "phone;first_name\n0698765432;Bob\nnot a number;Carol\n")
    erased = admin.post("/v1/gdpr/erase", json={"phone": "06 12 34 56 78"})
    assert erased.json()["files_deleted"] == 1
    assert admin.get(alices).status_code == 404
    assert "Carol" in admin.get(others).text


def test_every_import_deletes_uploads_and_rejects_past_their_keep_time(
    admin: ApiClient, campaign_settings: Settings
) -> None:
    folder = Path(str(campaign_settings.upload_dir))
    folder.mkdir(parents=True, exist_ok=True)
    day = 24 * 3600
    files = {
        "abandoned.csv": 2 * day,  # a web upload never imported: older than 24 h
        "fresh.csv": 3600,
        "old.rejects.csv": 8 * day,  # past 7 days
        "recent.rejects.csv": 6 * day,
    }
    for name, age in files.items():
        (folder / name).write_text("phone\n+33612345678\n")
        os.utime(folder / name, (time.time() - age, time.time() - age))
    _import(admin, "phone\nnot a number\n")
    left = {p.name for p in folder.iterdir()}
    assert {"fresh.csv", "recent.rejects.csv"} <= left
    assert not {"abandoned.csv", "old.rejects.csv"} & left
