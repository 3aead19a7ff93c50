"""The preference centre over HTTP: the page an unsubscribe link opens changes nothing, the
person's choices become ledger events, and the one-click POST still stops at once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.factories.api import ApiClient, client, make_app, make_key
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST
from typer.testing import CliRunner

from textopt.accounts.models import Scope
from textopt.cli.main import app
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.unsubscribe import unsubscribe_token
from textopt.db.engine import session_scope

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def web(engine: Engine, campaign_settings: Settings) -> Iterator[ApiClient]:
    with client(make_app(engine, campaign_settings)) as c:
        yield c


def _person(engine: Engine, settings: Settings, *, language: str | None = None) -> tuple[int, str]:
    """A contact with SMS and email marketing consent, and the token of its SMS link."""
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678", email="lea@example.org", language=language)
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            channel="email",
            purpose="marketing",
            action="granted",
            source="form",
        )
        contact_id = contact.id
    token = unsubscribe_token(
        contact_id=contact_id, channel="sms", campaign_id=None, key=settings.resolved_secret_key()
    )
    return contact_id, token


def _states(engine: Engine, contact_id: int) -> dict[tuple[str, str], tuple[str, str | None]]:
    with session_scope(engine) as s:
        return {
            key: (state.status, state.frequency)
            for key, state in consent.current_consent(s, contact_id=contact_id).items()
        }


def test_the_page_offers_each_channel_in_the_persons_language_and_changes_nothing(
    engine: Engine, web: ApiClient, campaign_settings: Settings
) -> None:
    contact_id, token = _person(engine, campaign_settings, language="fr")
    page = web.get(f"/u/{token}")
    assert page.status_code == 200
    assert "Vos préférences de messages" in page.text
    assert 'id="channel-sms"' in page.text
    assert 'id="channel-email"' in page.text
    assert "Arrêter toutes les promotions par SMS" in page.text
    english = web.get(f"/u/{token}?lang=en")
    assert "Your message preferences" in english.text
    assert "Reminders and order updates" in english.text
    assert _states(engine, contact_id) == {
        ("sms", "marketing"): ("granted", None),
        ("email", "marketing"): ("granted", None),
    }
    assert web.get(f"/u/{token[:-2]}xx").status_code == 422


def test_a_person_stops_sms_promotions_keeps_reminders_and_limits_email(
    engine: Engine, web: ApiClient, campaign_settings: Settings
) -> None:
    contact_id, token = _person(engine, campaign_settings)
    choices = (
        "channels=sms&sms_reminders=keep&sms_frequency=default"
        "&channels=email&email_promotions=keep&email_reminders=keep&email_frequency=2-a-month"
    )
    saved = web.post(f"/u/{token}/preferences?lang=en", content=choices, headers=FORM)
    assert saved.status_code == 200
    assert "Your choices are saved." in saved.text
    assert 'id="sms-promotions-off"' in saved.text
    assert _states(engine, contact_id) == {
        ("sms", "marketing"): ("revoked", None),
        ("email", "marketing"): ("granted", "2-a-month"),
    }
    again = web.post(f"/u/{token}/preferences?lang=en", content=choices, headers=FORM)
    assert "Nothing changed" in again.text
    bad = web.post(
        f"/u/{token}/preferences?lang=fr",
        content="channels=email&email_promotions=keep&email_frequency=daily",
        headers=FORM,
    )
    assert bad.status_code == 422
    assert "Choisissez la fréquence dans la liste (email_frequency)." in bad.text
    with session_scope(engine) as s:
        assert consent.verify_ledger(s, digest=TEST_DIGEST).differences == []


def test_the_one_click_post_still_stops_at_once_without_the_page(
    engine: Engine, web: ApiClient, campaign_settings: Settings
) -> None:
    contact_id, _sms_token = _person(engine, campaign_settings)
    token = unsubscribe_token(
        contact_id=contact_id,
        channel="email",
        campaign_id=None,
        key=campaign_settings.resolved_secret_key(),
    )
    done = web.post(f"/u/{token}", content="List-Unsubscribe=One-Click", headers=FORM)
    assert done.status_code == 200
    assert _states(engine, contact_id)[("email", "marketing")] == ("revoked", None)
    assert _states(engine, contact_id)[("sms", "marketing")] == ("granted", None)


def test_the_api_and_the_cli_show_what_the_person_chose(
    engine: Engine, web: ApiClient, campaign_settings: Settings
) -> None:
    contact_id, token = _person(engine, campaign_settings)
    choices = "channels=sms&sms_promotions=keep&sms_frequency=1-a-week&channels=email"
    assert web.post(f"/u/{token}/preferences", content=choices, headers=FORM).status_code == 200
    expected = [
        {
            "channel": "sms",
            "has_address": True,
            "promotions": "subscribed",
            "reminders": False,
            "frequency": "1-a-week",
        },
        {
            "channel": "email",
            "has_address": True,
            "promotions": "stopped",
            "reminders": False,
            "frequency": None,
        },
    ]
    key = make_key(engine, [Scope.READ], name="reader")
    with client(make_app(engine, campaign_settings), key) as api:
        detail = api.get(f"/v1/contacts/{contact_id}").json()
    assert detail["preferences"] == expected
    result = CliRunner().invoke(
        app, ["consent", "preferences", "+33612345678", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["preferences"] == expected
    table = CliRunner().invoke(app, ["consent", "preferences", "--email", "lea@example.org"])
    assert "at most 1-a-week" in table.stdout
    assert "stopped" in table.stdout
