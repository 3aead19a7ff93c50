"""Real headless Chromium: a marketer defines HORAIRES on the keywords page, a customer texts
it and is answered, the contact page says so, and the marketer switches the keyword off."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.db.engine import session_scope

FR = "Nouveaux horaires : du lundi au samedi, 9h-19h."
EN = "New opening hours: Monday to Saturday, 9am-7pm."


def test_a_marketer_defines_horaires_a_customer_is_answered_then_it_is_switched_off(
    page: Page, pages: Pages, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678", first_name="Léa").id
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    page.goto("/app/login")
    page.locator("#email").fill("marketer@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)

    page.get_by_role("navigation").get_by_role("link", name="Mots-clés", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mots-clés")
    pages.check("keywords")
    page.get_by_label("Mot", exact=True).fill("STOP")
    page.get_by_label("Réponse (FR)").fill(FR)
    page.get_by_role("button", name="Ajouter le mot-clé").click()
    expect(page.get_by_role("alert")).to_contain_text("mot : STOP est réservé")
    expect(page.get_by_label("Réponse (FR)")).to_have_value(FR)  # nothing typed is lost
    page.get_by_label("Mot", exact=True).fill("Horaires")
    page.get_by_label("Réponse (EN)").fill(EN)
    page.get_by_role("button", name="Ajouter le mot-clé").click()
    expect(page.get_by_role("status")).to_have_text("Mot-clé ajouté.")
    row = page.locator("tr", has=page.locator("strong", has_text="HORAIRES"))
    expect(row).to_contain_text(FR)
    expect(row).to_contain_text(EN)
    pages.check("keywords-added")

    with session_scope(engine) as s:
        asked = text_in(s, campaign_settings, sender="+33612345678", text="horaires ?")
        assert asked.reply is not None
        assert asked.reply.body == FR
    page.goto(f"/app/contacts/{contact_id}")
    expect(page.locator("body")).to_contain_text("mot-clé : réponse envoyée")
    expect(page.locator("body")).to_contain_text("keyword.horaires")

    page.goto("/app/keywords")
    row = page.locator("tr", has=page.locator("strong", has_text="HORAIRES"))
    row.get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("status")).to_have_text(
        "Mot-clé désactivé : il ne reçoit plus de réponse."
    )
    expect(row).to_contain_text("non (désactivé)")
    with session_scope(engine) as s:
        later = text_in(
            s, campaign_settings, sender="+33612345678", text="HORAIRES", message_id="2"
        )
        assert (later.action, later.reply) == ("keyword_off", None)
