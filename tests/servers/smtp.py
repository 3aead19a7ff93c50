"""A real SMTP server on 127.0.0.1 for the email tests: aiosmtpd in its own thread.

The server records every email it accepts (parsed with the standard library), can refuse
chosen recipients with a chosen reply (once or always), and can require STARTTLS and a login.
Also here: a tiny WSGI app that serves textopt's unsubscribe handler, for the one-click test.
"""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine
from tests.factories.keys import TEST_KEY

from textopt.consent.unsubscribe import unsubscribe
from textopt.db.engine import session_scope
from textopt.errors import ValidationError

USER, PASSWORD = "shop", "s3cret"


@dataclass
class ReceivedEmail:
    """One accepted email: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    session: int  # which SMTP connection carried it (1, 2, ...)


@dataclass
class RecordingHandler:
    """aiosmtpd handler: refuses what it is told to, records the rest."""

    received: list[ReceivedEmail] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply, always
    refuse_once: dict[str, str] = field(default_factory=dict)  # address -> reply, first time
    sessions: list[object] = field(default_factory=list)

    def _session_number(self, session: object) -> int:
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        return next(i for i, s in enumerate(self.sessions, 1) if s is session)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self._session_number(session)
        reply = self.refuse_once.pop(address, None) or self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            ReceivedEmail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                session=self._session_number(session),
            )
        )
        return "250 2.0.0 queued"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535


@dataclass
class SmtpServer:
    """A running test server and what it saw."""

    host: str
    port: int
    handler: RecordingHandler
    ca_file: Path | None = None
    controller: Controller | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def received(self) -> list[ReceivedEmail]:
        """The emails accepted so far, in order."""
        return self.handler.received

    def start(self) -> None:
        """Listen (again) on the same port."""
        self.controller = Controller(
            self.handler, hostname=self.host, port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        """Close the listening socket and every open session."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def account(self, **options: Any) -> dict[str, Any]:
        """A textopt provider account pointing at this server."""
        values: dict[str, Any] = {
            "kind": "smtp",
            "host": self.host,
            "port": self.port,
            "security": "starttls" if self.ca_file else "none",
            "rate": 1000,
            "timeout": 10,
        }
        if self.ca_file is not None:
            values.update(cert_bundle=str(self.ca_file), username=USER, password=PASSWORD)
        values.update(options)
        return values


@contextmanager
def running_smtp_server(*, tls_dir: Path | None = None) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1; with `tls_dir`, STARTTLS and a login are required."""
    options: dict[str, Any] = {}
    ca_file = None
    if tls_dir is not None:
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        ca_file = tls_dir / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        options = {
            "tls_context": context,
            "require_starttls": True,
            "authenticator": _authenticate,
            "auth_required": True,
        }
    server = SmtpServer("127.0.0.1", free_port(), RecordingHandler(), ca_file, options=options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no login)."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 that requires STARTTLS and a login."""
    with running_smtp_server(tls_dir=tmp_path) as server:
        yield server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


def unsubscribe_app(engine: Engine) -> Callable[..., list[bytes]]:
    """A minimal WSGI face of the unsubscribe handler: `POST /u/{token}` (RFC 8058)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        if environ["REQUEST_METHOD"] != "POST" or not path.startswith("/u/"):
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"POST only"]
        if body != "List-Unsubscribe=One-Click":
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"not a one-click request"]
        try:
            with session_scope(engine) as session:
                unsubscribe(session, key=TEST_KEY, token=path[3:], proof={"method": "one-click"})
        except ValidationError as exc:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [exc.message.encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"unsubscribed"]

    return app


@contextmanager
def serving(app: Callable[..., list[bytes]]) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 in a thread; yields its base URL."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def post_one_click(url: str) -> int:
    """POST RFC 8058's one-click body to `url`; returns the HTTP status."""
    request = urllib.request.Request(
        url,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)
