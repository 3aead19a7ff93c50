"""The one protocol every provider implements, and the registry of provider kinds.

A provider is asyncio: `start` (connect, bind), `submit` (a batch in, one result per
message out, in order), `stop`. Receipts and MOs arrive whenever the network sends them and
are handed, in batches, to the sink given to `start`, which returns once they are committed:
a provider acknowledges to the network only then (docs/providers.md, "What is guaranteed").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from textopt.errors import ConfigError
from textopt.providers.mo import InboundSms

__all__ = [
    "OutboundMessage",
    "Provider",
    "Receipt",
    "ReceiptSink",
    "ReceiptStatus",
    "SubmitOutcome",
    "SubmitResult",
    "build_provider",
    "provider_kinds",
    "register_provider",
]


class OutboundMessage(NamedTuple):
    """What a provider needs to send one message.

    A named tuple, like `SubmitResult`: the dispatcher builds one per message of every batch,
    and a tuple costs a fifth of a frozen dataclass to build.
    """

    message_id: int
    idempotency_key: str  # the same key on every attempt: providers deduplicate on it
    recipient: str
    body: str
    sender: str | None = None
    channel: str = "sms"
    segments: int = 1
    subject: str | None = None
    html: str | None = None  # an email's HTML part (`body` is its text part)
    headers: Mapping[str, str] | None = None  # an email's stored headers (From, List-...)


class SubmitOutcome(StrEnum):
    """How the provider answered one submission."""

    ACCEPTED = "accepted"  # taken; a provider id follows
    TEMPORARY = "temporary"  # try again later (throttled, queue full, connection lost)
    PERMANENT = "permanent"  # refused for good (bad number, barred, ...)


class SubmitResult(NamedTuple):
    """The provider's answer for one message."""

    message_id: int
    outcome: SubmitOutcome
    provider_message_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None
    throttled: bool = False  # the provider asked us to slow down
    # No answer came (timeout, connection lost after writing): the provider may have it.
    # A marketing message is then never retried (at most once), a transactional one is.
    ambiguous: bool = False


class ReceiptStatus(StrEnum):
    """What a delivery receipt says happened."""

    DELIVERED = "delivered"  # reached the handset
    FAILED = "failed"  # undeliverable (unknown subscriber, barred, ...)
    EXPIRED = "expired"  # the network gave up after its validity period
    UNKNOWN = "unknown"  # final, yet says neither delivered nor failed: ACCEPTD, UNKNOWN


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery receipt from the network."""

    provider: str
    provider_message_id: str
    status: ReceiptStatus
    at: dt.datetime
    error_code: str | None = None
    error_text: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


#: Where a provider hands what the network sends back: delivery receipts, and the messages
#: people send to our numbers (MO). The sink stores a batch durably and returns once it is
#: committed; only then may the provider acknowledge them to the network. It raises when the
#: batch could not be stored: the provider keeps it and tries again (never acknowledging it
#: before), or lets the network send it again.
ReceiptSink = Callable[[Sequence["Receipt | InboundSms"]], Awaitable[None]]


class Provider(Protocol):
    """A way out: SMSC, HTTP API, SMTP server, or the sandbox."""

    name: str  # the account's code, e.g. "sandbox" or "smpp-orange"
    channel: str  # "sms" or "email"
    rate: float  # segments (or emails) per second this account allows
    # True when batches handed over while earlier ones are still out share one window
    # (SMPP): the dispatcher then keeps several in flight. Others would open a connection
    # per batch, so they get one at a time.
    pipelined: bool

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Connect and be ready to submit; receipts go to `on_receipt`."""

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Send a batch; one result per message, in the same order."""

    async def stop(self) -> None:
        """Finish what is in flight and disconnect cleanly."""


ProviderFactory = Callable[[str, Mapping[str, Any]], Provider]
_KINDS: dict[str, ProviderFactory] = {}


def register_provider(kind: str) -> Callable[[ProviderFactory], ProviderFactory]:
    """Register a provider class (or factory) under a kind code such as "sandbox"."""

    def decorator(factory: ProviderFactory) -> ProviderFactory:
        _KINDS[kind] = factory
        return factory

    return decorator


def provider_kinds() -> list[str]:
    """The registered provider kinds."""
    _load_builtin()
    return sorted(_KINDS)


def build_provider(name: str, options: Mapping[str, Any]) -> Provider:
    """A provider for account `name` built from its configuration (`kind` chooses the class)."""
    _load_builtin()
    kind = str(options.get("kind", name))
    factory = _KINDS.get(kind)
    if factory is None:
        raise ConfigError(
            f"provider account {name!r}: unknown kind {kind!r} (known: {', '.join(sorted(_KINDS))})"
        )
    return factory(name, options)


def _load_builtin() -> None:
    # Importing registers them; done lazily so `base` has no import cycle with adapters.
    from textopt.providers import http_twilio, http_webhook, sandbox, smpp, smtp  # noqa: F401
