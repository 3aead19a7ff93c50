"""The hash chain of the consent ledger: canonical forms and digests (pure functions).

Each ledger row's hash covers its own fields, the previous row's hash and the digest of its
proof record. The proof digest is salted so that a short proof (a phone number) cannot be
recovered from the digest by trying every number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["GENESIS_HASH", "event_hash", "proof_digest"]

#: The `prev_hash` of the first event of the ledger.
GENESIS_HASH = "0" * 64


def _instant(value: dt.datetime) -> str:
    """An instant as a fixed-width UTC string (microseconds kept: both backends store them)."""
    if value.tzinfo is None:
        raise ValueError("ledger instants must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def proof_digest(*, salt: str, data: Mapping[str, Any]) -> str:
    """The salted SHA-256 digest of a proof record's fields."""
    return hashlib.sha256(salt.encode() + b"\x00" + _canonical(data)).hexdigest()


def event_hash(
    *,
    event_id: int,
    contact_id: int,
    channel: str,
    purpose: str,
    action: str,
    source: str,
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    consent_text_version: str | None,
    proof_digest: str | None,
    prev_hash: str,
) -> str:
    """The SHA-256 hash that chains one ledger row to the previous one."""
    body = {
        "id": event_id,
        "contact_id": contact_id,
        "channel": channel,
        "purpose": purpose,
        "action": action,
        "source": source,
        "occurred_at": _instant(occurred_at),
        "recorded_at": _instant(recorded_at),
        "consent_text_version": consent_text_version,
        "proof_digest": proof_digest,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()
