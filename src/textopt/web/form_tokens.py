"""Signed form tokens for forms shown before anyone is signed in (signup, sign-in).

The page sets the token in a cookie and in a hidden field; a POST must carry both, equal,
signed by the workspace's key for this form, and at most two hours old. Another site can
make a browser post the form but cannot read the cookie to fill the field: no login CSRF
(signing a victim into the attacker's account), no forged signups.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from textopt.config import Settings
from textopt.errors import PermissionDenied

__all__ = ["FORM_MAX_AGE", "check_form_token", "new_form_token"]

FORM_MAX_AGE = 2 * 3600  # a form left open longer is refused: reload it


def _signature(settings: Settings, purpose: str, issued: str, nonce: str) -> str:
    key = settings.resolved_secret_key()
    message = f"{purpose}|{issued}|{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def new_form_token(settings: Settings, purpose: str) -> str:
    """A fresh token for one form (`purpose` names it: `signup-form|<slug>`, `login-form`)."""
    issued, nonce = str(int(time.time())), secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_signature(settings, purpose, issued, nonce)}"


def check_form_token(settings: Settings, purpose: str, field: str, cookie: str | None) -> None:
    """Raise PermissionDenied unless the field and the cookie hold one live token of ours."""
    refused = PermissionDenied("this form has expired: reload the page and submit it again")
    if not field or not cookie or not hmac.compare_digest(field.encode(), cookie.encode()):
        raise refused
    issued, _, rest = field.partition(".")
    nonce, _, signature = rest.partition(".")
    expected = _signature(settings, purpose, issued, nonce)
    valid = hmac.compare_digest(signature.encode(), expected.encode())
    if not (issued.isascii() and issued.isdecimal()) or not valid:
        raise refused
    if not 0 <= time.time() - int(issued) <= FORM_MAX_AGE:
        raise refused
