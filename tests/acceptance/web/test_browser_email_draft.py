"""Chromium writes a multichannel draft, in French and in English: the email part shows its
template error live beside the SMS figures, the fix clears it, and the saved draft keeps
its email."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from tests.factories.api import PASSWORD, make_user
from tests.factories.multichannel import NEWSLETTER, add_person
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.campaigns.models import Campaign
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.db.engine import session_scope

WORDS = {
    "fr-FR": {
        "missing": "HTML de l’e-mail : La variable « prenom » manque",
        "who": "(pour Alice)",
        "save": "Enregistrer le brouillon",
        "channels": "SMS, sinon e-mail",
    },
    "en-GB": {
        "missing": "Email HTML: The variable “prenom” is missing",
        "who": "(for Alice)",
        "save": "Save the draft",
        "channels": "SMS, else email",
    },
}


@pytest.fixture
def live(engine: Engine, campaign_settings: Settings) -> Iterator[LiveServer]:
    """The app with an email account beside the SMS sandbox."""
    mail = {"kind": "sandbox", "channel": "email", "rate": 1000, "receipt_delay": 0.01}
    providers = {**campaign_settings.providers, "mail": mail}
    with LiveServer(engine, campaign_settings.model_copy(update={"providers": providers})) as s:
        yield s


@pytest.fixture(params=list(WORDS))
def tab(request: pytest.FixtureRequest, browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context in the language of the test."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=request.param, base_url=live.url
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_the_email_part_shows_its_error_live_and_the_fixed_draft_keeps_its_email(
    tab: Page, engine: Engine, request: pytest.FixtureRequest
) -> None:
    page = tab
    words = WORDS[request.node.callspec.params["tab"]]
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    with session_scope(engine) as s:
        create_segment(s, name="vip", filter="tag:vip")
        add_person(s, phone="+33612345601", email="alice@example.fr", first_name="Alice")

    page.goto("/app/login?next=/app/campaigns/new")
    page.locator("#email").fill("marie@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r"/app/campaigns/new$"))
    page.locator("#name").fill("Lettre d'hiver")
    page.locator("#segment").select_option("vip")
    page.locator("#purpose").select_option("transactional")  # any hour of the wall clock
    page.locator("#channels").select_option(label=words["channels"])
    page.locator("#text").fill("La lettre d'hiver est sortie")
    page.locator("#email_subject").fill("La lettre d'hiver")

    page.locator("#email_template").fill("<p>Bonjour {{ prenom }}</p>")
    error = page.locator('#email-part [data-field="email_error"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text(words["missing"])
    expect(error).to_contain_text(words["who"])
    expect(page.locator('#analysis [data-field="encoding"]')).to_have_text("GSM-7")

    page.locator("#email_template").fill(NEWSLETTER)
    expect(error).to_be_hidden()
    page.get_by_role("button", name=re.compile(words["save"])).click()
    expect(page).to_have_url(re.compile(r"/app/campaigns/\d+"))
    expect(page.locator('[data-field="email"]')).to_contain_text("La lettre d'hiver")
    with session_scope(engine) as s:
        campaign = s.scalars(select(Campaign)).one()
        assert (campaign.channels, campaign.email_template) == ("sms-else-email", NEWSLETTER)
