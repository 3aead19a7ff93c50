"""The SMTP provider: email through a relay (smarthost) with aiosmtplib.

Each message becomes a `multipart/alternative` email (text, then HTML) with the headers the
planner stored (`From` with the brand, `List-Unsubscribe`, `List-Unsubscribe-Post`), plus
`To`, `Subject`, `Date` and a `Message-ID` made from the idempotency key, so a transactional
email resent after a crash carries the same id. Connections are reused: each worker takes an
open connection from the account's pool, checks it after an idle spell, and reconnects when
the server dropped it. The account's rate (emails per second) is enforced by the
dispatcher's shared token bucket, where an email counts as one segment.

Answers: a 5xx reply fails the message for good (`permanent`, with the SMTP code); a 4xx
reply, a timeout or a lost connection is `temporary` and retried with backoff.

Options (the provider account's table in the configuration):

| option | meaning | default |
| --- | --- | --- |
| `host`, `port` | the relay | 127.0.0.1; 587 (starttls), 465 (tls), 25 (none) |
| `security` | `starttls`, `tls` (implicit TLS) or `none` | starttls |
| `username` | login, when the relay needs one | none |
| `password` / `password_env` | the password, or the environment variable holding it | none |
| `from_address` | `From` when a message carries none | `email_from_address` |
| `envelope_from` | the bounce address (`MAIL FROM`) | the `From` address |
| `rate` | emails per second the account allows | 10 |
| `timeout` | seconds for one SMTP exchange | 30 |
| `validate_certs` | check the relay's certificate | true |
| `idle_check` | seconds idle after which a pooled connection is checked (NOOP) | 10 |
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib

from textopt.errors import ConfigError
from textopt.providers.base import (
    OutboundMessage,
    ReceiptSink,
    SubmitOutcome,
    SubmitResult,
    register_provider,
)

__all__ = ["SmtpProvider", "build_email"]

_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
#: Headers the planner may store with a message; anything else is ignored.
_STORED_HEADERS = ("From", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id")
_CONNECTION_ERRORS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError)


def build_email(message: OutboundMessage, *, default_from: str) -> EmailMessage:
    """The MIME email of one outbox message; ValueError when a header cannot be written."""
    headers = dict(message.headers or {})
    email = EmailMessage(policy=SMTP_POLICY)
    sender = headers.get("From") or default_from
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "textopt.invalid"
    email["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    for name in _STORED_HEADERS[1:]:
        if headers.get(name):
            email[name] = headers[name]
    email.set_content(message.body or "", charset="utf-8")
    if message.html:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
    return email


def _failure(message_id: int, code: int, text: str) -> SubmitResult:
    """A reply code mapped to the dispatcher's outcomes."""
    outcome = SubmitOutcome.PERMANENT if 500 <= code < 600 else SubmitOutcome.TEMPORARY
    throttled = code == 421 or (code in (450, 451, 452) and text.startswith("4.7."))
    return SubmitResult(
        message_id,
        outcome,
        error_code=str(code),
        error_text=text.strip()[:500],
        throttled=throttled,
    )


def _session_failure(exc: BaseException) -> tuple[str, str]:
    """The error code and text when no SMTP session could be opened."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        code = "auth_failed"  # a configuration problem: retried, and visible in the report
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = str(exc.code)
    else:
        code = "connection_failed"
    return code, f"{type(exc).__name__}: {exc}"[:500]


class _Connection:
    """One open SMTP session and when it was last used."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.used = time.monotonic()


@register_provider("smtp")
class SmtpProvider:
    """Email through an SMTP relay; see the module docstring for its options."""

    pipelined = False  # a batch holds one pooled session: batches at once would open more

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.channel = str(options.get("channel", "email"))
        self.rate = float(options.get("rate", 10))
        security = str(options.get("security", "starttls")).lower()
        if security not in _DEFAULT_PORTS:
            raise ConfigError(
                f"provider account {name!r}: security must be starttls, tls or none, "
                f"not {security!r}"
            )
        self.security = security
        self.host = str(options.get("host", "127.0.0.1"))
        self.port = int(options.get("port", _DEFAULT_PORTS[security]))
        self.username = options.get("username")
        password = options.get("password")
        if password is None and options.get("password_env"):
            variable = str(options["password_env"])
            password = os.environ.get(variable)
            if password is None:
                raise ConfigError(
                    f"provider account {name!r}: environment variable {variable} is not set"
                )
        self.password = password
        self.from_address = str(options.get("from_address") or f"{name}@textopt.invalid")
        self.envelope_from = options.get("envelope_from")
        self.timeout = float(options.get("timeout", 30))
        self.validate_certs = bool(options.get("validate_certs", True))
        self.idle_check = float(options.get("idle_check", 10))
        self.cert_bundle = options.get("cert_bundle")
        self._idle: list[_Connection] = []
        self.connections_opened = 0  # for tests and logs: reuse keeps this low

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Nothing to do yet: connections open on first use (SMTP has no receipts)."""

    async def stop(self) -> None:
        """Close every pooled connection politely."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._close(connection, polite=True)

    async def _connect(self) -> _Connection:
        context = None
        if self.security != "none" and self.cert_bundle:
            context = ssl.create_default_context(cafile=str(self.cert_bundle))
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            validate_certs=self.validate_certs,
            tls_context=context,
        )
        await client.connect()
        self.connections_opened += 1
        return _Connection(client)

    async def _close(self, connection: _Connection, *, polite: bool) -> None:
        client = connection.client
        try:
            if polite and client.is_connected:
                await client.quit()
            else:
                client.close()
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def _acquire(self) -> _Connection:
        """A pooled connection that still answers, or a new one."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.client.is_connected:
                await self._close(connection, polite=False)
                continue
            if time.monotonic() - connection.used > self.idle_check:
                try:
                    await connection.client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    await self._close(connection, polite=False)
                    continue
            return connection
        return await self._connect()

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Send each message on one reused connection; one result per message, in order."""
        results: list[SubmitResult] = []
        connection: _Connection | None = None
        try:
            for index, message in enumerate(messages):
                if connection is None:
                    try:
                        connection = await self._acquire()
                    except (*_CONNECTION_ERRORS, aiosmtplib.SMTPException) as exc:
                        # No session: the whole rest of the batch waits for a retry.
                        code, text = _session_failure(exc)
                        results.extend(
                            SubmitResult(
                                m.message_id,
                                SubmitOutcome.TEMPORARY,
                                error_code=code,
                                error_text=text,
                            )
                            for m in messages[index:]
                        )
                        break
                result, healthy = await self._send_one(connection, message)
                results.append(result)
                if not healthy:
                    await self._close(connection, polite=False)
                    connection = None
        finally:
            if connection is not None:
                connection.used = time.monotonic()
                self._idle.append(connection)
        return results

    def _lost(self, message: OutboundMessage, exc: BaseException) -> SubmitResult:
        return SubmitResult(
            message.message_id,
            SubmitOutcome.TEMPORARY,
            error_code="connection_lost",
            error_text=f"{type(exc).__name__}: {exc}"[:500],
        )

    async def _send_one(
        self, connection: _Connection, message: OutboundMessage
    ) -> tuple[SubmitResult, bool]:
        """The result, and whether the connection can carry the next message."""
        try:
            email = build_email(message, default_from=self.from_address)
        except ValueError as exc:
            failure = SubmitResult(
                message.message_id,
                SubmitOutcome.PERMANENT,
                error_code="invalid_message",
                error_text=str(exc)[:500],
            )
            return failure, True
        sender = self.envelope_from or parseaddr(str(email["From"]))[1]
        try:
            await connection.client.send_message(
                email, sender=sender, recipients=[message.recipient]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _failure(message.message_id, refused.code, refused.message), True
        except aiosmtplib.SMTPResponseException as exc:
            # 421 means the server is closing the session; other replies leave it usable.
            return _failure(message.message_id, exc.code, exc.message), exc.code != 421
        except (*_CONNECTION_ERRORS, aiosmtplib.SMTPException) as exc:
            return self._lost(message, exc), False
        provider_id = str(email["Message-ID"]).strip("<>")[:100]
        return SubmitResult(message.message_id, SubmitOutcome.ACCEPTED, provider_id), True
