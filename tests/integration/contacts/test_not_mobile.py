"""Numbers that cannot receive SMS (a fixed line, premium-rate, shared-cost) are refused for
SMS with the reason `not_mobile` at import, in planning, in the claim and for a one-off,
and kept for email."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher
from tests.factories.keys import TEST_REGION

from textopt.campaigns import service as campaigns
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.contacts import service
from textopt.contacts.importer import import_contacts
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.outbox.models import Message

LANDLINE = "01 42 68 53 00"  # Paris, a fixed line
LANDLINE_E164 = "+33142685300"


def test_an_import_keeps_a_landline_for_email_without_sms_consent(
    engine: Engine,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = tmp_path / "contacts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["phone", "email", "consent_sms_marketing", "consent_at", "consent_source"],
                [LANDLINE, "mairie@example.fr", "oui", "2024-03-01", "form"],
                ["06 12 34 56 78", "", "oui", "2024-03-01", "form"],
            ]
        )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.consents_recorded) == (2, 1)
    assert report.warnings == {"not_mobile": 1}
    with session_scope(engine) as s:
        landline = service.get_contact_by_phone_or_raise(
            s, default_region=TEST_REGION, phone=LANDLINE
        )
        assert (landline.email, landline.phone_type) == ("mairie@example.fr", "fixed_line")
        assert consent_service.current_consent(s, contact_id=landline.id) == {}
        mobile = service.get_contact_by_phone_or_raise(
            s, default_region=TEST_REGION, phone="0612345678"
        )
        assert mobile.phone_type == "mobile"


@pytest.mark.parametrize("template", ["Soldes -20% chez Boutique", "{% if 1 %}Soldes{% endif %}"])
def test_planning_blocks_a_landline_with_not_mobile(
    engine: Engine, campaign_settings: Settings, template: str
) -> None:
    """By class (a plain template) and recipient by recipient (Jinja code)."""
    with session_scope(engine) as s:
        add_contact(s, LANDLINE)
        add_contact(s, "+33612345678")
        campaign = new_campaign(s, campaign_settings, text=template)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    with session_scope(engine) as s:
        rows = dict(s.execute(select(Message.recipient, Message.reason)).all())
        statuses = dict(s.execute(select(Message.recipient, Message.status)).all())
    assert rows == {LANDLINE_E164: "not_mobile", "+33612345678": None}
    assert statuses[LANDLINE_E164] == "blocked"


def test_the_claim_refuses_a_number_found_not_mobile_after_planning(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        s.execute(update(Contact).where(Contact.id == contact.id).values(phone_type="fixed_line"))
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    with session_scope(engine) as s:
        message = s.scalars(select(Message)).one()
        assert (message.status, message.reason) == ("blocked", "not_mobile")


def test_a_one_off_to_a_landline_is_blocked_and_never_delivered(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        message, _ = enqueue_message(
            s,
            settings=campaign_settings,
            to=LANDLINE,
            text="Votre commande est prête",
            now=WEDNESDAY_10H,
        )
        assert (message.status, message.reason) == ("blocked", "not_mobile")
        assert "cannot receive SMS" in (message.reason_text or "")
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    with session_scope(engine) as s:
        assert s.scalars(select(Message.status)).one() == "blocked"


def test_a_reimport_records_the_type_of_a_number_stored_without_it(
    engine: Engine,
    tmp_path: Path,
    settings: Settings,
) -> None:
    with session_scope(engine) as s:
        s.add(Contact(phone=LANDLINE_E164, country="FR", timezones=["Europe/Paris"], attributes={}))
    path = tmp_path / "again.csv"
    path.write_text(f"phone\n{LANDLINE}\n", encoding="utf-8")
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.updated, report.warnings) == (1, {"not_mobile": 1})
    with session_scope(engine) as s:
        assert (
            service.get_contact_by_phone_or_raise(
                s, default_region=TEST_REGION, phone=LANDLINE
            ).phone_type
            == "fixed_line"
        )
