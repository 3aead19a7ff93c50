"""Contacts over HTTP: CRUD, tags, cursor pagination, bad input, CSV import upload and export."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import ApiClient, make_app

from textopt.config import Settings


def test_a_contact_is_created_read_changed_tagged_and_deleted(admin: ApiClient) -> None:
    created = admin.post(
        "/v1/contacts",
        json={
            "phone": "06 12 34 56 78",
            "first_name": "Alice",
            "tags": ["vip"],
            "attributes": {"city": "Lyon"},
        },
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["phone"] == "+33612345678"
    assert contact["tags"] == ["vip"]
    assert contact["consent"] == []
    cid = contact["id"]
    assert admin.get(f"/v1/contacts/{cid}").json()["first_name"] == "Alice"
    changed = admin.patch(f"/v1/contacts/{cid}", json={"first_name": None, "language": "fr"})
    assert changed.json()["first_name"] is None
    assert changed.json()["language"] == "fr"
    assert admin.post(f"/v1/contacts/{cid}/tags", json={"tags": ["new"]}).json()["tags"] == [
        "new",
        "vip",
    ]
    assert admin.delete(f"/v1/contacts/{cid}/tags/vip").json()["tags"] == ["new"]
    assert admin.delete(f"/v1/contacts/{cid}").status_code == 204
    assert admin.get(f"/v1/contacts/{cid}").status_code == 404


def test_bad_input_names_the_field_at_fault(admin: ApiClient) -> None:
    cases = {
        "phone": admin.post("/v1/contacts", json={"phone": "12"}),
        "email": admin.post("/v1/contacts", json={"phone": "0612345678", "email": "no-at-sign"}),
        "timezone": admin.post(
            "/v1/contacts", json={"phone": "0612345678", "timezone": "Mars/Base"}
        ),
        "extra": admin.post("/v1/contacts", json={"phone": "0612345678", "extra": 1}),
        "limit": admin.get("/v1/contacts?limit=0"),
        "contact_id": admin.get("/v1/contacts/abc"),
    }
    for field, response in cases.items():
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 422, body
        assert body["field"] == field, body
        assert body["detail"]
    admin.post("/v1/contacts", json={"phone": "0612345678"})
    duplicate = admin.post("/v1/contacts", json={"phone": "+33 6 12 34 56 78"})
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "phone"
    assert admin.patch("/v1/contacts/1", json={"phone": None}).json()["field"] == "phone"


def test_pages_follow_the_cursor_without_gaps_or_repeats(admin: ApiClient) -> None:
    for n in range(7):
        admin.post("/v1/contacts", json={"phone": f"06123456{n:02d}", "tags": ["t"]})
    seen: list[int] = []
    url = "/v1/contacts?limit=3&tag=t"
    pages = 0
    while url:
        page = admin.get(url).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        url = f"/v1/contacts?limit=3&tag=t&after={page['next']}" if page["next"] else ""
    assert seen == sorted(seen)
    assert len(set(seen)) == 7
    assert pages == 3
    assert admin.get("/v1/contacts?search=nobody").json() == {"items": [], "next": None}


def test_a_csv_upload_imports_and_reports_its_rejects(admin: ApiClient) -> None:
    csv = (
        "phone;first_name;consent\n"
        "0612345678;Alice;yes\nnot a number;Bob;yes\n0698765432;Carol;no\n"
    )
    response = admin.post(
        "/v1/contacts/import", files={"file": ("clients.csv", csv.encode(), "text/csv")}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_read"], report["created"], report["rejected"]) == (3, 2, 1)
    assert report["delimiter"] == ";"
    rejects = admin.get(report["rejects_url"])
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    assert "not a number" in rejects.text
    assert admin.get("/v1/contacts/imports/" + "z" * 24 + "/rejects").status_code == 404
    audit = admin.get("/v1/audit").json()["items"]
    assert audit[-1]["action"] == "contacts.imported"
    assert audit[-1]["detail"]["file"] == "clients.csv"


def test_an_upload_with_a_mapping_reads_columns_whose_headers_say_nothing(
    admin: ApiClient,
) -> None:
    csv = "Numéro client;Adresse;Note\n0612345678;alice@example.fr;x\n"
    response = admin.post(
        "/v1/contacts/import",
        files={"file": ("crm.csv", csv.encode(), "text/csv")},
        data={
            "mapping": json.dumps({"Numéro client": "phone", "Adresse": "email", "Note": "ignore"})
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    alice = admin.get("/v1/contacts").json()["items"][0]
    assert (alice["phone"], alice["email"], alice["attributes"]) == (
        "+33612345678",
        "alice@example.fr",
        {},
    )
    assert admin.get("/v1/audit").json()["items"][-1]["detail"]["mapping"]["Note"] == "ignore"


def test_a_bad_mapping_is_a_problem_naming_the_column(admin: ApiClient) -> None:
    csv = b"Numero client;Ville\n0612345678;Lyon\n"
    for mapping, says in (
        ('{"Portable": "phone"}', 'names a column "Portable" the file does not have'),
        ('{"Ville": "town"}', 'column "Ville" cannot be read as "town"'),
        ('["phone"]', "mapping: a JSON object of column → field"),
        ("{not json", "mapping: a JSON object of column → field"),
    ):
        response = admin.post(
            "/v1/contacts/import",
            files={"file": ("crm.csv", csv, "text/csv")},
            data={"mapping": mapping},
        )
        assert response.status_code == 422, response.text
        assert says in response.json()["detail"]
        assert response.json()["field"] == "mapping"
    assert admin.get("/v1/contacts").json()["items"] == []


def test_an_import_job_answers_at_once_and_tells_its_progress_then_its_report(
    admin: ApiClient, campaign_settings: Settings
) -> None:
    csv = "Numéro client;Ville\n0612345678;Lyon\n06 12;Nantes\n0698765432;Lille\n"
    started = admin.post(
        "/v1/contacts/import-jobs",
        files={"file": ("crm.csv", csv.encode(), "text/csv")},
        data={"mapping": json.dumps({"Numéro client": "phone"}), "region": "FR"},
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["state"], job["filename"], job["rows_total"]) == ("running", "crm.csv", 3)
    assert job["mapping"] == {"Numéro client": "phone"}
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        job = admin.get(f"/v1/contacts/import-jobs/{job['id']}").json()
    assert job["state"] == "finished", job
    assert (job["rows_done"], job["result"]["created"], job["result"]["rejected"]) == (3, 2, 1)
    assert job["result"]["rejected_by_reason"] == {"invalid_number": 1}
    assert job["error"] is None
    assert job["finished_at"] is not None
    assert "06 12" in admin.get(job["rejects_url"]).text
    assert admin.get("/v1/contacts/import-jobs/999").status_code == 404


def test_an_import_job_with_a_bad_mapping_is_refused_and_its_upload_deleted(
    admin: ApiClient, campaign_settings: Settings
) -> None:
    refused = admin.post(
        "/v1/contacts/import-jobs",
        files={"file": ("crm.csv", b"Numero client;Ville\n0612345678;Lyon\n", "text/csv")},
        data={"mapping": json.dumps({"Ville": "town"})},
    )
    assert refused.status_code == 422
    assert 'column "Ville" cannot be read as "town"' in refused.json()["detail"]
    folder = Path(str(campaign_settings.upload_dir))
    assert list(folder.iterdir()) == []


def test_an_upload_larger_than_the_setting_is_refused(
    engine: Engine, campaign_settings: Settings, admin: ApiClient
) -> None:
    small = make_app(engine, campaign_settings.model_copy(update={"max_upload_mb": 0.001}))
    with ApiClient(small, dict(admin.http.headers)) as c:
        big = b"phone\n" + b"0612345678\n" * 200
        response = c.post("/v1/contacts/import", files={"file": ("big.csv", big, "text/csv")})
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_a_file_without_a_phone_column_is_refused_before_anything_is_written(
    admin: ApiClient,
) -> None:
    response = admin.post(
        "/v1/contacts/import", files={"file": ("x.csv", b"name;city\nAlice;Lyon\n", "text/csv")}
    )
    assert response.status_code == 422
    assert admin.get("/v1/contacts").json()["items"] == []


def test_the_export_is_csv_in_the_import_columns_and_audited(
    admin: ApiClient, app: FastAPI, tmp_path: Path
) -> None:
    admin.post("/v1/contacts", json={"phone": "0612345678", "first_name": "Alice"})
    response = admin.get("/v1/contacts/export")
    assert response.status_code == 200
    assert response.text.startswith("phone,")
    assert "+33612345678" in response.text
    assert "Alice" in response.text
    assert admin.get("/v1/audit").json()["items"][-1]["action"] == "contacts.exported"


def test_a_contact_with_only_an_email_is_created_and_gets_email_consent(
    admin: ApiClient,
) -> None:
    created = admin.post("/v1/contacts", json={"email": "lea@example.fr", "first_name": "Léa"})
    assert created.status_code == 201, created.text
    contact = created.json()
    assert (contact["phone"], contact["email"], contact["timezones"]) == (
        None,
        "lea@example.fr",
        [],
    )
    grant = admin.post(
        f"/v1/contacts/{contact['id']}/consent/grant",
        json={"channel": "email", "source": "in-store", "proof": {"note": "caisse"}},
    )
    assert grant.status_code == 201, grant.text
    history = admin.get(f"/v1/contacts/{contact['id']}/consent").json()
    assert history["current"] == {"email/marketing": "granted"}
    proof = history["events"][0]["proof"]
    assert (proof["email"], proof["note"], "phone" in proof) == ("lea@example.fr", "caisse", False)
    assert history["events"][0]["source"] == "in-store"
    twice = admin.post("/v1/contacts", json={"email": "LEA@example.fr"})
    assert twice.status_code == 409
    assert twice.json()["field"] == "email"
    neither = admin.post("/v1/contacts", json={"first_name": "Personne"})
    assert neither.status_code == 422
    assert neither.json()["field"] == "phone"
    assert "phone number or an email address" in neither.json()["detail"]


def test_tags_match_whatever_their_case(admin: ApiClient) -> None:
    created = admin.post("/v1/contacts", json={"phone": "0612345678", "tags": ["VIP", "vip"]})
    assert created.json()["tags"] == ["vip"]
    cid = created.json()["id"]
    assert admin.post(f"/v1/contacts/{cid}/tags", json={"tags": ["Soldes"]}).json()["tags"] == [
        "soldes",
        "vip",
    ]
    assert [c["id"] for c in admin.get("/v1/contacts?tag=Vip").json()["items"]] == [cid]
    assert admin.delete(f"/v1/contacts/{cid}/tags/SOLDES").json()["tags"] == ["vip"]
