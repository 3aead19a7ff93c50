"""The inbox in real Chromium, in French and in English: the navigation counts the unread
messages, a conversation is opened (and read), answered conversationally with its SMS parts
shown live, assigned and closed; a reply two days after the person's message goes through
the policy and the conversation shows why it was not sent."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.conversations.models import Conversation
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import translator

LOCALES = {"fr": "fr-FR", "en": "en-GB"}
ALICE = "+33612345678"
BRUNO = "+33612345679"


@pytest.fixture(params=list(LOCALES))
def tab(request: pytest.FixtureRequest, browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context whose language is the test's."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale=LOCALES[request.param], base_url=live.url
    )
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_read_reply_conversationally_assign_close_and_a_late_reply_held_by_the_policy(
    tab: Page, engine: Engine, campaign_settings: Settings, request: pytest.FixtureRequest
) -> None:
    lang = request.node.callspec.params["tab"]
    t = translator(lang)
    if lang == "fr":
        for english in ("Inbox", "Send the reply", "Close the conversation"):
            assert t(english) != english
    page = tab
    pages = Pages(page, None)
    now = utcnow()
    with session_scope(engine) as s:
        add_contact(s, ALICE, first_name="Alice", consent_at=None)
        add_contact(s, BRUNO, first_name="Bruno", consent_at=None)
        text_in(
            s,
            campaign_settings,
            sender=ALICE,
            text="Ma commande arrive quand ?",
            message_id="a",
            at=now - dt.timedelta(minutes=2),
        )
        text_in(
            s,
            campaign_settings,
            sender=BRUNO,
            text="Vous avez des promos ?",
            message_id="b",
            at=now - dt.timedelta(days=2),
        )
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    page.goto("/app/login")
    page.locator("#email").fill("marie@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)

    # the navigation counts what nobody read yet
    inbox_link = page.locator("#nav-inbox")
    expect(inbox_link).to_contain_text(t("Inbox"))
    expect(inbox_link.locator(".badge")).to_have_text("2")
    inbox_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Inbox"))
    pages.check("inbox")
    rows = page.locator("#conversations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Alice")
    expect(rows.first).to_contain_text("Ma commande arrive quand ?")

    # opened, it is read; the reply goes as conversational, its parts counted live
    rows.first.get_by_role("link", name="Alice").click()
    expect(page.locator("#thread")).to_contain_text("Ma commande arrive quand ?")
    expect(page.locator("#nav-inbox .badge")).to_have_text("1")
    expect(page.locator("#reply-window")).to_contain_text(t("reply.conversational").split()[0][:5])
    pages.check("conversation")
    page.get_by_label(t("Your reply")).fill("Elle part demain matin, Alice.")
    expect(page.locator("#reply-live")).to_contain_text(t("reply.conversational"))
    expect(page.locator("#reply-live")).to_contain_text(f"1 {t('SMS part')}")
    page.get_by_role("button", name=t("Send the reply")).click()
    expect(page.get_by_role("status")).to_have_text(t("inbox.replied"))
    reply = page.locator("#thread li.out")
    expect(reply).to_contain_text("Elle part demain matin, Alice.")
    expect(reply).to_contain_text(t("reply.conversational"))

    # assigned to the marketer, then closed: it leaves the open list
    page.get_by_label(t("Assign to"), exact=True).select_option(label="marie@boutique.example")
    page.get_by_role("button", name=t("Assign"), exact=True).click()
    expect(page.get_by_role("status")).to_have_text(t("inbox.assigned"))
    expect(page.locator("#conversation-state")).to_contain_text("marie@boutique.example")
    page.get_by_role("button", name=t("Close the conversation")).click()
    expect(page.get_by_role("status")).to_have_text(t("inbox.closed"))
    expect(page.locator("#conversation-state")).to_contain_text(t("conversation.closed"))
    page.goto("/app/inbox")
    expect(page.locator("#conversations tbody tr")).to_have_count(1)
    page.get_by_role("link", name=t("inbox.filter.closed"), exact=True).click()
    expect(page.locator("#conversations")).to_contain_text("Alice")

    # two days later: the user must say what the reply is, and marketing needs consent
    page.get_by_role("link", name=t("inbox.filter.open"), exact=True).click()
    page.get_by_role("link", name="Bruno").click()
    expect(page.locator("#reply-window")).to_contain_text(t("window.expired"))
    page.get_by_label(t("Your reply")).fill("-20 % ce week-end !")
    page.get_by_role("button", name=t("Send the reply")).click()
    refusal = translate_message(
        t,
        "kind: the person's last message is 24 hours old or more, so a reply is not "
        "conversational: choose whether the reply is transactional or marketing",
    )
    expect(page.get_by_role("alert")).to_have_text(refusal)
    expect(page.get_by_label(t("Your reply"))).to_have_value("-20 % ce week-end !")
    page.get_by_label(t("Send as")).select_option("marketing")
    expect(page.locator("#reply-live")).to_contain_text(t("reply.marketing"))
    page.get_by_role("button", name=t("Send the reply")).click()
    expect(page.get_by_role("status")).to_have_text(t("inbox.blocked"))
    blocked = page.locator("#thread li.out")
    expect(blocked).to_contain_text(t("blocked"))
    expect(blocked).to_contain_text(re.compile(re.escape(t("no_consent")), re.IGNORECASE))
    pages.check("conversation-blocked")
    with session_scope(engine) as s:
        states = sorted(s.scalars(select(Conversation.state)))
    assert states == ["closed", "open"]
    assert re.search(r"/app/inbox/\d+", page.url)
