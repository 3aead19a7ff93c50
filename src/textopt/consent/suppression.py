"""The suppression list: numbers and addresses that must not receive marketing.

Entries are keyed by an HMAC of the number (or lower-cased address) under the workspace's
secret key, so the list survives erasure without keeping the number itself, and a stolen
database alone does not reveal it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping
from typing import TypeAlias

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from textopt.consent.models import Suppression, SuppressionReason
from textopt.contacts.models import Contact
from textopt.db.engine import upsert_insert
from textopt.errors import ValidationError
from textopt.vocab import Channel

__all__ = [
    "Digester",
    "address_digest",
    "address_digester",
    "count_suppressions",
    "lift_suppression",
    "reasons_by_digest",
    "suppress",
    "suppress_addresses",
    "suppressed_contacts",
    "suppressed_phones",
    "suppression_reasons",
]

_ALL = "all"

#: The keyed digest of an address under the workspace's secret key (`address_digester`):
#: built by whoever holds the key (the faces, the dispatcher) and given to the domain.
Digester: TypeAlias = Callable[[str], str]


def address_digest(value: str, *, key: bytes) -> str:
    """The keyed digest of an E.164 number or an email address (`key`: the secret key)."""
    normalised = value.strip().lower() if "@" in value else value.strip()
    return hmac.digest(key, normalised.encode(), "sha256").hex()


def address_digester(key: bytes) -> Digester:
    """`address_digest` under one key, for many addresses: the keyed hash is set up once.

    HMAC as RFC 2104 defines it, H(K ^ opad, H(K ^ ipad, text)), with both keyed states
    computed once and copied per address: half the cost of copying an `hmac` object, whose
    copy is Python code (planning checks every recipient's number).
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner_copy = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    outer_copy = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def digest(value: str) -> str:
        normalised = value.strip().lower() if "@" in value else value.strip()
        inner = inner_copy()
        inner.update(normalised.encode())
        outer = outer_copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return digest


def _address(phone: str | None, email: str | None) -> str:
    if bool(phone) == bool(email):
        raise ValidationError("give either a phone number or an email address")
    return phone or email or ""


def _channels(channel: str) -> tuple[str, ...]:
    return (str(Channel(channel)), _ALL)


def suppress(
    session: Session,
    *,
    digest: Digester,
    phone: str | None = None,
    email: str | None = None,
    channel: Channel | str = _ALL,
    reason: SuppressionReason | str,
    note: str | None = None,
) -> None:
    """Add a number or address to the suppression list (idempotent)."""
    suppress_addresses(
        session, digest=digest, notes={_address(phone, email): note}, channel=channel, reason=reason
    )


def suppress_addresses(
    session: Session,
    *,
    digest: Digester,
    notes: Mapping[str, str | None],
    channel: Channel | str = _ALL,
    reason: SuppressionReason | str,
) -> None:
    """Add many numbers or addresses (each with its note) in one statement (idempotent)."""
    if not notes:
        return
    reason = SuppressionReason(reason)
    if channel != _ALL:
        channel = Channel(channel)
    session.execute(
        upsert_insert(session, Suppression).on_conflict_do_nothing(),
        [
            {
                "digest": digest(address),
                "channel": str(channel),
                "reason": str(reason),
                "note": note,
            }
            for address, note in notes.items()
        ],
    )


def lift_suppression(
    session: Session,
    *,
    digest: Digester,
    phone: str | None = None,
    email: str | None = None,
    channel: Channel | str,
    reasons: Collection[SuppressionReason] = (SuppressionReason.KEYWORD,),
) -> int:
    """Remove the entries of the given reasons (by default only STOP-words); erasures stay."""
    key = digest(_address(phone, email))
    result = session.execute(
        delete(Suppression).where(
            Suppression.digest == key,
            Suppression.channel.in_(_channels(channel)),
            Suppression.reason.in_([str(r) for r in reasons]),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def suppression_reasons(
    session: Session,
    *,
    digest: Digester,
    phone: str | None = None,
    email: str | None = None,
    channel: Channel | str = Channel.SMS,
) -> list[str]:
    """Why this number or address is suppressed on `channel` (empty if it is not)."""
    key = digest(_address(phone, email))
    query = select(Suppression.reason).where(
        Suppression.digest == key, Suppression.channel.in_(_channels(channel))
    )
    return sorted(set(session.scalars(query)))


def suppression_notes(
    session: Session,
    *,
    digest: Digester,
    phone: str | None = None,
    email: str | None = None,
    channel: Channel | str = Channel.SMS,
) -> dict[str, str | None]:
    """The entries that apply to `channel` for this number or address: reason -> note."""
    key = digest(_address(phone, email))
    query = select(Suppression.reason, Suppression.note).where(
        Suppression.digest == key, Suppression.channel.in_(_channels(channel))
    )
    return {row[0]: row[1] for row in session.execute(query)}


def count_suppressions(session: Session, *, channel: Channel | str) -> int:
    """How many entries apply to `channel` (its own and those for every channel)."""
    query = select(func.count()).where(Suppression.channel.in_(_channels(channel)))
    return int(session.connection().scalar(query) or 0)


def reasons_by_digest(
    session: Session, *, channel: Channel | str, digests: Collection[str] | None = None
) -> dict[str, list[str]]:
    """The entries that apply to `channel` (only those of `digests` when given): digest ->
    sorted reasons."""
    found: dict[str, set[str]] = {}
    condition = Suppression.channel.in_(_channels(channel))
    query = select(Suppression.digest, Suppression.reason).where(condition)
    if digests is None:
        queries = [query]
    else:
        items = list(digests)
        queries = [
            query.where(Suppression.digest.in_(items[start : start + 5_000]))
            for start in range(0, len(items), 5_000)
        ]
    connection = session.connection()
    for chunk in queries:
        for digest, reason in connection.execute(chunk):
            found.setdefault(digest, set()).add(reason)
    return {digest: sorted(reasons) for digest, reasons in found.items()}


def suppressed_phones(
    session: Session,
    *,
    digest: Digester,
    phones: Collection[str],
    channel: Channel | str = Channel.SMS,
) -> dict[str, list[str]]:
    """Which of these E.164 numbers (or addresses) are suppressed, and why (one query)."""
    by_digest = {digest(p): p for p in phones}
    reasons = reasons_by_digest(session, channel=channel, digests=by_digest)
    return {by_digest[d]: r for d, r in reasons.items()}


def suppressed_contacts(
    session: Session, *, digest: Digester, contact_ids: Collection[int], channel: Channel | str
) -> dict[int, list[str]]:
    """Which of these contacts are suppressed on `channel` by their number or address."""
    column = Contact.email if channel == Channel.EMAIL else Contact.phone
    owners: dict[str, int] = {}
    ids = list(contact_ids)
    for start in range(0, len(ids), 5_000):
        query = select(Contact.id, column).where(Contact.id.in_(ids[start : start + 5_000]))
        for contact_id, address in session.execute(query):
            if address:
                owners[address] = contact_id
    found = suppressed_phones(session, digest=digest, phones=owners, channel=channel)
    return {owners[address]: reasons for address, reasons in found.items()}
