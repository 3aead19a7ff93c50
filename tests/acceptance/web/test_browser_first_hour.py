"""A shop owner's first hour, in French and in English, in real Chromium.

Import a file whose phone column has a name textopt does not know (mapped in the page, run
as a background job), save a segment, compose a campaign with a template error then fix
it, preview, confirm, launch and read the report. Every label the test clicks is looked up
in the catalogue from its English text, so the walk fails if a step lacks its French words.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, func, select
from tests.factories.api import PASSWORD, make_user
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.campaigns.models import Campaign
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.outbox.models import Message
from textopt.web.i18n import translator

# the phone column's header says nothing textopt recognises: the marketer maps it
CSV = """\ufeffNuméro client;prénom;tags;consent_sms_marketing;consent_at;consent_source;ville
06 12 34 56 01;Alice;vip;oui;2026-01-05 10:00;form;Lyon
06 12 34 56 02;Bruno;vip;oui;2026-01-05 10:00;form;Paris
06 12 34 56 03;Chloé;vip;oui;2026-02-11 18:30;form;Lille
06 12 34 56 04;Denis;vip;;;;Nantes
06 12;Faux;vip;oui;2026-01-05 10:00;form;Lyon
"""
LOCALES = {"fr": "fr-FR", "en": "en-GB"}


@pytest.fixture(params=list(LOCALES))
def tab(request: pytest.FixtureRequest, browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context whose language is the test's."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale=LOCALES[request.param],
        base_url=live.url,
    )
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def _settled(engine: Engine) -> bool:
    """Every message due now has gone out and has its receipt (deferred ones wait)."""
    with session_scope(engine) as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.status.in_(("planned", "queued", "sending", "submitted")),
                Message.send_at <= utcnow() + dt.timedelta(seconds=30),
            )
        )
    return waiting == 0


def test_the_first_hour_import_segment_compose_fix_preview_confirm_launch_report(
    tab: Page, live: LiveServer, engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lang = request.node.callspec.params["tab"]
    t = translator(lang)
    if lang == "fr":  # the walk below reads French words, not English ones left in place
        for english in ("Import these contacts", "Save the segment", "Launch the campaign"):
            assert t(english) != english
    page = tab
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    spreadsheet = tmp_path / "clients.csv"
    spreadsheet.write_text(CSV, encoding="utf-8")

    page.goto("/app/login?next=/app/import")
    page.locator("#email").fill("marie@boutique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(re.compile(r"/app/import$"))

    # import: the unknown phone column is mapped in the page, no second upload
    page.locator("#file").set_input_files(str(spreadsheet))
    page.get_by_role("button", name=t("Upload and check the columns")).click()
    expect(page.locator("#map-0")).to_have_value("attribute")
    page.locator("#map-0").select_option("phone")
    page.get_by_role("button", name=t("Import these contacts")).click()
    expect(page).to_have_url(re.compile(r"/app/import/jobs/\d+$"))
    expect(page.locator("h2")).to_contain_text(t("import_job.finished"))
    expect(page.locator(".tiles")).to_contain_text("4")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 4

    # segment
    page.get_by_role("navigation").get_by_role("link", name=t("Segments"), exact=True).click()
    page.locator("#name").fill("vip")
    page.locator("#filter").fill("tag:vip")
    expect(page.locator("#segment-count")).to_contain_text("4")
    page.get_by_role("button", name=t("Save the segment")).click()
    expect(page.locator("tbody")).to_contain_text("tag:vip")

    # composer: a template error shows live in the viewer's language, the fix clears it
    nav = page.get_by_role("navigation")
    nav.get_by_role("link", name=t("Campaigns"), exact=True).click()
    page.get_by_role("link", name=t("New campaign")).click()
    expect(page.locator("#segment")).to_have_value("")  # no segment chosen for the marketer
    page.locator("#name").fill("Soldes VIP")
    page.locator("#segment").select_option("vip")
    page.locator("#text").fill("{{ prenom }}, -20% chez Boutique Lumiere jusqu'à dimanche")
    error = page.locator('#analysis [data-field="error"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("prenom")
    page.locator("#text").fill(
        "{{ first_name | default('Bonjour') }}, -20% chez Boutique Lumiere jusqu'à dimanche"
    )
    expect(error).to_be_hidden()
    expect(page.locator('[data-field="samples"]')).to_contain_text("Alice, -20%")
    page.get_by_role("button", name=t("Save the draft and preview")).click()

    # preview, confirmation, launch
    expect(page).to_have_url(re.compile(r"/app/campaigns/\d+(\?.*)?$"))
    expect(page.locator("h2", has_text=t("Preview: what launching now would do"))).to_be_visible()
    page.get_by_role("button", name=t("Launch the campaign")).click()
    expect(page.locator('[data-field="launch-summary"]')).to_contain_text(t("First send"))
    expect(page.locator('[data-field="recipients"]')).to_contain_text("3")
    page.get_by_role("button", name=t("Confirm the launch")).click()
    expect(page.locator(".notice")).to_have_text(t("notice.launched"))

    # the report, once what is due has gone out
    deadline = time.monotonic() + 30
    while not _settled(engine):
        assert time.monotonic() < deadline, "the due messages were not sent in time"
        time.sleep(0.2)
    page.reload()
    report = page.locator("section.card", has=page.locator("h2", has_text=t("Report")))
    expect(report).to_be_visible()
    with session_scope(engine) as session:
        campaign = session.scalars(select(Campaign)).one()
        assert campaign.status in ("running", "completed")
        assert session.scalar(select(func.count()).select_from(Message)) == 4
