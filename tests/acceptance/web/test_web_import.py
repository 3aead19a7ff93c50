"""The dashboard's import over HTTP: upload, the columns mapped in the page, the job's
progress as JSON, its result in French and in English."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from tests.factories.api import PASSWORD, make_user
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.contacts.models import Contact, ImportJob
from textopt.db.engine import session_scope

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ACTION = re.compile(r'action="/app/import/([A-Za-z0-9_-]+)"')
CRM = (
    "Numéro client;Prénom;Ville;Accord SMS;Note interne\n"
    "06 12 34 56 78;Léa;Lyon;oui;a\n"
    "06 98 76 54 32;Hugo;Nantes;non;b\n"
    "pas un numéro;Zoé;Lille;oui;c\n"
)


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _sign_in(http: httpx.Client, engine: Engine, role: Role = Role.MARKETER) -> str:
    email = f"{role}@boutique.example"
    make_user(engine, email, role)
    assert sign_in_form(http, email, PASSWORD).status_code == 303
    token = _CSRF.search(http.get("/app/import").text)
    assert token is not None
    return token.group(1)


def _upload(http: httpx.Client, csrf: str, text: str, lang: str) -> tuple[str, str]:
    answer = http.post(
        "/app/import",
        data={"csrf_token": csrf},
        files={"file": ("crm.csv", text.encode(), "text/csv")},
        headers={"Accept-Language": lang},
    )
    assert answer.status_code == 200, answer.text
    token = _ACTION.search(answer.text)
    assert token is not None
    return token.group(1), answer.text


def _selected(page: str, index: int) -> str:
    select = re.search(rf'<select name="map-{index}".*?</select>', page, re.S)
    assert select is not None
    chosen = re.search(r'<option value="([a-z_]+)" selected>', select.group(0))
    assert chosen is not None
    return chosen.group(1)


def _follow(http: httpx.Client, location: str, lang: str) -> dict[str, Any]:
    """Poll the job's progress until it ends; every answer along the way is checked."""
    deadline = time.monotonic() + 60  # a bound on the wait, not a measure
    while True:
        answer = http.get(f"{location}/progress", headers={"Accept-Language": lang})
        assert answer.status_code == 200
        data: dict[str, Any] = answer.json()
        assert 0 <= data["percent"] <= 100
        if data["state"] != "running" or time.monotonic() > deadline:
            return data
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Lire la colonne comme", "Premières lignes", "Aucune colonne", "téléphone"]),
        ("en", ["Read column as", "First rows of the file", "No column is read", "an attribute"]),
    ],
)  # fmt: skip
def test_the_mapping_page_shows_each_column_its_reading_and_the_first_rows(
    http: httpx.Client, engine: Engine, lang: str, words: list[str]
) -> None:
    csrf = _sign_in(http, engine)
    _, page = _upload(http, csrf, CRM, lang)
    assert all(word in page for word in words), words
    # names that say nothing are read as attributes until the user picks; "Prénom" is known
    assert [_selected(page, i) for i in range(5)] == [
        "attribute", "first_name", "attribute", "consent_sms_marketing", "attribute",
    ]  # fmt: skip
    assert "<td>pas un numéro</td>" in page  # the preview of the rows
    assert page.count("<option ") == 5 * 18


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Import terminé", "créés", "le numéro de téléphone n’est pas valide", "inchangés"]),
        ("en", ["Import finished", "created", "the phone number is not valid", "unchanged"]),
    ],
)  # fmt: skip
def test_a_mapping_changed_in_the_page_is_imported_by_a_job_whose_progress_is_polled(
    http: httpx.Client, engine: Engine, lang: str, words: list[str]
) -> None:
    csrf = _sign_in(http, engine)
    token, _ = _upload(http, csrf, CRM, lang)
    started = http.post(
        f"/app/import/{token}",
        data={"csrf_token": csrf, "filename": "crm.csv", "map-0": "phone", "map-4": "ignore"},
        headers={"Accept-Language": lang},
    )
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert re.fullmatch(r"/app/import/jobs/\d+", location)
    data = _follow(http, location, lang)
    assert (data["state"], data["percent"], data["rows_done"]) == ("finished", 100, 3)
    assert data["state_label"] == ("Import terminé" if lang == "fr" else "Import finished")
    assert data["label"] == ("3 lignes sur 3" if lang == "fr" else "3 of 3 rows")
    result = http.get(location, headers={"Accept-Language": lang})
    assert result.status_code == 200
    assert all(word in result.text for word in words), words
    assert "invalid_number" not in result.text  # the code is never shown bare
    rejects = re.search(r'href="(/app/import/[^"]+/rejects)"', result.text)
    assert rejects is not None
    assert "pas un numéro" in http.get(rejects.group(1)).text
    with session_scope(engine) as s:
        lea = s.scalars(select(Contact).where(Contact.first_name == "Léa")).one()
        assert lea.phone == "+33612345678"
        assert lea.attributes == {"Ville": "Lyon"}  # "Note interne" ignored
        job = s.scalars(select(ImportJob)).one()
        assert job.mapping == {"Numéro client": "phone", "Note interne": "ignore"}
    # one job per upload: the same form again leads to the same job
    again = http.post(f"/app/import/{token}", data={"csrf_token": csrf, "map-0": "phone"})
    assert (again.status_code, again.headers["location"]) == (303, location)
    listing = http.get("/app/import", headers={"Accept-Language": lang})
    assert f'href="{location}"' in listing.text


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("fr", "Les colonnes « Numéro client » et « Ville » sont toutes deux lues comme téléphone"),
        ("en", 'Columns "Numéro client" and "Ville" are both read as phone'),
    ],
)  # fmt: skip
def test_a_field_chosen_twice_is_refused_in_the_page_with_the_choices_kept(
    http: httpx.Client, engine: Engine, lang: str, says: str
) -> None:
    csrf = _sign_in(http, engine)
    token, _ = _upload(http, csrf, CRM, lang)
    refused = http.post(
        f"/app/import/{token}",
        data={"csrf_token": csrf, "map-0": "phone", "map-2": "phone", "map-4": "ignore"},
        headers={"Accept-Language": lang},
    )
    assert refused.status_code == 422
    assert says in refused.text.replace("&#34;", '"').replace("&quot;", '"')
    assert [_selected(refused.text, i) for i in (0, 2, 4)] == ["phone", "phone", "ignore"]
    forged = http.post(
        f"/app/import/{token}",
        data={"csrf_token": csrf, "map-0": "phone", "map-2": "town"},
        headers={"Accept-Language": lang},
    )
    assert forged.status_code == 422
    assert (
        "la colonne « Ville » ne peut pas être lue comme « town »"
        if lang == "fr"
        else 'column "Ville" cannot be read as "town"'
    ) in forged.text.replace("&#34;", '"')
    with session_scope(engine) as s:
        assert s.scalars(select(ImportJob)).all() == []
        assert s.scalars(select(Contact)).all() == []


def test_a_viewer_sees_imports_but_cannot_start_one(http: httpx.Client, engine: Engine) -> None:
    csrf = _sign_in(http, engine, Role.VIEWER)
    refused = http.post(
        "/app/import",
        data={"csrf_token": csrf},
        files={"file": ("crm.csv", CRM.encode(), "text/csv")},
    )
    assert refused.status_code == 403
    assert http.post("/app/import/" + "x" * 24, data={"csrf_token": csrf}).status_code == 403
    assert http.get("/app/import/jobs/1").status_code == 404


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Import interrompu", "le processus qui importait s’est arrêté", "1\u202f000"]),
        ("en", ["Import interrupted", "the process running the import stopped", "1,000"]),
    ],
)
def test_a_job_whose_process_died_reads_as_interrupted_with_what_was_kept(
    http: httpx.Client, engine: Engine, lang: str, words: list[str]
) -> None:
    _sign_in(http, engine, Role.VIEWER)
    with session_scope(engine) as s:
        job = ImportJob(
            upload_token="c" * 24, filename="big.csv", mapping={}, state="running",
            rows_done=1_000, rows_total=150_000, owner=f"{socket.gethostname()}:999999:x",
            started_by="marie@boutique.example", result={"rows_read": 1_000, "created": 1_000},
        )  # fmt: skip
        s.add(job)
        s.flush()
        job_id = job.id
    progress = http.get(f"/app/import/jobs/{job_id}/progress").json()
    assert (progress["state"], progress["rows_done"]) == ("interrupted", 1_000)
    page = http.get(f"/app/import/jobs/{job_id}", headers={"Accept-Language": lang})
    assert page.status_code == 200
    assert all(word in page.text for word in words), words
    assert 'id="import-progress"' not in page.text
