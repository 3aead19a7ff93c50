"""The events import page over HTTP: a viewer cannot upload, a form without the session's
CSRF token records nothing, a file that is no events CSV says why in French and English."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.db.engine import session_scope
from textopt.events.models import ContactEvent

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD = b"phone;type;occurred_at\n0612345678;visit;2026-11-20T10:00:00+01:00\n"


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _sign_in(http: httpx.Client, engine: Engine, role: Role) -> str:
    email = f"{role}@boutique.example"
    make_user(engine, email, role)
    assert sign_in_form(http, email, PASSWORD).status_code == 303
    page = http.get("/app/events/import")
    assert page.status_code == 200
    token = _CSRF.search(page.text)
    assert token is not None
    return token.group(1)


def _recorded(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(ContactEvent)) or 0)


def test_a_viewer_and_a_forged_form_record_nothing(http: httpx.Client, engine: Engine) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
    csrf = _sign_in(http, engine, Role.VIEWER)
    files = {"file": ("visits.csv", GOOD, "text/csv")}
    refused = http.post("/app/events/import", data={"csrf_token": csrf}, files=files)
    assert refused.status_code == 403
    http.cookies.clear()
    csrf = _sign_in(http, engine, Role.MARKETER)
    forged = http.post("/app/events/import", data={"csrf_token": "forged"}, files=files)
    assert forged.status_code == 403
    assert _recorded(engine) == 0
    done = http.post("/app/events/import", data={"csrf_token": csrf}, files=files)
    assert done.status_code == 200
    assert 'id="import-done"' in done.text
    assert _recorded(engine) == 1


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("fr", "il manque au fichier les colonnes type, occurred_at (colonnes"),
        ("en", "the file lacks the columns type, occurred_at (columns"),
    ],
)
def test_a_file_without_the_columns_of_events_says_so_in_the_viewers_language(
    http: httpx.Client, engine: Engine, lang: str, sentence: str
) -> None:
    csrf = _sign_in(http, engine, Role.MARKETER)
    answer = http.post(
        "/app/events/import",
        data={"csrf_token": csrf},
        files={"file": ("contacts.csv", b"phone;first_name\n0612345678;Ana\n", "text/csv")},
        headers={"Accept-Language": lang},
    )
    assert answer.status_code == 422
    assert sentence in answer.text.replace("&#39;", "'")
