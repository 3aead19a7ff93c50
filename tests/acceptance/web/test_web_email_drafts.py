"""A multichannel draft in the dashboard, in French and in English: the composer creates and
edits the email (subject, HTML, text part) beside the SMS, and a template error in an email
part is shown with the part it is in."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from tests.factories.api import PASSWORD, ApiClient, client, make_app, make_user
from tests.factories.multichannel import NEWSLETTER, SUBJECT, add_person
from tests.factories.web import sign_in_form

from textopt.accounts.models import Role
from textopt.campaigns.models import Campaign
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.db.engine import session_scope

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

WORDS = {
    "fr": {
        "subject_syntax": "Objet de l’e-mail : Ligne 1 : le modèle ne peut pas être lu",
        "html_missing": "HTML de l’e-mail : La variable « prenom » manque",
        "text_missing": "Partie texte de l’e-mail : La variable « ville » manque",
        "no_subject": "un e-mail a besoin d’un objet",
        "channels": "SMS, sinon e-mail",
        "email_only": "e-mail seul",
    },
    "en": {
        "subject_syntax": "Email subject: Line 1: the template cannot be read",
        "html_missing": "Email HTML: The variable “prenom” is missing",
        "text_missing": "Email text part: The variable “ville” is missing",
        "no_subject": "an email needs a subject",
        "channels": "SMS, else email",
        "email_only": "Email only",
    },
}


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(engine: Engine, campaign_settings: Settings) -> FastAPI:
    mail = {"kind": "sandbox", "channel": "email", "rate": 1000, "receipt_delay": 0.01}
    providers = {**campaign_settings.providers, "mail": mail}
    return make_app(engine, campaign_settings.model_copy(update={"providers": providers}))


@pytest.fixture
def web(app: FastAPI, engine: Engine, lang: str) -> Iterator[tuple[ApiClient, str]]:
    """A signed-in marketer reading the dashboard in `lang`, the session's CSRF token, and an
    audience of two people (one reachable by SMS and email, one by email only)."""
    with session_scope(engine) as s:
        create_segment(s, name="vip", filter="tag:vip")
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Alice")
        add_person(s, phone=None, email="mail@example.fr", sms=None, first_name="Bruno")
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    with client(app) as c:
        c.http.headers["Accept-Language"] = lang
        assert sign_in_form(c, "marie@boutique.example", PASSWORD).status_code == 303
        found = _CSRF.search(c.get("/app/").text)
        assert found is not None
        yield c, found.group(1)


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "Lettre",
        "segment": "vip",
        "text": "La lettre d'hiver de Boutique est sortie",
        "channels": "sms-else-email",
        "email_subject": SUBJECT,
        "email_template": NEWSLETTER,
        **fields,
    }


def _campaigns(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Campaign)) or 0)


def test_the_composer_creates_a_multichannel_draft_with_its_email(
    web: tuple[ApiClient, str], engine: Engine, lang: str
) -> None:
    http, csrf = web
    page = html.unescape(http.get("/app/campaigns/new").text)
    assert 'name="email_subject"' in page
    assert WORDS[lang]["channels"] in page
    created = http.post("/app/campaigns/new", data=_form(csrf, email_text_template="Hiver"))
    assert created.status_code == 303, html.unescape(created.text)
    with session_scope(engine) as s:
        campaign = s.scalars(select(Campaign)).one()
        assert campaign.channels == "sms-else-email"
        assert campaign.email_subject == SUBJECT
        assert campaign.email_template == NEWSLETTER
        assert campaign.email_text_template == "Hiver"
        assert campaign.email_provider == "mail"
        campaign_id = campaign.id
    preview = html.unescape(http.get(f"/app/campaigns/{campaign_id}").text)
    assert WORDS[lang]["channels"] in preview
    assert SUBJECT in preview


def test_an_email_only_draft_needs_no_sms_text_and_is_edited_in_the_composer(
    web: tuple[ApiClient, str], engine: Engine, lang: str
) -> None:
    http, csrf = web
    created = http.post("/app/campaigns/new", data=_form(csrf, text="", channels="email"))
    assert created.status_code == 303, html.unescape(created.text)
    campaign_id = int(created.headers["location"].split("/")[3].split("?")[0])
    edit = html.unescape(http.get(f"/app/campaigns/{campaign_id}/edit").text)
    assert f'value="{SUBJECT}"' in edit  # the email is in the form, ready to change
    assert "Notre <b>lettre d'hiver</b>" in edit
    assert re.search(r'<option value="email" selected>' + WORDS[lang]["email_only"], edit)
    saved = http.post(
        f"/app/campaigns/{campaign_id}/edit",
        data=_form(
            csrf,
            text="Les soldes de Boutique commencent",
            channels="both",
            email_subject="Les soldes, {{ first_name }}",
        ),
    )
    assert saved.status_code == 303, html.unescape(saved.text)
    with session_scope(engine) as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        assert campaign.channels == "both"
        assert campaign.email_subject == "Les soldes, {{ first_name }}"
        assert campaign.template == "Les soldes de Boutique commencent"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"email_subject": "Soldes {{ first_name }"}, "subject_syntax"),
        ({"email_template": "<p>Bonjour {{ prenom }}</p>"}, "html_missing"),
        ({"email_text_template": "Bonjour de {{ ville }}"}, "text_missing"),
        ({"email_subject": ""}, "no_subject"),
    ],
)
def test_a_template_error_in_an_email_part_names_the_part_in_the_viewers_language(
    web: tuple[ApiClient, str], engine: Engine, lang: str, fields: dict[str, str], key: str
) -> None:
    http, csrf = web
    refused = http.post("/app/campaigns/new", data=_form(csrf, **fields))
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert WORDS[lang][key] in page
    for typed in fields.values():
        assert html.escape(typed, quote=False) in refused.text or typed in page  # kept
    assert _campaigns(engine) == 0


def test_editing_a_draft_into_an_email_error_keeps_the_draft_and_says_why(
    web: tuple[ApiClient, str], engine: Engine, lang: str
) -> None:
    http, csrf = web
    created = http.post("/app/campaigns/new", data=_form(csrf))
    assert created.status_code == 303
    campaign_id = int(created.headers["location"].split("/")[3].split("?")[0])
    refused = http.post(
        f"/app/campaigns/{campaign_id}/edit",
        data=_form(csrf, email_template="<p>Bonjour {{ prenom }}</p>"),
    )
    assert refused.status_code == 422
    assert WORDS[lang]["html_missing"] in html.unescape(refused.text)
    with session_scope(engine) as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        assert campaign.email_template == NEWSLETTER  # nothing half-saved


def test_the_composer_checks_the_email_live_on_real_contacts(
    web: tuple[ApiClient, str], lang: str
) -> None:
    http, csrf = web
    headers = {"X-CSRF-Token": csrf}
    draft = {
        "text": "La lettre d'hiver de Boutique est sortie",
        "segment": "vip",
        "channels": "sms-else-email",
        "email_subject": SUBJECT,
        "email_template": "<p>Bonjour {{ prenom }}</p>",
    }
    wrong = http.post("/app/api/analyze", json=draft, headers=headers).json()
    assert WORDS[lang]["html_missing"] in wrong["email_error"]
    assert "Alice" in wrong["email_error"]  # the contact it fails for
    assert wrong["error"] is None  # the SMS is fine and keeps its figures
    assert wrong["encoding"] == "GSM-7"
    fixed = http.post(
        "/app/api/analyze", json={**draft, "email_template": NEWSLETTER}, headers=headers
    ).json()
    assert fixed["email_error"] is None
    sms_only = http.post(
        "/app/api/analyze", json={**draft, "channels": "sms"}, headers=headers
    ).json()
    assert sms_only["email_error"] is None  # an email the rule does not send is not checked
