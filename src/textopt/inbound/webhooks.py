"""Provider callbacks, framework-free: verify the signature, then apply (the API mounts them).

A status callback becomes delivery receipts (`dispatch.receipts.record_receipts`); an
inbound callback becomes a stored inbound message (`record_inbound`). A callback whose
signature is missing or wrong raises `SignatureError` and is logged; nothing is applied.
Each handler works in the caller's session and transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.dispatch.feedback import FeedbackRules
from textopt.dispatch.receipts import record_receipts
from textopt.errors import ConfigError, SignatureError
from textopt.inbound.service import InboundResult, record_sms
from textopt.providers.http_signatures import verify_twilio_signature
from textopt.providers.http_twilio import twilio_inbound, twilio_receipt
from textopt.providers.http_webhook import webhook_inbound, webhook_receipts
from textopt.webhooks.signing import signature_is_fresh, verify_signature

__all__ = [
    "callback_secret",
    "check_webhook_header",
    "handle_twilio_inbound",
    "handle_twilio_status",
    "handle_webhook_inbound",
    "handle_webhook_status",
]

log = logging.getLogger(__name__)

_SECRET_OPTION = {"twilio": "auth_token", "webhook": "secret"}


def callback_secret(settings: Settings, *, account: str) -> str:
    """The secret that signs an account's callbacks (Twilio's auth token, a webhook secret)."""
    options = settings.providers.get(account)
    if options is None:
        raise ConfigError(f"provider account {account!r} is not configured")
    kind = str(options.get("kind", account))
    option = _SECRET_OPTION.get(kind)
    if option is None or not options.get(option):
        raise ConfigError(
            f"provider account {account!r} ({kind}) has no callback secret "
            f"({option or 'its kind sends no signed callbacks'})"
        )
    return str(options[option])


def _refuse(account: str, what: str, why: str) -> SignatureError:
    log.warning("rejected %s callback for account %s: %s; nothing applied", what, account, why)
    return SignatureError(f"{what} callback for account {account!r}: {why}", field="signature")


def _check_twilio(
    account: str,
    what: str,
    *,
    url: str,
    params: Mapping[str, str | Sequence[str]],
    signature: str | None,
    auth_token: str,
) -> dict[str, str]:
    if not signature:
        raise _refuse(account, what, "no X-Twilio-Signature header")
    if not verify_twilio_signature(
        auth_token=auth_token, url=url, params=params, signature=signature
    ):
        raise _refuse(account, what, "the X-Twilio-Signature does not match")
    return {k: v if isinstance(v, str) else (list(v) or [""])[0] for k, v in params.items()}


def handle_twilio_status(
    session: Session,
    *,
    account: str,
    url: str,
    params: Mapping[str, str | Sequence[str]],
    signature: str | None,
    auth_token: str,
    feedback: FeedbackRules,
    now: dt.datetime | None = None,
) -> int:
    """Apply a signed Twilio status callback; returns how many messages changed state.

    `feedback`: what a failure's code says about the number (`dispatch.feedback`)."""
    fields = _check_twilio(
        account, "status", url=url, params=params, signature=signature, auth_token=auth_token
    )
    now = now or utcnow()
    receipt = twilio_receipt(account, fields, at=now)
    if receipt is None:
        return 0  # queued, sent...: a step on the way, not an outcome
    return record_receipts(session, receipts=[receipt], now=now, feedback=feedback)


def handle_twilio_inbound(
    session: Session,
    *,
    account: str,
    url: str,
    params: Mapping[str, str | Sequence[str]],
    signature: str | None,
    auth_token: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> InboundResult:
    """Store and apply a signed Twilio inbound message."""
    fields = _check_twilio(
        account, "inbound", url=url, params=params, signature=signature, auth_token=auth_token
    )
    now = now or utcnow()
    return record_sms(
        session, sms=twilio_inbound(account, fields, at=now), settings=settings, now=now
    )


def check_webhook_header(
    *, account: str, what: str, signature_header: str | None, max_age: float, now: dt.datetime
) -> None:
    """Refuse a generic callback whose signature header is missing, malformed or too old.

    The header alone says so: call it before reading the body, which is then read only for
    callers that may be the provider (the HMAC over the body is checked after).
    """
    if not signature_header:
        raise _refuse(account, what, "no X-Textopt-Signature header")
    if not signature_is_fresh(header=signature_header, now=now.timestamp(), tolerance=max_age):
        raise _refuse(account, what, "the signature does not match or is too old")


def _check_webhook(
    account: str,
    what: str,
    *,
    body: bytes,
    signature_header: str | None,
    secret: str,
    max_age: float,
    now: dt.datetime,
) -> None:
    if not signature_header:
        raise _refuse(account, what, "no X-Textopt-Signature header")
    if not verify_signature(
        secret=secret, header=signature_header, body=body, now=now.timestamp(), tolerance=max_age
    ):
        raise _refuse(account, what, "the signature does not match or is too old")


def handle_webhook_status(
    session: Session,
    *,
    account: str,
    body: bytes,
    signature_header: str | None,
    secret: str,
    feedback: FeedbackRules,
    max_age: float = 300,
    now: dt.datetime | None = None,
) -> int:
    """Apply a signed generic status callback; returns how many messages changed state.

    `feedback`: what a failure's code says about the number (`dispatch.feedback`)."""
    now = now or utcnow()
    _check_webhook(
        account,
        "status",
        body=body,
        signature_header=signature_header,
        secret=secret,
        max_age=max_age,
        now=now,
    )
    receipts = webhook_receipts(account, body, at=now)
    return record_receipts(session, receipts=receipts, now=now, feedback=feedback)


def handle_webhook_inbound(
    session: Session,
    *,
    account: str,
    body: bytes,
    signature_header: str | None,
    secret: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> InboundResult:
    """Store and apply a signed generic inbound message."""
    now = now or utcnow()
    _check_webhook(
        account,
        "inbound",
        body=body,
        signature_header=signature_header,
        secret=secret,
        max_age=settings.webhook_max_age_seconds,
        now=now,
    )
    return record_sms(
        session, sms=webhook_inbound(account, body, at=now), settings=settings, now=now
    )
