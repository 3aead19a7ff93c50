"""`textopt serve` as a user starts it: links point where it listens, and say when dead."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.factories.web import sign_in_form

TEXTOPT = str(Path(sys.executable).parent / "textopt")
PASSWORD = "serve password, long enough"
TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, str]:
    """A configuration without `public_base_url`, and an admin to sign in with."""
    config = tmp_path / "textopt.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path}/textopt.db"\n'
        f'secret_file = "{tmp_path}/textopt.secret"\n'
        "cookie_secure = false\n",
        encoding="utf-8",
    )
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TEXTOPT_")}
    env = {**kept, "TEXTOPT_CONFIG": str(config)}
    subprocess.run(
        [TEXTOPT, "users", "create", "admin@shop.example", "--password-stdin"],
        input=PASSWORD,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return env


@pytest.fixture
def served(workspace: dict[str, str]) -> Iterator[tuple[str, str]]:
    """`textopt serve` on a free port other than 8000: its address and its banner."""
    port = _free_port()
    process = subprocess.Popen(
        [TEXTOPT, "serve", "--no-dispatch", "--port", str(port)],
        env=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        err.extend(iter(lambda: process.stderr.read(1) if process.stderr else "", ""))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            try:
                if httpx.get(f"{url}/app/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "".join(err)
            assert time.monotonic() < deadline, "".join(err)
            time.sleep(0.2)
        yield url, "".join(err)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=TIMEOUT)
        reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize(
    ("lang", "warning"),
    [
        ("en", "which recipients cannot open (an address of this machine only)"),
        ("fr", "que les destinataires ne peuvent pas ouvrir (une adresse de cette machine"),
    ],
)
def test_links_point_where_serve_listens_and_settings_warn_they_are_not_public(
    served: tuple[str, str], lang: str, warning: str
) -> None:
    url, banner = served
    assert f"dashboard: {url}/app/" in banner
    assert re.search(rf"links in messages start with {re.escape(url)}/, which recipients", banner)
    with httpx.Client(base_url=url, cookies={"textopt_lang": lang}, timeout=20) as http:
        assert sign_in_form(http, "admin@shop.example", PASSWORD).status_code == 303
        page = http.get("/app/settings").text
    assert f"{url}/l/" in page
    assert "127.0.0.1:8000" not in page
    assert warning in page
