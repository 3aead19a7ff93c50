"""Events on the dashboard: the contact page shows the latest ones in the workspace's zone,
in French and English; the segments page counts and saves `event:` filters."""

from __future__ import annotations

import datetime as dt
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
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.events.models import EventSource
from textopt.events.service import record_event

SHIPPED_AT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)  # 10:30 in Paris


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _contact_with_events(engine: Engine, settings: Settings, count: int) -> int:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        for n in range(count):
            record_event(
                s,
                contact=contact,
                type="order_shipped" if n == count - 1 else "visit",
                properties={"order": "A-17", "items": [1, 2]} if n == count - 1 else {},
                occurred_at=SHIPPED_AT - dt.timedelta(hours=count - 1 - n),
                key=None,
                source=EventSource.API if n == count - 1 else EventSource.IMPORT,
                recorded_by="API key shop (1a2b3c4d)",
                secret=settings.resolved_secret_key(),
                now=SHIPPED_AT + dt.timedelta(minutes=1),
            )
        return contact.id


def test_the_contact_page_lists_the_latest_events_first(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    contact_id = _contact_with_events(engine, campaign_settings, 22)
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    assert sign_in_form(http, "viewer@boutique.example", PASSWORD).status_code == 303
    french = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "fr"}).text
    events = french[french.index('id="events"') : french.index("Réponses reçues")]
    assert "Événements" in events
    assert "25/11/2026 10:30" in events  # the workspace's zone, Europe/Paris
    assert events.index("order_shipped") < events.index("visit")  # the latest first
    assert "order: A-17" in events
    assert "items: [1, 2]" in events
    assert "API key shop (1a2b3c4d)" in events
    assert "import CSV" in events
    assert events.count("<code>") == 20
    assert "textopt events list --contact les montre tous" in events
    english = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "en"}).text
    assert "2026-11-25 10:30" in english
    assert "CSV import" in english
    assert "event_source" not in english  # the code is never shown bare


def test_a_contact_without_events_says_so(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    contact_id = _contact_with_events(engine, campaign_settings, 0)
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    sign_in_form(http, "viewer@boutique.example", PASSWORD)
    page = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "fr"})
    assert "Aucun événement enregistré." in page.text


def test_the_segments_page_counts_and_saves_an_event_filter(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    _contact_with_events(engine, campaign_settings, 1)  # an order shipped at SHIPPED_AT
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    sign_in_form(http, "marketer@boutique.example", PASSWORD)
    page = http.get("/app/segments", headers={"Accept-Language": "fr"}).text
    assert "une commande expédiée ces 7 derniers jours" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    ever = http.get("/app/api/count", params={"filter": "event:order_shipped"}).json()
    assert (ever["count"], ever["error"]) == (1, None)
    recent = http.get("/app/api/count", params={"filter": "event:order_shipped within 24h"})
    assert (recent.json()["count"], recent.json()["error"]) == (0, None)  # SHIPPED_AT is past
    bad = http.get(
        "/app/api/count",
        params={"filter": "event:order_shipped within 7"},
        headers={"Accept-Language": "fr"},
    ).json()
    assert bad["error"].startswith("colonne 28 : « 7 » n’est pas une durée comme 24h")
    saved = http.post(
        "/app/segments",
        data={"name": "shipped", "filter": "event:Order_Shipped", "csrf_token": csrf.group(1)},
    )
    assert saved.status_code == 303
    listed = http.get("/app/segments").text
    assert "<td>shipped</td>" in listed
    assert "event:Order_Shipped" in listed
