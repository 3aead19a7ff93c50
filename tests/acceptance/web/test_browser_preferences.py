"""Real headless Chromium: a person opens the link of an SMS, in French then English, stops
SMS promotions, keeps reminders, limits emails to 2 a month; the marketer sees it on the
contact page."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.unsubscribe import unsubscribe_token
from textopt.db.engine import session_scope


def test_a_person_keeps_reminders_stops_sms_promotions_and_limits_emails_in_both_languages(
    page: Page, pages: Pages, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678", email="lea@example.org", first_name="Léa")
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
        contact_id=contact_id,
        channel="sms",
        campaign_id=7,
        key=campaign_settings.resolved_secret_key(),
    )

    page.goto(f"/u/{token}")  # the browser asks for French
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos préférences de messages")
    pages.check("preferences-fr")
    sms = page.get_by_role("group", name="Par SMS")
    email = page.get_by_role("group", name="Par e-mail")
    expect(sms.get_by_label("Rappels et suivi de commande")).to_be_checked()
    sms.get_by_label("Promotions et nouveautés").uncheck()
    email.get_by_label("À quelle fréquence").select_option(label="2 par mois au plus")
    page.get_by_role("button", name="Enregistrer mes choix").click()
    expect(page.get_by_role("status")).to_have_text("Vos choix sont enregistrés.")
    expect(sms).to_contain_text("Promotions et nouveautés : vous ne les recevez pas.")
    expect(email.get_by_label("À quelle fréquence")).to_have_value("2-a-month")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your message preferences")
    pages.check("preferences-en")
    email = page.get_by_role("group", name="By email")
    expect(email.get_by_label("How often")).to_have_value("2-a-month")
    email.get_by_label("Reminders and order updates").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
    expect(page.get_by_role("group", name="By SMS")).to_contain_text(
        "Promotions and news: you do not receive them."
    )

    with session_scope(engine) as s:
        states = {
            key: (state.status, state.frequency)
            for key, state in consent.current_consent(s, contact_id=contact_id).items()
        }
        assert states == {
            ("sms", "marketing"): ("revoked", None),
            ("email", "marketing"): ("granted", "2-a-month"),
            ("email", "transactional"): ("revoked", None),
        }
        assert consent.verify_ledger(s, digest=TEST_DIGEST).ok

    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    page.goto("/app/login")
    page.locator("#email").fill("marketer@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)
    page.goto(f"/app/contacts/{contact_id}")
    expect(page.locator("#preferences-sms")).to_contain_text("arrêtées")
    expect(page.locator("#preferences-email")).to_contain_text("2 par mois au plus")
    expect(page.locator("#preferences-email")).to_contain_text("arrêtés")
    expect(page.locator("body")).to_contain_text("limite choisie : 2 par mois au plus")
    pages.check("contact-preferences")
