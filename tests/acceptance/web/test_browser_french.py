"""In Chromium: a segment's error is shown once, in the viewer's language, and goes once fixed."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.db.engine import session_scope


def _sign_in(page: Page) -> None:
    page.goto("/app/login")
    page.locator("#email").fill("marketer@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)


def test_a_segment_error_shows_once_in_french_and_goes_when_the_filter_is_fixed(
    page: Page, pages: Pages, live: LiveServer, engine: Engine
) -> None:
    make_user(engine, "marketer@boutique.example", Role.MARKETER)
    with session_scope(engine) as s:
        add_contact(s, "+33612345601", tags=("VIP",))
    _sign_in(page)
    page.goto("/app/segments")
    page.locator("#name").fill("fidèles")
    page.locator("#filter").fill("tagg:vip")
    page.get_by_role("button", name="Enregistrer le segment").click()

    # the page comes back with the filter and its error, which the live counter then takes
    expect(page.locator("#segment-count")).to_contain_text("mot-clé inconnu « tagg »")
    expect(page.locator("#segment-error")).to_be_hidden()
    expect(page.locator("text=mot-clé inconnu >> visible=true")).to_have_count(1)
    expect(page.locator("#segment-count")).to_contain_text("^")  # the caret under the column
    pages.check("segment-error")

    page.locator("#filter").fill("tag:Vip")
    expect(page.locator("#segment-count")).to_have_text("1 contact ✓")
    expect(page.locator("text=mot-clé inconnu >> visible=true")).to_have_count(0)
    page.get_by_role("button", name="Enregistrer le segment").click()
    expect(page.get_by_role("cell", name="fidèles")).to_be_visible()
