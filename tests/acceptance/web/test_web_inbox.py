"""The inbox over HTTP: a viewer (no `inbox` permission) neither sees nor opens it, a
marketer's contact page leads to the person's conversation, a forged form is refused."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def test_the_inbox_is_for_those_who_answer_and_the_contact_page_leads_to_it(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678", first_name="Léa").id
        text_in(s, campaign_settings, sender="+33612345678", text="Bonjour", at=utcnow())
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    make_user(engine, "marketer@boutique.example", Role.MARKETER)

    assert sign_in_form(http, "viewer@boutique.example", PASSWORD).status_code == 303
    home = http.get("/app/")
    assert 'id="nav-inbox"' not in home.text
    assert http.get("/app/inbox").status_code == 403
    assert 'id="open-conversation"' not in http.get(f"/app/contacts/{contact_id}").text
    http.cookies.clear()

    assert sign_in_form(http, "marketer@boutique.example", PASSWORD).status_code == 303
    home = http.get("/app/")
    assert 'id="nav-inbox"' in home.text
    assert "1 message non lu" in home.text
    contact = http.get(f"/app/contacts/{contact_id}").text
    assert 'id="open-conversation"' in contact
    listed = http.get("/app/inbox?show=everything")  # an unknown list shows the open ones
    assert listed.status_code == 200
    assert "Léa" in listed.text
    forged = http.post("/app/inbox/1/close", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    preview = http.get("/app/inbox/1/preview", params={"text": "Merci, à demain !"}).json()
    assert preview["label"].startswith("réponse conversationnelle · 1 partie SMS")
