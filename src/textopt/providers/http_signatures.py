"""Signatures of provider callbacks (pure functions, constant-time comparisons).

- Twilio (`X-Twilio-Signature`): base64 of the HMAC-SHA1, keyed by the account's auth
  token, of the full callback URL followed by every POST parameter, sorted by name, as
  name + value. Twilio signs the URL it was given; as its own libraries do, a URL with and
  without the scheme's default port are both accepted.
- The generic webhook adapter signs as textopt's own outbound webhooks do
  (`textopt.webhooks.signing`): `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
  so a captured callback cannot be replayed once its age exceeds the tolerance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

__all__ = ["TWILIO_SIGNATURE_HEADER", "twilio_signature", "verify_twilio_signature"]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str | Sequence[str]]


def _values(value: str | Sequence[str]) -> list[str]:
    # a repeated parameter counts each distinct value once, sorted (as Twilio signs it)
    return [value] if isinstance(value, str) else sorted(set(value))


def twilio_signature(*, auth_token: str, url: str, params: Params) -> str:
    """The `X-Twilio-Signature` Twilio computes for a POST of `params` to `url`."""
    data = url + "".join(name + v for name in sorted(params) for v in _values(params[name]))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def _port_variants(url: str) -> list[str]:
    """The URL as given, plus the same URL with its default port added or removed."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    host = parts.hostname
    if parts.port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        userinfo = parts.netloc.rpartition("@")[0]
        other = parts._replace(netloc=(f"{userinfo}@" if userinfo else "") + host)
    else:
        return [url]
    return [url, urlunsplit(other)]


def verify_twilio_signature(
    *, auth_token: str, url: str, params: Params, signature: str | None
) -> bool:
    """Whether `signature` is Twilio's for this URL and these parameters."""
    if not signature or not auth_token:
        return False
    return any(
        hmac.compare_digest(
            twilio_signature(auth_token=auth_token, url=variant, params=params).encode(),
            signature.encode(),
        )
        for variant in _port_variants(url)
    )
