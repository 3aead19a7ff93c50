"""Real headless Chromium walks a marketer and a person through the product, page by page."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.inbound import text_in
from tests.factories.web import CONSENT_BODY, signup_list
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.inbound.models import InboundAction
from textopt.outbox.models import Message

CSV = """\ufefftéléphone;prénom;nom;tags;consent_sms_marketing;consent_at;consent_source;ville
06 12 34 56 01;Alice;Martin;vip;oui;2026-01-05 10:00;form;Lyon
06 12 34 56 02;Bruno;Petit;vip;oui;2026-01-05 10:00;form;Paris
06 12 34 56 03;Chloé;Durand;vip;oui;2026-02-11 18:30;form;Lille
06 12 34 56 04;Denis;Moreau;vip;oui;2026-03-01 09:15;form;Nantes
06 12 34 56 05;Emma;Roux;vip;;;;Lyon
06 12;Faux;Numéro;vip;oui;2026-01-05 10:00;form;Lyon
"""
TEXT = "Soldes d’hiver {{ first_name }} : -20% sur https://boutique.example.fr/soldes"


def _wait_for(condition: Callable[[], bool], *, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.1)


def _nothing_due(engine: Engine) -> bool:
    """Every message due now is sent and has its receipt (deferred ones wait for their hour)."""
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


def _menu(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def _sign_in(page: Page, email: str) -> None:
    """With the keyboard only: the form is reachable and usable without a mouse."""
    page.locator("#email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)


def test_a_marketer_imports_segments_composes_previews_launches_and_reads_the_report(
    page: Page, pages: Pages, live: LiveServer, engine: Engine, tmp_path: Path
) -> None:
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    with session_scope(engine) as session:
        signup_list(session)
    spreadsheet = tmp_path / "clients.csv"
    spreadsheet.write_text(CSV, encoding="utf-8")

    page.goto("/app/contacts")
    expect(page).to_have_url(re.compile(r"/app/login\?next="))
    pages.check("login")
    _sign_in(page, "marie@boutique.example")
    expect(page).to_have_url(re.compile(r"/app/contacts$"))

    page.goto("/app/")
    expect(page.locator("h1")).to_have_text("Vue d’ensemble")

    _menu(page, "Import")
    page.locator("#file").set_input_files(str(spreadsheet))
    page.get_by_role("button", name=re.compile("Envoyer")).click()
    mapping = page.locator("table").first
    expect(mapping).to_contain_text("téléphone")
    expect(mapping).to_contain_text("ville")
    expect(mapping).to_contain_text("Alice · Bruno · Chloé")
    pages.check("import-mapping")
    page.get_by_role("button", name=re.compile("Importer ces contacts")).click()
    expect(page.locator(".tiles")).to_contain_text("5")
    expect(page.get_by_role("link", name=re.compile("lignes refusées"))).to_be_visible()
    pages.check("import-result")
    rejects = page.get_by_role("link", name=re.compile("lignes refusées")).get_attribute("href")
    assert rejects is not None
    assert "06 12;Faux" in page.request.get(rejects).text()

    _menu(page, "Contacts")
    expect(page.locator("tbody tr")).to_have_count(5)
    pages.check("contacts")
    page.locator("#q").fill("Chloé")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="+33612345603").click()
    expect(page.locator("h1")).to_contain_text("Chloé")
    expect(page.locator(".ledger")).to_contain_text("clients.csv")
    pages.check("contact")

    _menu(page, "Segments")
    page.locator("#name").fill("vip")
    page.locator("#filter").fill("tag:vip")
    expect(page.locator("#segment-count")).to_contain_text("5")
    pages.check("segments")
    page.get_by_role("button", name=re.compile("Enregistrer")).click()
    expect(page.locator("tbody")).to_contain_text("tag:vip")

    _menu(page, "Campagnes")
    page.get_by_role("link", name="Nouvelle campagne").click()
    page.locator("#name").fill("Soldes d'hiver")
    page.locator("#segment").select_option("vip")
    page.locator("#track_links").check()
    page.locator("#text").fill(TEXT)
    mirror = page.locator('[data-field="mirror"]')
    expect(mirror.locator("mark")).to_have_text("’")
    expect(page.locator('[data-field="encoding"]')).to_have_text("UCS-2")
    expect(page.locator('[data-field="audience"]')).to_have_text("5")
    expect(page.locator('[data-field="samples"]')).to_contain_text("Alice")
    expect(page.locator('[data-field="samples"]')).to_contain_text(live.url + "/l/")
    pages.check("composer")
    page.get_by_role("button", name=re.compile("suggestion")).click()
    expect(page.locator("#text")).to_have_value(TEXT.replace("’", "'"))
    expect(page.locator('[data-field="encoding"]')).to_have_text("GSM-7")
    page.get_by_role("button", name=re.compile("brouillon")).click()

    expect(page).to_have_url(re.compile(r"/app/campaigns/\d+"))
    preview = page.locator("section.card", has=page.locator("h2", has_text="Aperçu"))
    expect(preview).to_contain_text("Pas de consentement marketing")
    expect(preview.locator("svg[role=img]").first).to_be_visible()
    pages.check("campaign-preview")

    page.get_by_role("button", name="Lancer la campagne").click()
    expect(page.locator('[data-field="launch-summary"]')).to_contain_text("Premier envoi")
    pages.check("launch-confirmation")
    page.get_by_role("button", name="Confirmer le lancement").click()
    expect(page.locator(".notice")).to_be_visible()
    _wait_for(lambda: _nothing_due(engine))
    page.reload()
    report = page.locator("section.card", has=page.locator("h2", has_text="Rapport"))
    expect(report.locator("svg[role=img]").first).to_be_visible()
    pages.check("campaign-report")

    _menu(page, "Réglages")
    expect(page.locator("body")).to_contain_text("Le Club Lumière")
    pages.check("settings")

    _menu(page, "Vue d’ensemble")
    expect(page.locator("tbody")).to_contain_text("Soldes d'hiver")
    pages.check("overview")


def test_a_person_signs_up_confirms_by_sms_and_the_proof_shows_the_confirmed_consent(
    page: Page, pages: Pages, live: LiveServer, engine: Engine, journal: Path
) -> None:
    with session_scope(engine) as session:
        signup_list(session)
    make_user(engine, "admin@boutique.example", Role.ADMIN)

    page.goto("/s/club")
    expect(page.locator("label[for=consent]")).to_have_text(CONSENT_BODY)
    expect(page.locator("#consent")).not_to_be_checked()
    pages.check("signup")
    page.locator("#phone").fill("06 98 76 54 32")
    page.locator("#consent").check()
    page.get_by_role("button", name="S’inscrire").click()
    expect(page.get_by_role("status")).to_contain_text("06 98 76 54 32")
    expect(page.locator("main")).to_contain_text("OUI")
    pages.check("signup-sent")

    def texted() -> bool:
        lines = journal.read_text().splitlines() if journal.exists() else []
        return any(json.loads(line)["to"] == "+33698765432" for line in lines)

    _wait_for(texted)
    with session_scope(engine) as session:
        result = text_in(session, live.settings, sender="+33698765432", text="OUI", at=utcnow())
    assert result.action == InboundAction.CONFIRMED

    page.goto("/app/login")
    _sign_in(page, "admin@boutique.example")
    page.goto("/app/contacts?q=98765432")
    page.get_by_role("link", name="+33698765432").click()
    page.get_by_role("link", name=re.compile("Preuve du consentement")).click()
    ledger = page.locator(".ledger")
    expect(ledger).to_contain_text("confirmé")
    expect(ledger).to_contain_text(f"{live.url}/s/club")
    expect(ledger).to_contain_text("club-v1")
    expect(page.locator(".consent-text blockquote")).to_have_text(CONSENT_BODY)
    expect(page.locator("main")).to_contain_text("OUI")
    pages.check("consent-proof")
