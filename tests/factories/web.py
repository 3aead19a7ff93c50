"""Web and opt-in test helpers: a consent text and signup list, the live server, chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from textopt.api.app import create_app
from textopt.config import Settings
from textopt.consent.service import add_consent_text
from textopt.optin.models import SignupList
from textopt.optin.service import create_list

_LOGIN_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def sign_in_form(http: Any, email: str, password: str, *, next: str = "/app/") -> Any:
    """Post the sign-in form as a browser does: fetch it (its token and cookie), then post."""
    page = http.get("/app/login")
    found = _LOGIN_TOKEN.search(page.text)
    assert found is not None, page.text
    data = {"email": email, "password": password, "next": next, "form_token": found.group(1)}
    return http.post("/app/login", data=data)


CONSENT_BODY = (
    "J'accepte de recevoir par SMS les offres de Boutique Lumière, au plus 4 par mois. "
    "Je peux me désinscrire à tout moment en répondant STOP."
)


def signup_list(
    session: Session,
    *,
    slug: str = "club",
    version: str = "club-v1",
    countries: list[str] | None = None,
    language: str = "fr",
) -> SignupList:
    """A signup list of Boutique Lumière with its consent text registered."""
    add_consent_text(session, version=version, body=CONSENT_BODY, language=language)
    return create_list(
        session,
        slug=slug,
        name="Le Club Lumière",
        brand="Boutique Lumière",
        consent_text_version=version,
        language=language,
        countries=countries,
    )


class LiveServer:
    """The whole app (pages, API, dispatcher) served by uvicorn on a free loopback port.

    It runs in a thread with its own event loop, like `textopt serve`, so a real browser
    can drive it while the test reads the same database.
    """

    def __init__(self, engine: Engine, settings: Settings, *, dispatcher: bool = True) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.model_copy(
            update={"public_base_url": self.url, "cookie_secure": False}
        )
        app = create_app(self.settings, dispatcher=dispatcher, engine=engine)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def chromium_executable() -> str:
    """Debian's chromium, which `make test` installs; a clear failure when it is missing."""
    found = os.environ.get("TEXTOPT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "chromium is not installed: the browser tests need Debian's chromium "
            "(`apt-get install chromium`, done by `make test`), or TEXTOPT_CHROMIUM=path"
        )
    return found


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
