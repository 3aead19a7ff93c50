"""Drafts in the dashboard, in French and in English: template errors where a template is,
no default segment, edit, duplicate, delete, and a launch confirmed first (or refused)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from tests.factories.api import PASSWORD, ApiClient, client, make_app, make_user
from tests.factories.campaigns import add_contact, new_campaign
from tests.factories.web import sign_in_form

from textopt.accounts.models import Role
from textopt.campaigns.models import Campaign
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.outbox.models import Message
from textopt.vocab import Purpose

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

#: What each page says, by language.
WORDS = {
    "fr": {
        "missing": "La variable « prenom » manque",
        "filter": "Ligne 2 : il n’existe pas de filtre nommé « nope »",
        "syntax": "Ligne 1 : le modèle ne peut pas être lu",
        "no_segment": "Choisissez l’audience",
        "errors": "Le message contient des erreurs",
        "nothing": "Rien ne serait envoyé",
        "confirm": "Confirmer le lancement",
        "first": "Premier envoi",
        "edit": "Modifier le brouillon",
        "launch": "Lancer la campagne",
        "deleted": "Le brouillon est supprimé.",
        "copy": "(copie)",
    },
    "en": {
        "missing": "The variable “prenom” is missing",
        "filter": "Line 2: there is no filter named “nope”",
        "syntax": "Line 1: the template cannot be read",
        "no_segment": "Choose the audience",
        "errors": "The message has errors",
        "nothing": "Nothing would be sent",
        "confirm": "Confirm the launch",
        "first": "First send",
        "edit": "Edit the draft",
        "launch": "Launch the campaign",
        "deleted": "The draft is deleted.",
        "copy": "(copy)",
    },
}


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(engine: Engine, campaign_settings: Settings) -> FastAPI:
    return make_app(engine, campaign_settings)


@pytest.fixture
def web(app: FastAPI, engine: Engine, lang: str) -> Iterator[tuple[ApiClient, str]]:
    """A signed-in marketer reading the dashboard in `lang`, and the session's CSRF token."""
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    with client(app) as c:
        c.http.headers["Accept-Language"] = lang
        assert sign_in_form(c, "marie@boutique.example", PASSWORD).status_code == 303
        found = _CSRF.search(c.get("/app/").text)
        assert found is not None
        yield c, found.group(1)


def _text(page: str) -> str:
    return html.unescape(page)


def _audience(engine: Engine) -> None:
    with session_scope(engine) as s:
        create_segment(s, name="vip", filter="tag:vip")
        add_contact(s, "+33612345601", first_name="Alice")
        add_contact(s, "+33612345602", first_name="Bruno")


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, "name": "Soldes", "segment": "vip", "text": "-20%", **fields}


def test_the_composer_counter_shows_each_template_error_in_the_viewers_language(
    web: tuple[ApiClient, str], engine: Engine, lang: str
) -> None:
    _audience(engine)
    http, csrf = web
    headers = {"X-CSRF-Token": csrf}
    for text, key in (
        ("Bonjour {{ prenom }}", "missing"),
        ("Bonjour\n{{ first_name | nope }}", "filter"),
        ("Bonjour {{ first_name }", "syntax"),
    ):
        answer = http.post(
            "/app/api/analyze", json={"text": text, "segment": "vip"}, headers=headers
        )
        assert answer.status_code == 200
        data = answer.json()
        assert WORDS[lang][key] in data["error"], data
        assert "encoding" not in data  # no figure of an older text stays on screen
        assert data["audience"] == 2
    partly = http.post(
        "/app/api/analyze",
        json={"text": "Bonjour {{ first_name }}", "segment": "vip"},
        headers=headers,
    ).json()
    assert partly["error"] is None
    assert "Bonjour Alice" in partly["samples"][0]["text"]
    assert partly["encoding"] == "GSM-7"


def test_the_form_refuses_no_segment_and_a_template_error_in_the_viewers_language(
    web: tuple[ApiClient, str], engine: Engine, lang: str
) -> None:
    _audience(engine)
    http, csrf = web
    page = _text(http.get("/app/campaigns/new").text)
    assert 'value="" selected' in page  # no segment is chosen for the marketer
    none = http.post("/app/campaigns/new", data=_form(csrf, segment=""))
    assert none.status_code == 422
    assert WORDS[lang]["no_segment"] in _text(none.text)
    wrong = http.post("/app/campaigns/new", data=_form(csrf, text="Bonjour {{ prenom }}"))
    assert wrong.status_code == 422
    assert WORDS[lang]["missing"] in _text(wrong.text)
    assert "Bonjour {{ prenom }}" in _text(wrong.text)  # what was typed is kept
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_draft_failing_for_some_recipients_shows_the_error_and_offers_no_launch(
    web: tuple[ApiClient, str], engine: Engine, campaign_settings: Settings, lang: str
) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        add_contact(s, "+33612345603")  # no first name
        campaign_id = new_campaign(s, campaign_settings, text="Bonjour {{ first_name }}").id
    http, _ = web
    page = _text(http.get(f"/app/campaigns/{campaign_id}").text)
    assert WORDS[lang]["errors"] in page
    assert "first_name" in page
    assert WORDS[lang]["launch"] not in page
    confirm = http.get(f"/app/campaigns/{campaign_id}/launch")
    assert confirm.status_code == 303  # back to the preview, which says why
    assert confirm.headers["location"] == f"/app/campaigns/{campaign_id}"


def test_a_draft_that_would_send_nothing_says_so_and_cannot_be_launched(
    web: tuple[ApiClient, str], engine: Engine, campaign_settings: Settings, lang: str
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345601", consent_at=None)
        campaign_id = new_campaign(s, campaign_settings).id
    http, csrf = web
    page = _text(http.get(f"/app/campaigns/{campaign_id}").text)
    assert WORDS[lang]["nothing"] in page
    assert WORDS[lang]["launch"] not in page
    forced = http.post(
        f"/app/campaigns/{campaign_id}/launch", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert forced.headers["location"] == f"/app/campaigns/{campaign_id}?notice=not_launched"
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        assert s.get(Campaign, campaign_id).status == "draft"  # type: ignore[union-attr]


def test_a_launch_is_confirmed_on_a_page_stating_recipients_segments_cost_and_send_times(
    web: tuple[ApiClient, str], engine: Engine, campaign_settings: Settings, lang: str
) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        campaign_id = new_campaign(s, campaign_settings, purpose=Purpose.TRANSACTIONAL).id
    http, csrf = web
    unconfirmed = http.post(f"/app/campaigns/{campaign_id}/launch", data={"csrf_token": csrf})
    assert unconfirmed.headers["location"] == f"/app/campaigns/{campaign_id}/launch"
    page = http.get(f"/app/campaigns/{campaign_id}/launch")
    assert page.status_code == 200
    text = _text(page.text)
    for key in ("confirm", "first"):
        assert WORDS[lang][key] in text
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    assert re.search(r"\b2 [^()]*\(2 ", summary), summary  # 2 messages, 2 at the start
    assert "EUR" in summary
    with session_scope(engine) as s:
        assert s.get(Campaign, campaign_id).status == "draft"  # type: ignore[union-attr]
    done = http.post(
        f"/app/campaigns/{campaign_id}/launch", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert done.headers["location"] == f"/app/campaigns/{campaign_id}?notice=launched"
    with session_scope(engine) as s:
        assert s.get(Campaign, campaign_id).status == "running"  # type: ignore[union-attr]


def test_a_draft_is_edited_duplicated_and_deleted_in_the_dashboard(
    web: tuple[ApiClient, str], engine: Engine, campaign_settings: Settings, lang: str
) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        # transactional: the wall clock's hours cannot hold every message back
        campaign_id = new_campaign(s, campaign_settings, purpose=Purpose.TRANSACTIONAL).id
    http, csrf = web
    kept_purpose = {"purpose": "transactional"}
    edit = http.get(f"/app/campaigns/{campaign_id}/edit")
    assert edit.status_code == 200
    page = _text(edit.text)
    assert WORDS[lang]["edit"] in page
    assert "Soldes -20% chez Boutique" in page
    own = http.post(
        f"/app/campaigns/{campaign_id}/edit",
        data=_form(csrf, segment="__own_filter__", text="-30% {{ first_name }}", **kept_purpose),
    )
    assert own.headers["location"] == f"/app/campaigns/{campaign_id}?notice=edited"
    wrong = http.post(
        f"/app/campaigns/{campaign_id}/edit", data=_form(csrf, text="{{ prenom }}", **kept_purpose)
    )
    assert wrong.status_code == 422
    assert WORDS[lang]["missing"] in _text(wrong.text)
    with session_scope(engine) as s:
        kept = s.get(Campaign, campaign_id)
        assert kept is not None
        assert (kept.template, kept.audience_filter) == ("-30% {{ first_name }}", "tag:vip")

    copied = http.post(f"/app/campaigns/{campaign_id}/duplicate", data={"csrf_token": csrf})
    copy_id = int(copied.headers["location"].split("/")[3].split("?")[0])
    assert copy_id != campaign_id
    copy_page = _text(http.get(copied.headers["location"]).text)
    assert WORDS[lang]["copy"] in copy_page
    deleted = http.post(f"/app/campaigns/{copy_id}/delete", data={"csrf_token": csrf})
    assert deleted.headers["location"] == "/app/campaigns?notice=deleted"
    assert WORDS[lang]["deleted"] in _text(http.get(deleted.headers["location"]).text)
    assert http.get(f"/app/campaigns/{copy_id}").status_code == 404

    launched = http.post(
        f"/app/campaigns/{campaign_id}/launch", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert launched.status_code == 303
    assert launched.headers["location"] == f"/app/campaigns/{campaign_id}?notice=launched"
    late = http.get(f"/app/campaigns/{campaign_id}/edit")
    assert late.headers["location"] == f"/app/campaigns/{campaign_id}?notice=not_draft"
    refused = http.post(f"/app/campaigns/{campaign_id}/delete", data={"csrf_token": csrf})
    assert refused.headers["location"] == f"/app/campaigns/{campaign_id}?notice=not_draft"
