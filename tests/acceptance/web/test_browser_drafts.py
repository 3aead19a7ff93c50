"""Chromium walks a draft from a template error to its launch, in French and in English:
the composer shows the error live, the fix clears it, the preview, the confirmation, the
launch."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import Engine, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.campaigns.models import Campaign
from textopt.campaigns.segments import create_segment
from textopt.db.engine import session_scope

WORDS = {
    "fr-FR": {
        "missing": "La variable « prenom » manque",
        "save": "Enregistrer le brouillon",
        "preview": "Aperçu",
        "launch": "Lancer la campagne",
        "first": "Premier envoi",
        "confirm": "Confirmer le lancement",
        "launched": "La campagne est lancée",
        "duplicate": "Dupliquer en un nouveau brouillon",
        "edit": "Modifier le brouillon",
        "delete": "Supprimer le brouillon",
        "deleted": "Le brouillon est supprimé.",
    },
    "en-GB": {
        "missing": "The variable “prenom” is missing",
        "save": "Save the draft",
        "preview": "Preview",
        "launch": "Launch the campaign",
        "first": "First send",
        "confirm": "Confirm the launch",
        "launched": "The campaign is launched",
        "duplicate": "Duplicate into a new draft",
        "edit": "Edit the draft",
        "delete": "Delete the draft",
        "deleted": "The draft is deleted.",
    },
}


@pytest.fixture(params=list(WORDS))
def tab(request: pytest.FixtureRequest, browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context in the language of the test."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=request.param, base_url=live.url
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_a_template_error_shows_live_then_the_fixed_draft_is_previewed_confirmed_launched(
    tab: Page, live: LiveServer, engine: Engine, request: pytest.FixtureRequest
) -> None:
    page = tab
    words = WORDS[request.node.callspec.params["tab"]]
    checks = Pages(page, None)
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    with session_scope(engine) as s:
        create_segment(s, name="vip", filter="tag:vip")
        add_contact(s, "+33612345601", first_name="Alice")
        add_contact(s, "+33612345602", first_name="Bruno")

    page.goto("/app/login?next=/app/campaigns/new")
    page.locator("#email").fill("marie@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r"/app/campaigns/new$"))
    expect(page.locator("#segment")).to_have_value("")  # nothing chosen for the marketer
    page.locator("#name").fill("Rappel RDV")
    page.locator("#segment").select_option("vip")
    page.locator("#purpose").select_option("transactional")  # any hour of the wall clock

    page.locator("#text").fill("Bonjour {{ prenom }}, votre RDV est demain")
    error = page.locator('#analysis [data-field="error"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text(words["missing"])
    expect(page.locator('[data-field="encoding"]')).to_have_text("—")
    expect(page.locator('[data-field="samples"]')).to_contain_text(words["missing"])
    checks.check("composer-template-error")

    page.locator("#text").fill("Bonjour {{ first_name }}, votre RDV est demain")
    expect(error).to_be_hidden()
    expect(page.locator('[data-field="encoding"]')).to_have_text("GSM-7")
    expect(page.locator('[data-field="samples"]')).to_contain_text("Bonjour Alice")
    page.get_by_role("button", name=re.compile(words["save"])).click()

    expect(page).to_have_url(re.compile(r"/app/campaigns/\d+"))
    expect(page.locator("h2", has_text=words["preview"])).to_be_visible()
    page.get_by_role("button", name=words["launch"]).click()
    summary = page.locator('[data-field="launch-summary"]')
    expect(summary).to_contain_text(words["first"])
    expect(page.locator('[data-field="recipients"]')).to_contain_text("2")
    expect(page.locator('[data-field="segment"]')).to_contain_text("vip")
    checks.check("launch-confirmation")
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.locator(".notice")).to_contain_text(words["launched"])
    with session_scope(engine) as s:
        statuses = list(s.scalars(select(Campaign.status)))
    assert statuses in (["running"], ["completed"])

    # the launched campaign is copied into a new draft, which is deleted after a question
    page.get_by_role("button", name=words["duplicate"]).click()
    expect(page.get_by_role("link", name=words["edit"]).first).to_be_visible()
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_role("button", name=words["delete"]).click()
    expect(page.locator(".notice")).to_have_text(words["deleted"])
    assert len(questions) == 1
    with session_scope(engine) as s:
        assert len(list(s.scalars(select(Campaign.id)))) == 1
