"""Browser fixtures: the live app on each test database, Debian's chromium through Playwright.

Set `TEXTOPT_SCREENSHOTS=<folder>` (as `make screenshots` does) to save a PNG of each page
the walkthroughs visit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import Engine
from tests.servers.web import CHROMIUM_ARGS, LiveServer, chromium_executable

from textopt.config import Settings

# Every check a page must pass, run in the page: labels, alt texts, names, language.
A11Y_SCRIPT = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html without lang");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = el.labels && el.labels.length > 0 || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.src}`);
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    if (!svg.querySelector("title")) problems.push("chart without title");
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!(el.textContent.trim() || el.getAttribute("aria-label"))) {
      problems.push(`${el.tagName.toLowerCase()} without a name`);
    }
  }
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length) problems.push(`duplicate ids: ${twice.join(", ")}`);
  if (!document.querySelector("h1")) problems.push("no h1");
  return problems;
}"""


class Pages:
    """Checks each page for accessibility basics and saves its screenshot when asked."""

    def __init__(self, page: Page, folder: Path | None) -> None:
        self.page = page
        self.folder = folder
        self.visited: list[str] = []

    def check(self, name: str) -> None:
        """The current page passes the checks (and is saved as `name`.png when asked)."""
        problems = self.page.evaluate(A11Y_SCRIPT)
        assert problems == [], f"{name} ({self.page.url}): {problems}"
        self.visited.append(name)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.folder / f"{name}.png"))


# Module scope: Playwright's sync API keeps an event loop running in the main thread while
# it is started, which would break every later test that calls `asyncio.run`.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless, with a fresh profile and no background traffic."""
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def live(engine: Engine, campaign_settings: Settings) -> Iterator[LiveServer]:
    """The app with its dispatcher on the test database."""
    with LiveServer(engine, campaign_settings) as server:
        yield server


@pytest.fixture
def page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280×800 in French."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR", base_url=live.url
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def pages(page: Page, request: pytest.FixtureRequest) -> Pages:
    """Accessibility checks and optional screenshots (first backend only, to keep one set)."""
    folder = os.environ.get("TEXTOPT_SCREENSHOTS")
    backend = (
        request.node.callspec.params.get("db_url") if hasattr(request.node, "callspec") else None
    )
    # relative to the repository: the `settings` fixture moved into a temporary folder
    save = request.config.rootpath / folder if folder and backend in (None, "sqlite") else None
    return Pages(page, save)
