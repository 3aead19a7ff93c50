"""The contact page says, in French and English, that the providers gave up on a number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST, TEST_REGION
from tests.factories.web import sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.contacts.service import create_contact
from textopt.db.engine import session_scope
from textopt.dispatch.models import FailureStage, NumberFailure

SINCE = dt.datetime(2026, 11, 25, 9, 1, tzinfo=dt.UTC)


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _contact_with_failures(engine: Engine, phone: str, *, undeliverable: bool) -> int:
    with session_scope(engine) as s:
        contact_id = add_contact(s, phone).id
        s.add(
            NumberFailure(
                digest=TEST_DIGEST(phone),
                failures=2 if undeliverable else 1,
                stage=FailureStage.SUBMIT,
                last_code="21211",
                last_provider="twilio-main",
                last_failure_at=SINCE,
                undeliverable_at=SINCE if undeliverable else None,
            )
        )
    return contact_id


def test_the_contact_page_shows_an_undeliverable_number_and_failures_so_far(
    http: httpx.Client, engine: Engine
) -> None:
    dead = _contact_with_failures(engine, "+33612345670", undeliverable=True)
    doubtful = _contact_with_failures(engine, "+33612345671", undeliverable=False)
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    assert sign_in_form(http, "viewer@boutique.example", PASSWORD).status_code == 303
    french = http.get(f"/app/contacts/{dead}", headers={"Accept-Language": "fr"}).text
    assert "Numéro injoignable depuis le" in french
    assert "2 échecs définitifs d’affilée, le dernier 21211 (twilio-main)" in french
    english = http.get(f"/app/contacts/{dead}", headers={"Accept-Language": "en"}).text
    assert "Undeliverable number since" in english
    assert "2 permanent failures in a row, the last 21211 (twilio-main)" in english
    page = http.get(f"/app/contacts/{doubtful}", headers={"Accept-Language": "en"}).text
    assert "Undeliverable number" not in page
    assert "Permanent failures in a row of this number: 1 (21211, twilio-main)" in page


def test_a_contact_with_only_an_email_is_listed_and_shown_by_its_address(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as s:
        contact_id = create_contact(
            s, default_region=TEST_REGION, email="lea@example.fr", first_name="Léa"
        ).id
    make_user(engine, "viewer@boutique.example", Role.VIEWER)
    assert sign_in_form(http, "viewer@boutique.example", PASSWORD).status_code == 303
    listing = http.get("/app/contacts", headers={"Accept-Language": "fr"})
    assert listing.status_code == 200
    assert f'<a href="/app/contacts/{contact_id}">lea@example.fr</a>' in listing.text
    page = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    assert '<span class="muted">lea@example.fr</span>' in page.text
    assert "None" not in page.text
