"""Chromium imports a file whose headers say nothing: the columns mapped in the page, the
progress bar while the job runs, then the result, in French and in English."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, func, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_user
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.contacts.importer import ImportProgress
from textopt.contacts.importjobs import ImportRunner
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope


class _HeldRunner(ImportRunner):
    """Holds each import after its first batch until the test has seen the progress."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings)
        self.release = threading.Event()

    def _check(self, progress: ImportProgress) -> None:
        if progress.batches_committed == 1:
            self.release.wait(60)
        super()._check(progress)


@pytest.fixture
def held(engine: Engine, campaign_settings: Settings) -> Iterator[tuple[LiveServer, _HeldRunner]]:
    """The app without its dispatcher, importing 10 rows per batch with a held runner."""
    settings = campaign_settings.model_copy(update={"import_batch_size": 10})
    with LiveServer(engine, settings, dispatcher=False) as server:
        app = server.server.config.app
        runner = _HeldRunner(engine, server.settings)
        app.state.import_runner = runner
        yield server, runner
        runner.release.set()


def _crm_file(path: Path) -> Path:
    lines = ["Numéro client;Prénom;Ville;Note interne"]
    for n in range(40):
        number = "06 12" if n == 39 else f"06 12 34 {n // 10:02d} {n % 10}0"
        lines.append(f"{number};Client {n};Lyon;privé")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WORDS = {
    "fr": {
        "upload": "Envoyer et vérifier les colonnes",
        "start": "Importer ces contacts",
        "held": "10 lignes sur 40",
        "done": "Import terminé",
        "rejects": "lignes refusées",
        "reason": "le numéro de téléphone n’est pas valide",
    },
    "en": {
        "upload": "Upload and check the columns",
        "start": "Import these contacts",
        "held": "10 of 40 rows",
        "done": "Import finished",
        "rejects": "rejected rows",
        "reason": "the phone number is not valid",
    },
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_marketer_maps_a_column_in_the_page_follows_the_progress_and_reads_the_result(
    browser: Browser,
    held: tuple[LiveServer, _HeldRunner],
    engine: Engine,
    tmp_path: Path,
    lang: str,
) -> None:
    live, runner = held
    words = WORDS[lang]
    make_user(engine, "marie@boutique.example", Role.MARKETER)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="fr-FR" if lang == "fr" else "en-GB",
        base_url=live.url,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    pages = Pages(page, None)
    try:
        page.goto("/app/import")
        page.locator("#email").fill("marie@boutique.example")
        page.locator("#password").fill(PASSWORD)
        page.locator("#password").press("Enter")
        page.wait_for_url(re.compile(r"/app/import$"))
        page.locator("#file").set_input_files(str(_crm_file(tmp_path / "crm.csv")))
        page.get_by_role("button", name=words["upload"]).click()
        # nothing in the file is named like a phone: the page says so and offers the choice
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.locator("#map-0")).to_have_value("attribute")
        expect(page.locator("#map-1")).to_have_value("first_name")
        expect(page.locator("table.preview")).to_contain_text("Client 0")
        pages.check(f"import-mapping-{lang}")
        page.locator("#map-0").select_option("phone")
        page.locator("#map-3").select_option("ignore")
        page.get_by_role("button", name=words["start"]).click()

        expect(page).to_have_url(re.compile(r"/app/import/jobs/\d+$"))
        expect(page.locator("#import-progress")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text(words["held"])
        expect(page.locator("#import-progress")).to_have_attribute("value", "25")
        pages.check(f"import-progress-{lang}")
        runner.release.set()

        expect(page.locator("h2")).to_contain_text(words["done"])
        expect(page.locator(".tiles")).to_contain_text("39")
        expect(page.get_by_text(words["reason"])).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(words["rejects"]))).to_be_visible()
        pages.check(f"import-result-{lang}")
        page.reload()  # the result is the job's, not the page's: it stays
        expect(page.locator("h2")).to_contain_text(words["done"])
    finally:
        context.close()
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 39
        first = session.scalars(select(Contact).where(Contact.first_name == "Client 0")).one()
        assert first.phone == "+33612340000"
        assert first.attributes == {"Ville": "Lyon"}
