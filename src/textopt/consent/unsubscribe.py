"""Unsubscribe links: signed tokens, and the handler that records the withdrawal.

A token names a contact, a channel and the campaign that carried the link, and is signed
with an HMAC under the workspace secret key, so it is checked without a database lookup and
cannot be forged to unsubscribe someone else. The handler is framework-free: the HTTP face
mounts it at `/u/{token}` (RFC 8058 one-click `POST`, and a confirmation page on `GET`, which
must not unsubscribe by itself because mail scanners fetch links).

    token = "{contact}.{channel}.{campaign or 0}.{signature}"   signature: 16 bytes, base64url
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.consent.models import ConsentAction, ConsentSource, ConsentState
from textopt.consent.service import record_consent
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.vocab import Channel, Purpose

__all__ = [
    "UnsubscribeLink",
    "UnsubscribeResult",
    "read_unsubscribe_token",
    "unsubscribe",
    "unsubscribe_token",
    "unsubscribe_url",
]

_DOMAIN = b"textopt-unsubscribe:"  # keeps these signatures apart from other uses of the key
_SIGNATURE_BYTES = 16


@dataclass(frozen=True, slots=True)
class UnsubscribeLink:
    """What a valid token says: who, on which channel, from which campaign."""

    contact_id: int
    channel: Channel
    campaign_id: int | None


@dataclass(frozen=True, slots=True)
class UnsubscribeResult:
    """What the handler did; `recorded` is False when the person had already withdrawn."""

    contact_id: int
    channel: Channel
    campaign_id: int | None
    recorded: bool


def _signature(payload: str, key: bytes) -> str:
    digest = hmac.digest(key, _DOMAIN + payload.encode(), "sha256")[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_token(
    *, contact_id: int, channel: Channel | str, campaign_id: int | None, key: bytes
) -> str:
    """The signed token of one contact's unsubscribe link (`key`: the workspace secret)."""
    payload = f"{contact_id}.{Channel(channel)}.{campaign_id or 0}"
    return f"{payload}.{_signature(payload, key)}"


def unsubscribe_url(*, base_url: str, token: str) -> str:
    """The public address of the link: `{base_url}/u/{token}`."""
    return f"{base_url.rstrip('/')}/u/{token}"


def read_unsubscribe_token(token: str, *, key: bytes) -> UnsubscribeLink:
    """The link a token stands for; ValidationError when it is malformed or not ours."""
    parts = token.strip().split(".")
    invalid = ValidationError("this unsubscribe link is not valid", field="token")
    # ours are ASCII: anything else ("²" passes isdigit, not int) is refused before use
    if not token.isascii() or len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
        raise invalid
    contact, channel, campaign, signature = parts
    if channel not in {c.value for c in Channel}:
        raise invalid
    expected = _signature(f"{contact}.{channel}.{campaign}", key)
    if not hmac.compare_digest(expected, signature):
        raise invalid
    return UnsubscribeLink(int(contact), Channel(channel), int(campaign) or None)


def unsubscribe(
    session: Session,
    *,
    key: bytes,
    token: str,
    source: ConsentSource | str = ConsentSource.UNSUBSCRIBE_LINK,
    proof: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> UnsubscribeResult:
    """Record the withdrawal of marketing consent a link stands for; idempotent.

    A second use of the link (mail clients retry) finds the consent already revoked and
    records nothing. `proof` (IP, user agent, method) is kept with the ledger event.
    `key`: the workspace secret, which signs the links and keys the suppression list.
    """
    link = read_unsubscribe_token(token, key=key)
    # The contact's row lock makes two simultaneous clicks record a single event.
    contact = session.get(Contact, link.contact_id, with_for_update=True)
    if contact is None:
        raise ValidationError("this unsubscribe link is not valid", field="token")

    def result(recorded: bool) -> UnsubscribeResult:
        return UnsubscribeResult(link.contact_id, link.channel, link.campaign_id, recorded)

    if contact.erased_at is not None:
        return result(False)  # erased: suppressed for good, nothing left to withdraw
    state = session.get(ConsentState, (link.contact_id, str(link.channel), Purpose.MARKETING))
    if state is not None and state.status == ConsentAction.REVOKED:
        return result(False)
    evidence: dict[str, Any] = {"link": "unsubscribe", "campaign": link.campaign_id}
    evidence.update(proof or {})
    record_consent(
        session,
        digest=address_digester(key),
        contact_id=link.contact_id,
        channel=link.channel,
        purpose=Purpose.MARKETING,
        action=ConsentAction.REVOKED,
        source=source,
        occurred_at=now or utcnow(),
        proof=evidence,
    )
    return result(True)
