"""Webhook signatures: `X-Textopt-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC covers `<t>.<raw body>`, so a receiver checks both the body and its age (a
captured request cannot be replayed after the tolerance). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "SIGNATURE_HEADER",
    "endpoint_secret",
    "sign",
    "signature_is_fresh",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Textopt-Signature"


def endpoint_secret(*, workspace_key: bytes, salt: str) -> str:
    """The signing secret of an endpoint, derived from the workspace key and its salt."""
    return (
        "whsec_" + hmac.new(workspace_key, f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()
    )


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_is_fresh(*, header: str, now: float, tolerance: float = 300) -> bool:
    """Whether `header` is well formed with a timestamp at most `tolerance` s old.

    Checked before the body is read: a callback without it is refused unread.
    """
    fields = dict(item.strip().partition("=")[::2] for item in header.split(","))
    stamp, mac = fields.get("t", ""), fields.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12 and mac):
        return False
    return abs(now - int(stamp)) <= tolerance


def verify_signature(
    *, secret: str, header: str, body: bytes, now: float, tolerance: float = 300
) -> bool:
    """Whether `header` signs `body` with `secret` and is at most `tolerance` s old."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, body=body, timestamp=timestamp).partition(",v1=")[2]
    return any(
        hmac.compare_digest(expected.encode(), given.encode()) for given in parts.get("v1", [])
    )
