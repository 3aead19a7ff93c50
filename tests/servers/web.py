"""Live servers for the browser and HTTP tests: the whole app on a loopback port, chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from sqlalchemy import Engine

from textopt.api.app import create_app
from textopt.config import Settings


class LiveServer:
    """The whole app (pages, API, dispatcher) served by uvicorn on a free loopback port.

    It runs in a thread with its own event loop, like `textopt serve`, so a real browser
    can drive it while the test reads the same database.
    """

    def __init__(self, engine: Engine, settings: Settings, *, dispatcher: bool = True) -> None:
        # the socket is bound here and handed to uvicorn: a port probed, closed and bound
        # again later could be taken meanwhile by a suite running beside this one
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.model_copy(
            update={"public_base_url": self.url, "cookie_secure": False}
        )
        app = create_app(self.settings, dispatcher=dispatcher, engine=engine)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="web", daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.socket.close()
                raise RuntimeError(f"the web server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


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
