"""Real headless Chromium: a marketer taking Léa's call records her preferences on her contact
page, in French then English: SMS promotions at most once a week, reminders stopped, then
email promotions stopped, which the form then offers as not resumable from it."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST

from textopt.accounts.models import Role
from textopt.consent import service as consent
from textopt.db.engine import session_scope


def test_a_marketer_records_a_persons_preferences_on_the_contact_page_in_both_languages(
    page: Page, pages: Pages, engine: Engine
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
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    page.goto(f"/app/login?next=/app/contacts/{contact_id}")
    page.locator("#email").fill("marketer@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)

    sms = page.get_by_role("group", name="Par SMS")
    expect(sms.get_by_label("Rappels et suivi de commande")).to_have_value("keep")
    pages.check("contact-preferences-fr")
    sms.get_by_label("À quelle fréquence").select_option(label="1 par semaine au plus")
    sms.get_by_label("Rappels et suivi de commande").select_option(label="arrêtés")
    page.get_by_role("button", name="Enregistrer les préférences").click()
    expect(page.get_by_role("status")).to_have_text(
        "Préférences enregistrées. Par SMS : rappels et suivi de commande arrêtés, "
        "promotions limitées à 1 par semaine."
    )
    row = page.locator("#preferences-sms")
    expect(row).to_contain_text("1 par semaine au plus")
    expect(row).to_contain_text("arrêtés")
    expect(sms.get_by_label("À quelle fréquence")).to_have_value("1-a-week")

    page.get_by_role("link", name="English").click()
    email = page.get_by_role("group", name="By email")
    email.get_by_label("Promotions and news").select_option(label="stopped")
    page.get_by_role("button", name="Save the preferences").click()
    expect(page.get_by_role("status")).to_have_text(
        "Preferences saved. By email: promotions and news stopped."
    )
    expect(page.locator("#preferences-email")).to_contain_text("stopped")
    promotions = email.get_by_label("Promotions and news")
    expect(promotions.locator("option[value=keep]")).to_be_disabled()
    expect(promotions).to_have_accessible_description(
        "Promotions start again only with the person's consent and its proof (signup form, "
        "START reply, consent recorded with its proof), never from this form."
    )
    expect(email.get_by_label("How often")).to_be_disabled()
    pages.check("contact-preferences-en")

    with session_scope(engine) as s:
        states = {
            key: (state.status, state.frequency)
            for key, state in consent.current_consent(s, contact_id=contact_id).items()
        }
        assert states == {
            ("sms", "marketing"): ("granted", "1-a-week"),
            ("sms", "transactional"): ("revoked", None),
            ("email", "marketing"): ("revoked", None),
        }
        assert consent.verify_ledger(s, digest=TEST_DIGEST).ok
