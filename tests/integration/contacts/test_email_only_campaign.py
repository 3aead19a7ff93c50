"""Contacts imported with only an email address meet campaigns: an SMS rule blocks them with a
stored reason, an email rule reaches them; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import WEDNESDAY_10H, run_dispatcher
from tests.factories.contacts import write_csv
from tests.factories.multichannel import by_channel, new_multichannel_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings, reset_settings
from textopt.contacts.importer import import_contacts
from textopt.db.engine import session_scope

LATER = WEDNESDAY_10H + dt.timedelta(minutes=1)


@pytest.fixture
def mail_settings(
    campaign_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The campaign settings plus a sandbox email account."""
    mail = {
        "kind": "sandbox",
        "channel": "email",
        "rate": 10_000,
        "receipt_delay": 0.01,
        "failure_rate": 0,
        "expiry_rate": 0,
        "journal": str(tmp_path / "mail.jsonl"),
    }
    providers = {**campaign_settings.providers, "mail": mail}
    values = campaign_settings.model_copy(update={"providers": providers, "email_price": 0.001})
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(providers))
    reset_settings(values)
    yield values
    reset_settings(campaign_settings)


def _import_people(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """Léa has a mobile and both consents; Marc only an email address and email consent."""
    path = write_csv(
        tmp_path / "clients.csv",
        [
            ["Prénom", "Mobile", "Courriel", "Opt-in SMS", "Opt-in e-mail", "Date consentement",
             "Source", "Étiquettes"],
            ["Léa", "06 12 34 56 01", "lea@example.fr", "oui", "oui", "01/10/2026", "magasin",
             "vip"],
            ["Marc", "", "marc@example.fr", "", "oui", "01/10/2026", "formulaire", "vip"],
        ],
        delimiter=";",
    )  # fmt: skip
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.consents_recorded, report.rejected_total) == (2, 3, 0)


def _launch(engine: Engine, settings: Settings, channels: str, **options: object) -> int:
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, settings, channels=channels, **options)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return campaign.id


def test_sms_and_email_rules_over_an_imported_email_only_contact(
    engine: Engine, mail_settings: Settings, tmp_path: Path
) -> None:
    _import_people(engine, mail_settings, tmp_path)
    campaign_id = _launch(engine, mail_settings, "both")
    run_dispatcher(engine, mail_settings, at=LATER)
    assert by_channel(engine, campaign_id) == {
        ("Léa", "sms"): ("sent", None),
        ("Léa", "email"): ("sent", None),
        ("Marc", "sms"): ("blocked", "invalid_number"),  # no number: never an SMS
        ("Marc", "email"): ("sent", None),
    }


def test_sms_else_email_reaches_the_email_only_contact_by_email(
    engine: Engine, mail_settings: Settings, tmp_path: Path
) -> None:
    _import_people(engine, mail_settings, tmp_path)
    campaign_id = _launch(engine, mail_settings, "sms-else-email")
    run_dispatcher(engine, mail_settings, at=LATER)
    assert by_channel(engine, campaign_id) == {
        ("Léa", "sms"): ("sent", None),
        ("Marc", "sms"): ("blocked", "invalid_number"),
        ("Marc", "email"): ("sent", None),
    }


def test_an_sms_campaign_blocks_the_email_only_contact_with_its_reason(
    engine: Engine, mail_settings: Settings, tmp_path: Path
) -> None:
    _import_people(engine, mail_settings, tmp_path)
    campaign_id = _launch(engine, mail_settings, "sms", subject=None, html=None)
    run_dispatcher(engine, mail_settings, at=LATER)
    assert by_channel(engine, campaign_id) == {
        ("Léa", "sms"): ("sent", None),
        ("Marc", "sms"): ("blocked", "invalid_number"),
    }
