"""A Twilio-compatible HTTP provider (the Messages API) and its callback formats.

Each message is one form-encoded POST to `/2010-04-01/Accounts/{account_sid}/Messages.json`
with HTTP basic auth (account SID and auth token): `To`, `From` or `MessagingServiceSid`,
`Body` and `StatusCallback`. The message's idempotency key goes in
`I-Twilio-Idempotency-Token`, the same on every attempt. Status callbacks and inbound
messages come back as signed form posts (`textopt.inbound.webhooks` verifies them).

Options (the provider account's table in the configuration):

| option | meaning | default |
| --- | --- | --- |
| `account_sid` | the account (or subaccount) SID | required |
| `auth_token` | its auth token: authenticates requests and signs callbacks | required |
| `from` | the sending number or alphanumeric sender, when a message names none | none |
| `messaging_service_sid` | a Messaging Service instead of `from` | none |
| `status_callback` | the public URL of the status callback | none |
| `base_url` | the API (a compatible provider, a test server) | `https://api.twilio.com` |
| `rate` | segments per second the account allows | 10 |
| `timeout` and the other transport options | see `http_transport.HttpOptions` | 10 s... |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from textopt.errors import ConfigError
from textopt.providers.base import OutboundMessage, Receipt, ReceiptStatus, register_provider
from textopt.providers.http_transport import HttpProvider, HttpRequest, new_client
from textopt.providers.mo import InboundSms

__all__ = ["EMPTY_TWIML", "TwilioProvider", "twilio_inbound", "twilio_receipt"]

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
#: What the inbound endpoint answers: no automatic reply from Twilio (ours go via the outbox).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# MessageStatus values that close a message; the others (queued, sending, sent, accepted,
# scheduled...) are steps on the way and change nothing here.
_FINAL = {
    "delivered": ReceiptStatus.DELIVERED,
    "read": ReceiptStatus.DELIVERED,
    "undelivered": ReceiptStatus.FAILED,
    "failed": ReceiptStatus.FAILED,
    "canceled": ReceiptStatus.FAILED,
}


@register_provider("twilio")
class TwilioProvider(HttpProvider):
    """Sends through a Twilio-compatible Messages API; see the module docstring."""

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        super().__init__(name, {**options, "channel": "sms"})
        for required in ("account_sid", "auth_token"):
            if not options.get(required):
                raise ConfigError(f"provider account {name!r} (twilio): set {required}")
        self.account_sid = str(options["account_sid"])
        self.auth_token = str(options["auth_token"])
        self.sender = options.get("from")
        self.service_sid = options.get("messaging_service_sid")
        if not self.sender and not self.service_sid:
            raise ConfigError(
                f"provider account {name!r} (twilio): set `from` or `messaging_service_sid`"
            )
        self.status_callback = options.get("status_callback")
        base = str(options.get("base_url", "https://api.twilio.com")).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def client(self) -> httpx.AsyncClient:
        """A pooled client authenticating with the account SID and auth token."""
        return new_client(self.options, auth=httpx.BasicAuth(self.account_sid, self.auth_token))

    def form(self, message: OutboundMessage) -> dict[str, str]:
        """The form fields of one message."""
        fields = {"To": message.recipient, "Body": message.body}
        sender = message.sender or self.sender
        if self.service_sid:
            fields["MessagingServiceSid"] = str(self.service_sid)
            if message.sender:
                fields["From"] = message.sender
        elif sender:
            fields["From"] = str(sender)
        if self.status_callback:
            fields["StatusCallback"] = str(self.status_callback)
        return fields

    def request(self, message: OutboundMessage) -> HttpRequest:
        """A form POST carrying the idempotency key in Twilio's header."""
        return HttpRequest({IDEMPOTENCY_HEADER: message.idempotency_key}, data=self.form(message))

    def accepted_id(self, response: httpx.Response, message: OutboundMessage) -> str | None:
        """The message SID of the answer."""
        sid = _json(response).get("sid")
        return str(sid) if sid else None

    def error(self, response: httpx.Response) -> tuple[str, str]:
        """Twilio's error code and message (e.g. 21211, invalid 'To' number), else the status."""
        data = _json(response)
        code = data.get("code") or response.status_code
        text = data.get("message") or response.reason_phrase or f"HTTP {response.status_code}"
        return str(code), str(text)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def twilio_receipt(
    account: str, params: Mapping[str, str], *, at: dt.datetime | None = None
) -> Receipt | None:
    """The receipt a status callback carries, or None for an intermediate status."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = _FINAL.get((params.get("MessageStatus") or params.get("SmsStatus") or "").lower())
    if not sid or status is None:
        return None
    code = params.get("ErrorCode") or None
    return Receipt(
        provider=account,
        provider_message_id=sid,
        status=status,
        at=at or dt.datetime.now(dt.UTC),
        error_code=code,
        error_text=params.get("ErrorMessage") or (f"Twilio error {code}" if code else None),
        raw=dict(params),
    )


def twilio_inbound(
    account: str, params: Mapping[str, str], *, at: dt.datetime | None = None
) -> InboundSms:
    """The inbound message a Twilio webhook carries."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    return InboundSms(
        provider=account,
        provider_message_id=sid,
        sender=params.get("From", ""),
        recipient=params.get("To", ""),
        text=params.get("Body", ""),
        received_at=at or dt.datetime.now(dt.UTC),
    )
