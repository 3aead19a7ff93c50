"""A generic JSON webhook provider: POST each message to a URL built from a body template.

The body is a JSON template whose text values may name the message's fields in braces:
`{to}`, `{body}`, `{sender}`, `{idempotency_key}`, `{message_id}`, `{segments}`,
`{channel}`. Values are substituted into the parsed structure, never into JSON text, so a
message cannot break out of its string. The idempotency key goes in `Idempotency-Key`;
with a `secret`, each request is signed like a callback (`X-Textopt-Signature`).

Callbacks (status and inbound) are JSON, signed with the same secret:

    status:  {"id": "<provider id>", "status": "delivered" | "failed" | "expired",
              "error_code": "...", "error_text": "...", "at": "<ISO 8601>"}  (or a list)
    inbound: {"id": "<provider id>", "from": "+33...", "to": "...", "text": "...",
              "received_at": "<ISO 8601>"}

Options:

| option | meaning | default |
| --- | --- | --- |
| `url` | where messages are posted | required |
| `headers` | extra request headers (a token...) | {} |
| `body` | the JSON template | `DEFAULT_BODY`: to, from, text, reference (the key) |
| `id_field` | dotted path of the provider's id in the JSON answer | `id` |
| `secret` | signs requests and callbacks (HMAC-SHA256) | none |
| `rate` | segments per second | 10 |
| `timeout` and the other transport options | see `http_transport.HttpOptions` | 10 s... |
"""

from __future__ import annotations

import datetime as dt
import json
import string
import time
from collections.abc import Mapping
from typing import Any

import httpx

from textopt.errors import ConfigError, ValidationError
from textopt.providers.base import OutboundMessage, Receipt, ReceiptStatus, register_provider
from textopt.providers.http_transport import HttpProvider, HttpRequest, new_client
from textopt.providers.mo import InboundSms
from textopt.webhooks.signing import SIGNATURE_HEADER, sign

__all__ = ["WebhookProvider", "render_body", "webhook_inbound", "webhook_receipts"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_BODY: dict[str, Any] = {
    "to": "{to}",
    "from": "{sender}",
    "text": "{body}",
    "reference": "{idempotency_key}",
}
_FIELDS = frozenset(
    {"to", "body", "sender", "idempotency_key", "message_id", "segments", "channel"}
)
_STATUSES = {
    "delivered": ReceiptStatus.DELIVERED,
    "failed": ReceiptStatus.FAILED,
    "undelivered": ReceiptStatus.FAILED,
    "rejected": ReceiptStatus.FAILED,
    "expired": ReceiptStatus.EXPIRED,
}


def _check_template(name: str, node: Any) -> None:
    """Refuse a template naming an unknown field, at configuration time."""
    if isinstance(node, str):
        for _, field, _, _ in string.Formatter().parse(node):
            if field is not None and field not in _FIELDS:
                raise ConfigError(
                    f"provider account {name!r}: body template names {{{field}}}; "
                    f"known fields: {', '.join(sorted(_FIELDS))}"
                )
    elif isinstance(node, Mapping):
        for value in node.values():
            _check_template(name, value)
    elif isinstance(node, list):
        for value in node:
            _check_template(name, value)


def render_body(template: Any, message: OutboundMessage) -> Any:
    """The template with every `{field}` of its text values replaced by the message's."""
    values = {
        "to": message.recipient,
        "body": message.body,
        "sender": message.sender or "",
        "idempotency_key": message.idempotency_key,
        "message_id": message.message_id,
        "segments": message.segments,
        "channel": message.channel,
    }
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, Mapping):
        return {key: render_body(value, message) for key, value in template.items()}
    if isinstance(template, list):
        return [render_body(value, message) for value in template]
    return template


@register_provider("webhook")
class WebhookProvider(HttpProvider):
    """Posts each message as JSON to a configured URL; see the module docstring."""

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        super().__init__(name, options)
        if not options.get("url"):
            raise ConfigError(f"provider account {name!r} (webhook): set url")
        self.url = str(options["url"])
        self.headers = {str(k): str(v) for k, v in dict(options.get("headers", {})).items()}
        self.template = options.get("body", DEFAULT_BODY)
        _check_template(name, self.template)
        self.id_field = str(options.get("id_field", "id"))
        self.secret = options.get("secret")

    def client(self) -> httpx.AsyncClient:
        """A pooled client sending JSON with the account's own headers."""
        return new_client(
            self.options, headers={"Content-Type": "application/json", **self.headers}
        )

    def request(self, message: OutboundMessage) -> HttpRequest:
        """The rendered JSON body, the idempotency key, and a signature with a secret."""
        body = json.dumps(render_body(self.template, message), ensure_ascii=False).encode()
        headers = {IDEMPOTENCY_HEADER: message.idempotency_key}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(
                secret=str(self.secret), body=body, timestamp=int(time.time())
            )
        return HttpRequest(headers, content=body)

    def accepted_id(self, response: httpx.Response, message: OutboundMessage) -> str | None:
        """The id at `id_field` in the answer, else the idempotency key."""
        try:
            node: Any = response.json()
        except ValueError:
            return message.idempotency_key
        for part in self.id_field.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return str(node) if node not in (None, "") else message.idempotency_key

    def error(self, response: httpx.Response) -> tuple[str, str]:
        """The answer's `code` and `message` (or `error`), else the status."""
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, Mapping):
            data = {}
        code = data.get("code") or data.get("error_code") or response.status_code
        text = data.get("message") or data.get("error") or f"HTTP {response.status_code}"
        return str(code), str(text)


def _instant(value: Any, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"callback time {value!r} is not ISO 8601", field="at") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _document(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValidationError(f"callback body is not JSON: {exc}", field="body") from exc


def webhook_receipts(account: str, body: bytes, *, at: dt.datetime | None = None) -> list[Receipt]:
    """The receipts of a status callback (one object or a list); intermediate ones skipped."""
    data = _document(body)
    items = data if isinstance(data, list) else [data]
    now = at or dt.datetime.now(dt.UTC)
    receipts = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("id"):
            raise ValidationError("a status callback needs an object with an id", field="id")
        status = _STATUSES.get(str(item.get("status", "")).lower())
        if status is None:
            continue
        receipts.append(
            Receipt(
                provider=account,
                provider_message_id=str(item["id"]),
                status=status,
                at=_instant(item.get("at"), now),
                error_code=str(item["error_code"]) if item.get("error_code") else None,
                error_text=str(item["error_text"]) if item.get("error_text") else None,
                raw=dict(item),
            )
        )
    return receipts


def webhook_inbound(account: str, body: bytes, *, at: dt.datetime | None = None) -> InboundSms:
    """The inbound message of an inbound callback."""
    data = _document(body)
    if not isinstance(data, Mapping):
        raise ValidationError("an inbound callback is a JSON object", field="body")
    missing = [key for key in ("id", "from", "text") if key not in data]
    if missing:
        raise ValidationError(f"inbound callback lacks {', '.join(missing)}", field=missing[0])
    return InboundSms(
        provider=account,
        provider_message_id=str(data["id"]),
        sender=str(data["from"]),
        recipient=str(data.get("to", "")),
        text=str(data["text"] or ""),
        received_at=_instant(data.get("received_at"), at or dt.datetime.now(dt.UTC)),
    )
