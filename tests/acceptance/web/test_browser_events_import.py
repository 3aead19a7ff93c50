"""Chromium uploads an events CSV: a refused file lists every bad row in the viewer's
language and records nothing; the corrected file records its events, shown on the contact
page beside the questions the clinic's reminders asked and how they were answered."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, func, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.events.models import ContactEvent

BAD = (
    "phone;type;occurred_at;order\n"
    "06 12 34 56 78;order_shipped;2026-11-20T10:00:00+01:00;A-17\n"
    "06 98 76 54 32;order_shipped;2026-11-20T10:00:00+01:00;A-18\n"
    "06 12 34 56 78;order_shipped;hier;A-19\n"
)
GOOD = (
    "phone;type;occurred_at;order\n"
    "06 12 34 56 78;order_shipped;2026-11-20T10:00:00+01:00;A-17\n"
    "06 12 34 56 78;order_delivered;2026-11-21T10:00:00+01:00;A-17\n"
)
WORDS = {
    "fr": {
        "button": "Vérifier et enregistrer les événements",
        "refused": "2 lignes refusées sur 3",
        "no_contact": "aucun contact avec phone +33698765432",
        "not_instant": "« hier » n’est pas une date-heure ISO 8601",
        "done": "2 événements enregistrés, 0 déjà enregistrés",
        "questions": "Questions posées",
        "answered": "confirmé",
        "open": "en attente de réponse",
    },
    "en": {
        "button": "Check and record the events",
        "refused": "2 of 3 rows refused",
        "no_contact": "no contact with phone +33698765432",
        "not_instant": '"hier" is not an ISO 8601 date-time',
        "done": "2 events recorded, 0 already recorded",
        "questions": "Questions asked",
        "answered": "confirmed",
        "open": "awaiting an answer",
    },
}


def _patient_with_two_reminders(engine: Engine, settings: Settings) -> int:
    """A patient asked twice: the first reminder answered OUI, the second still open."""
    now = utcnow()
    with session_scope(engine) as s:
        patient = add_contact(s, "+33612345678")
        for reference, at in (("rdv-1", now - dt.timedelta(hours=3)), ("rdv-2", now)):
            message, _ = enqueue_message(
                s,
                settings=settings,
                to=patient.phone or "",
                text="RDV demain : OUI pour confirmer, ANNULER pour annuler.",
                asks="appointment",
                asks_reference=reference,
                now=at,
            )
            message.status, message.submitted_at = "submitted", at
            if reference == "rdv-1":
                s.flush()
                text_in(s, settings, sender="+33612345678", text="Oui", at=at)
        return patient.id


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_marketer_uploads_events_reads_the_refused_rows_then_the_contact_page(
    browser: Browser,
    live: LiveServer,
    engine: Engine,
    campaign_settings: Settings,
    tmp_path: Path,
    lang: str,
) -> None:
    words = WORDS[lang]
    contact_id = _patient_with_two_reminders(engine, campaign_settings)
    make_user(engine, "marie@clinique.example", Role.MARKETER)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="fr-FR" if lang == "fr" else "en-GB",
        base_url=live.url,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    pages = Pages(page, None)
    bad, good = tmp_path / "commandes.csv", tmp_path / "commandes-corrigees.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    try:
        page.goto("/app/import")
        page.locator("#email").fill("marie@clinique.example")
        page.locator("#password").fill(PASSWORD)
        page.locator("#password").press("Enter")
        page.wait_for_url(re.compile(r"/app/import$"))
        page.locator('a[href="/app/events/import"]').click()
        page.wait_for_url(re.compile(r"/app/events/import$"))
        pages.check(f"events-import-{lang}")
        page.locator("#file").set_input_files(str(bad))
        page.get_by_role("button", name=words["button"]).click()
        refused = page.locator("#import-refused")
        expect(refused).to_contain_text(words["refused"])
        expect(refused).to_contain_text(words["no_contact"])
        expect(refused).to_contain_text(words["not_instant"])
        expect(refused.locator("tbody tr")).to_have_count(2)
        pages.check(f"events-import-refused-{lang}")
        page.locator("#file").set_input_files(str(good))
        page.get_by_role("button", name=words["button"]).click()
        expect(page.locator("#import-done")).to_contain_text(words["done"])
        page.goto(f"/app/contacts/{contact_id}")
        assert page.title().endswith(" · textopt")
        assert "<" not in page.title()  # the title holds the number, no markup
        questions = page.locator("#questions")
        expect(questions).to_contain_text(words["questions"])
        expect(questions.locator("tbody tr")).to_have_count(2)
        expect(questions.locator("tbody tr").nth(0)).to_contain_text(words["open"])
        expect(questions.locator("tbody tr").nth(1)).to_contain_text(words["answered"])
        expect(page.locator("#events")).to_contain_text("order_delivered")
        expect(page.locator("#events")).to_contain_text("appointment_confirmed")
        pages.check(f"contact-questions-{lang}")
    finally:
        context.close()
    with session_scope(engine) as s:
        # the two imported events and the answer's: nothing of the refused file
        assert s.scalar(select(func.count()).select_from(ContactEvent)) == 3
