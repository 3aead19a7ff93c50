"""The contact list and page name a contact's country and language in words, in the
viewer's language, never as the stored codes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.db.engine import session_scope


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _facts(html: str) -> dict[str, str]:
    pairs = re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)", html)
    return {term: value.strip() for term, value in pairs}


def test_country_and_language_read_as_words_in_french_and_english(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as s:
        quebec = add_contact(s, "+15145550123", country="CA", language="fr-ca").id
        berlin = add_contact(s, "+4915112345678", country="DE", language="de").id
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    assert sign_in_form(http, "viewer@boutique.example", PASSWORD).status_code == 303

    french = _facts(http.get(f"/app/contacts/{quebec}", headers={"Accept-Language": "fr"}).text)
    assert french["Pays"] == "Canada"
    assert french["Langue"] == "français (Canada)"
    english = _facts(http.get(f"/app/contacts/{berlin}", headers={"Accept-Language": "en"}).text)
    assert english["Country"] == "Germany"
    assert english["Language"] == "German"
    french = _facts(http.get(f"/app/contacts/{berlin}", headers={"Accept-Language": "fr"}).text)
    assert (french["Pays"], french["Langue"]) == ("Allemagne", "allemand")

    listing = http.get("/app/contacts", headers={"Accept-Language": "fr"}).text
    assert "<td>Allemagne</td>" in listing
    assert "<td>Canada</td>" in listing
    assert "<td>DE</td>" not in listing
    listing = http.get("/app/contacts", headers={"Accept-Language": "en"}).text
    assert "<td>Germany</td>" in listing
