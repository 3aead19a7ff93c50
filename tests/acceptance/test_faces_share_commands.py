"""The dashboard, the API and the CLI run the same commands: the same audit entries for the
same campaign actions, and uploads kept, imported and purged alike.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, ApiClient, client, make_app, make_key, make_user
from tests.factories.campaigns import add_contact, new_campaign
from tests.factories.cli import cli_json, run_cli
from tests.factories.web import sign_in_form

from textopt.accounts.models import Role, Scope
from textopt.accounts.service import list_audit
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.contacts.uploads import REJECTS_SUFFIX, upload_folder
from textopt.db.engine import session_scope
from textopt.vocab import Purpose

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ACTIONS = ("launch", "pause", "resume", "cancel")
_CSV = "phone;first_name;consent\n0612345678;Alice;yes\nnot a number;Bob;yes\n"


@pytest.fixture
def app(engine: Engine, campaign_settings: Settings) -> FastAPI:
    """The API and the dashboard on the test database (no workers)."""
    return make_app(engine, campaign_settings)


@pytest.fixture
def api(app: FastAPI, engine: Engine) -> Iterator[ApiClient]:
    """An API client with every scope."""
    with client(app, make_key(engine, list(Scope), name="admin")) as c:
        yield c


@pytest.fixture
def browser(app: FastAPI, engine: Engine) -> Iterator[tuple[ApiClient, str]]:
    """A signed-in marketer's dashboard session and its CSRF token."""
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    with client(app) as c:
        assert sign_in_form(c, "marketer@boutique.example", PASSWORD).status_code == 303
        found = _CSRF.search(c.get("/app/").text)
        assert found is not None
        yield c, found.group(1)


def _campaign(engine: Engine, settings: Settings) -> int:
    # transactional: the wall clock's quiet hours do not change what a launch plans
    with session_scope(engine) as session:
        return new_campaign(session, settings, purpose=Purpose.TRANSACTIONAL).id


def _audit(engine: Engine, campaign_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    with session_scope(engine) as session:
        return [
            (e.actor_type, e.action, e.detail)
            for e in list_audit(session, target_type="campaign", target_id=str(campaign_id))
        ]


def test_each_face_writes_the_same_audit_entry_for_the_same_campaign_action(
    engine: Engine,
    campaign_settings: Settings,
    api: ApiClient,
    browser: tuple[ApiClient, str],
) -> None:
    with session_scope(engine) as session:
        add_contact(session, "+33612345678", first_name="Alice")
        add_contact(session, "+33698765432", first_name="Bob")
    by_api, by_web, by_cli = (_campaign(engine, campaign_settings) for _ in range(3))
    web, csrf = browser
    for action in _ACTIONS:
        assert api.post(f"/v1/campaigns/{by_api}/{action}").status_code == 200
        # a launch from the dashboard or the terminal is confirmed first
        confirmed = {"confirm": "yes"} if action == "launch" else {}
        answer = web.post(
            f"/app/campaigns/{by_web}/{action}", data={"csrf_token": csrf, **confirmed}
        )
        assert answer.status_code == 303, answer.text
        run_cli("campaign", action, str(by_cli), *(["--yes"] if action == "launch" else []))
    entries = {face: _audit(engine, i) for face, i in (("api", by_api), ("web", by_web))}
    entries["cli"] = _audit(engine, by_cli)
    assert {face: [kind for kind, _, _ in rows] for face, rows in entries.items()} == {
        "api": ["api_key"] * 4,
        "web": ["user"] * 4,
        "cli": ["cli"] * 4,
    }
    expected = [
        ("campaign.launched", {"planned": 2, "status": "running"}),
        ("campaign.paused", {"status": "paused"}),
        ("campaign.resumed", {"status": "running"}),
        ("campaign.cancelled", {"messages_cancelled": 2, "status": "cancelled"}),
    ]
    for rows in entries.values():
        assert [(action, detail) for _, action, detail in rows] == expected


def test_each_face_audits_the_creation_of_a_draft_the_same_way(
    engine: Engine, api: ApiClient, browser: tuple[ApiClient, str]
) -> None:
    text = "Boutique Léa : -20 % ce samedi"
    answer = api.post("/v1/campaigns", json={"name": "par l'API", "text": text, "audience": "all"})
    assert answer.status_code == 201, answer.text
    with session_scope(engine) as session:
        create_segment(session, name="tous", filter="all")
    web, csrf = browser
    form = {"name": "par le tableau de bord", "segment": "tous", "text": text, "csrf_token": csrf}
    created = web.post("/app/campaigns/new", data=form)
    assert created.status_code in (200, 303), created.text
    run_cli("campaign", "create", "par la CLI", "--text", text, "--audience", "all")
    with session_scope(engine) as session:
        entries = [
            (e.actor_type, e.action, e.detail)
            for e in list_audit(session, target_type="campaign")
            if e.action == "campaign.created"
        ]
    assert sorted(entries) == [
        ("api_key", "campaign.created", {"status": "draft"}),
        ("cli", "campaign.created", {"status": "draft"}),
        ("user", "campaign.created", {"status": "draft"}),
    ]


def test_each_face_edits_duplicates_and_deletes_a_draft_with_the_same_audit_entries(
    engine: Engine, campaign_settings: Settings, api: ApiClient, browser: tuple[ApiClient, str]
) -> None:
    with session_scope(engine) as session:
        create_segment(session, name="vip", filter="tag:vip")
        add_contact(session, "+33612345678", first_name="Alice")
    by_api, by_web, by_cli = (_campaign(engine, campaign_settings) for _ in range(3))
    web, csrf = browser
    assert api.patch(f"/v1/campaigns/{by_api}", json={"segment": "vip"}).status_code == 200
    form = {"csrf_token": csrf, "name": "Soldes", "segment": "vip", "text": "Soldes -20%"}
    assert web.post(f"/app/campaigns/{by_web}/edit", data=form).status_code == 303
    run_cli("campaign", "edit", str(by_cli), "--segment", "vip")
    copies = [
        api.post(f"/v1/campaigns/{by_api}/duplicate").json()["id"],
        int(
            web.post(f"/app/campaigns/{by_web}/duplicate", data={"csrf_token": csrf})
            .headers["location"]
            .split("/")[3]
            .split("?")[0]
        ),
        cli_json("campaign", "duplicate", str(by_cli))["id"],
    ]
    assert api.delete(f"/v1/campaigns/{copies[0]}").status_code == 204
    gone = web.post(f"/app/campaigns/{copies[1]}/delete", data={"csrf_token": csrf})
    assert gone.headers["location"] == "/app/campaigns?notice=deleted"
    run_cli("campaign", "delete", str(copies[2]), "--yes")
    with session_scope(engine) as session:
        rows = [
            (e.actor_type, e.action, e.detail)
            for e in list_audit(session, target_type="campaign")
            if e.action != "campaign.created"
        ]
    actions = sorted((action, kind) for kind, action, _ in rows)
    assert actions == sorted(
        (action, kind)
        for action in ("campaign.edited", "campaign.duplicated", "campaign.deleted")
        for kind in ("api_key", "user", "cli")
    )
    assert {(a, d["status"]) for _, a, d in rows} == {
        ("campaign.edited", "draft"),
        ("campaign.duplicated", "draft"),
        ("campaign.deleted", "draft"),
    }


def _age(paths: list[str], *, days: float) -> None:
    old = time.time() - days * 86_400
    for path in paths:
        os.utime(path, (old, old))


def test_rejects_files_of_web_uploads_are_kept_and_purged_like_the_apis(
    engine: Engine,
    campaign_settings: Settings,
    api: ApiClient,
    browser: tuple[ApiClient, str],
) -> None:
    web, csrf = browser
    by_api = api.post(
        "/v1/contacts/import", files={"file": ("api.csv", _CSV.encode(), "text/csv")}
    ).json()
    mapping = web.post(
        "/app/import",
        data={"csrf_token": csrf, "region": "FR"},
        files={"file": ("web.csv", _CSV.encode(), "text/csv")},
    )
    assert mapping.status_code == 200, mapping.text
    found = re.search(r'action="/app/import/([A-Za-z0-9_-]+)"', mapping.text)
    assert found is not None
    web_token = found.group(1)
    started = web.post(
        f"/app/import/{web_token}",
        data={"csrf_token": csrf, "region": "FR", "filename": "web.csv"},
    )
    assert started.status_code == 303, started.text
    job = started.headers["location"]
    deadline = time.monotonic() + 60  # a bound on the wait for the background job
    while web.get(f"{job}/progress").json()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    done = web.get(job)
    assert f"/app/import/{web_token}/rejects" in done.text
    api_token = by_api["rejects_url"].split("/")[-2]
    # one folder, one naming: either face serves the other's rejects file
    assert api.get(f"/v1/contacts/imports/{web_token}/rejects").status_code == 200
    assert web.get(f"/app/import/{api_token}/rejects").status_code == 200
    folder = upload_folder(campaign_settings)
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == sorted(f"{t}{REJECTS_SUFFIX}" for t in (api_token, web_token))
    with session_scope(engine) as session:
        imports = [e for e in list_audit(session) if e.action == "contacts.imported"]
        assert [(e.actor_type, e.detail) for e in imports] == [
            ("api_key", {"file": "api.csv", "rows": 2, "created": 1}),
            ("user", {"file": "web.csv", "rows": 2, "created": 0}),
        ]
    _age([str(folder / name) for name in kept], days=campaign_settings.rejects_keep_days + 1)
    assert web.get(f"/app/import/{web_token}/rejects").status_code == 404
    assert list(folder.iterdir()) == []
    assert api.get(f"/v1/contacts/imports/{api_token}/rejects").status_code == 404
