"""The keywords page in French and English: add HORAIRES, a reserved word refused in the
viewer's language, edit, switch off, delete; the contact page says what the keyword did."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import RECEIVED, text_in
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.inbound.workspace_keywords import create_keyword

FR = "Ouvert du lundi au samedi, 9h-19h."
EN = "Open Monday to Saturday, 9am-7pm."


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_marketer_adds_edits_switches_off_and_deletes_a_keyword_in_both_languages(
    http: httpx.Client, engine: Engine
) -> None:
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    assert sign_in_form(http, "marketer@boutique.example", PASSWORD).status_code == 303
    french = http.get("/app/keywords", headers={"Accept-Language": "fr"}).text
    assert "<h1>Mots-clés</h1>" in french
    assert "Aucun mot-clé pour l’instant." in french
    assert "Réponse (EN)" in french
    csrf = _csrf(french)
    refused = http.post(
        "/app/keywords",
        data={"word": "Arrêt", "fr": FR, "csrf_token": csrf},
        headers={"Accept-Language": "fr"},
    )
    assert refused.status_code == 422
    assert "mot : ARRÊT est réservé : c’est le mot-clé intégré STOP" in refused.text
    assert FR in refused.text  # the form keeps what was typed
    added = http.post(
        "/app/keywords", data={"word": "Horaires", "fr": FR, "en": EN, "csrf_token": csrf}
    )
    assert added.status_code == 303
    listed = http.get(added.headers["location"], headers={"Accept-Language": "fr"}).text
    assert "Mot-clé ajouté." in listed
    assert "keywords.created" not in listed  # the code is never shown bare
    assert "<strong>HORAIRES</strong>" in listed
    assert f'<dd lang="fr">{FR}</dd>' in listed
    keyword_id = re.search(r'id="keyword-(\d+)"', listed)
    assert keyword_id is not None
    kid = keyword_id.group(1)
    english = http.get(f"/app/keywords/{kid}", headers={"Accept-Language": "en"}).text
    assert "Edit the keyword HORAIRES" in english
    assert f">{EN}</textarea>" in english
    edited = http.post(
        f"/app/keywords/{kid}", data={"word": "HORAIRES", "fr": "9h-18h", "csrf_token": csrf}
    )
    assert edited.status_code == 303
    off = http.post(f"/app/keywords/{kid}/switch", data={"on": "false", "csrf_token": csrf})
    assert off.status_code == 303
    page = http.get(off.headers["location"], headers={"Accept-Language": "en"}).text
    assert "Keyword switched off: it is no longer answered." in page
    assert "no (switched off)" in page
    assert '<dd lang="fr">9h-18h</dd>' in page
    assert EN not in page  # the emptied English answer is gone
    deleted = http.post(f"/app/keywords/{kid}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    assert "No keyword yet." in http.get("/app/keywords", headers={"Accept-Language": "en"}).text


def test_a_viewer_reads_keywords_without_the_forms_and_the_contact_page_says_what_one_did(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        create_keyword(
            s,
            actor=Actor("cli", None, "cli:test", frozenset()),
            word="horaires",
            texts={"fr": FR, "en": EN},
            now=RECEIVED,
        )
        contact_id = add_contact(s, "+33612345678").id
    with session_scope(engine) as s:
        text_in(s, campaign_settings, sender="+33612345678", text="horaires", message_id="1")
        text_in(s, campaign_settings, sender="+33612345678", text="Horaires !", message_id="2")
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    sign_in_form(http, "viewer@boutique.example", PASSWORD)
    page = http.get("/app/keywords", headers={"Accept-Language": "fr"}).text
    assert "<strong>HORAIRES</strong>" in page
    assert "Nouveau mot-clé" not in page
    assert "Désactiver" not in page
    contact = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "fr"}).text
    assert "mot-clé : réponse envoyée" in contact
    assert "mot-clé sans réponse : ce numéro l’a reçue il y a moins de 10 minutes" in contact
    assert "<td>HORAIRES</td>" in contact
    assert "keyword.horaires" in contact  # the event it recorded
    english = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "en"}).text
    assert "keyword answered" in english
