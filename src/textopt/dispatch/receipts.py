"""Delivery receipts: applied in bulk, kept for later when they overtake the provider's
answer (orphans), and the ending of SMS whose receipt never came (`no_receipt`)."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, case, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from textopt.db.bulk import among, id_list, ids_parameter
from textopt.dispatch.feedback import FeedbackRules, record_receipt_feedback
from textopt.dispatch.models import OrphanReceipt
from textopt.dispatch.status_changes import STATE_COLUMNS, emit_status_changes
from textopt.outbox.models import Message, status_in
from textopt.outbox.states import TRANSITIONS, MessageStatus, check_transition
from textopt.outbox.writes import MESSAGES, write_events, write_updates
from textopt.providers.base import Receipt, ReceiptStatus
from textopt.vocab import Channel

__all__ = [
    "UNANSWERED_EVERY",
    "apply_orphans",
    "close_unanswered",
    "record_receipts",
    "resolve_orphan_receipts",
]

_S = MessageStatus
_RECEIPT_STATUS = {
    ReceiptStatus.DELIVERED: _S.DELIVERED,
    ReceiptStatus.FAILED: _S.FAILED,
    ReceiptStatus.EXPIRED: _S.EXPIRED,
    ReceiptStatus.UNKNOWN: _S.UNKNOWN,
}


_ORPHANS = cast(Table, OrphanReceipt.__table__)

#: The messages receipts name, by dialect (provider, ids).
_RECEIPT_QUERIES: dict[str, Any] = {}


def record_receipts(
    session: Session, *, receipts: Sequence[Receipt], now: dt.datetime, feedback: FeedbackRules
) -> int:
    """Apply delivery receipts in bulk; one for a message not yet known is kept for later.

    `feedback`: what failed receipts say about their numbers (`dispatch.feedback`)."""
    if not receipts:
        return 0
    applied = 0
    by_provider: dict[str, list[Receipt]] = {}
    for receipt in receipts:
        by_provider.setdefault(receipt.provider, []).append(receipt)
    for provider, items in by_provider.items():
        ids = [r.provider_message_id for r in items]
        dialect = session.get_bind().dialect.name
        if dialect not in _RECEIPT_QUERIES:
            _RECEIPT_QUERIES[dialect] = select(*STATE_COLUMNS).where(
                Message.provider == bindparam("provider", type_=String),
                among(
                    dialect,
                    Message.provider_message_id,
                    ids_parameter(dialect, "ids", Message.provider_message_id),
                ),
            )
        found = session.connection().execute(
            _RECEIPT_QUERIES[dialect], {"provider": provider, "ids": id_list(dialect, ids)}
        )
        messages = {m.provider_message_id: m for m in found.all()}
        orphans = [r for r in items if r.provider_message_id not in messages]
        if orphans:  # a Core insert: the ORM's bulk path cost more per row than the row
            session.connection().execute(
                insert(_ORPHANS),
                [
                    {
                        "provider": provider,
                        "provider_message_id": r.provider_message_id,
                        "status": str(r.status),
                        "at": r.at,
                        "error_code": r.error_code,
                        "error_text": r.error_text,
                        "stat": r.raw.get("stat"),
                    }
                    for r in orphans
                ],
            )
        applied += _apply_receipts(
            session,
            items=[
                (messages[r.provider_message_id], r)
                for r in items
                if r.provider_message_id in messages
            ],
            now=now,
        )
    # numbers that never work, opt-outs at the provider
    record_receipt_feedback(session, receipts=receipts, now=now, rules=feedback)
    return applied


def _apply_receipts(
    session: Session, *, items: Sequence[tuple[Any, Receipt]], now: dt.datetime
) -> int:
    updates: dict[int, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    current: dict[int, str] = {}  # the state as this batch leaves it
    for message, receipt in items:
        new = _RECEIPT_STATUS[receipt.status]
        status = current.setdefault(message.id, message.status)
        detail: dict[str, Any] = {
            "receipt": str(receipt.status),
            "provider_message_id": receipt.provider_message_id,
        }
        if receipt.error_code:
            detail.update(code=receipt.error_code, text=receipt.error_text)
        if stat := receipt.raw.get("stat"):
            detail["stat"] = stat  # the SMSC's own word (DELIVRD, ACCEPTD...), as it came
        events.append({"message_id": message.id, "at": receipt.at, "status": new, "detail": detail})
        if status == new or new not in _allowed(status):
            continue  # a duplicate receipt, or one after a final state: logged only
        current[message.id] = new
        row: dict[str, Any] = {"id": message.id, "status": new, "done_at": now, "lease_until": None}
        if new == _S.UNKNOWN:
            row.update(
                reason="receipt_unknown",
                reason_text=f"The network reported {stat or receipt.error_text or 'UNKNOWN'} "
                "(a final state that does not confirm delivery to the handset).",
                error_code=receipt.error_code,
                error_text=receipt.error_text,
            )
        elif new != _S.DELIVERED:
            row.update(
                reason=f"receipt_{receipt.status}",
                reason_text=f"The network reported: {receipt.error_text or receipt.status}.",
                error_code=receipt.error_code,
                error_text=receipt.error_text,
            )
        elif status == _S.UNKNOWN:  # the doubt is over: its reason no longer applies
            row.update(reason=None, reason_text=None, error_code=None, error_text=None)
        updates[message.id] = row
    delivered = [
        message_id
        for message_id, row in updates.items()
        if row["status"] == _S.DELIVERED and len(row) == 4  # id, status, done_at, lease_until
    ]
    if delivered:  # the common case, in one statement
        session.execute(
            update(MESSAGES)
            .where(among(session.get_bind().dialect.name, MESSAGES.c.id, delivered))
            .values(status=_S.DELIVERED, done_at=now, lease_until=None)
        )
    done = set(delivered)
    write_updates(session, [row for key, row in updates.items() if key not in done])
    write_events(session, events)
    messages = {message.id: message for message, _ in items}
    emit_status_changes(session, messages, list(updates.values()), now=now)
    return len(updates)


#: Every allowed move, by the state's plain name (rows hold plain strings).
_ALLOWED = {str(state): moves for state, moves in TRANSITIONS.items()}


def _allowed(status: str) -> frozenset[MessageStatus]:
    return _ALLOWED[status]


def apply_orphans(
    session: Session,
    *,
    provider: str,
    provider_ids: Sequence[str],
    now: dt.datetime,
    feedback: FeedbackRules,
    waiting: bool | None = None,
) -> None:
    """Receipts that arrived before the provider's answer are applied now.

    `waiting`: whether any receipt of `provider` waits, when the caller has asked already.
    """
    if not provider_ids or waiting is False:
        return
    if waiting is None:
        query = select(OrphanReceipt.id).where(OrphanReceipt.provider == provider).limit(1)
        if session.execute(query).first() is None:
            return
    dialect = session.get_bind().dialect.name
    # Core rows (they have the attributes `_apply_orphan_rows` reads), the ids as one
    # parameter: an SMSC that sends its receipt at once makes most receipts wait here
    query = select(*OrphanReceipt.__table__.c).where(
        OrphanReceipt.provider == provider,
        among(dialect, OrphanReceipt.provider_message_id, provider_ids),
    )
    orphans = session.connection().execute(query).all()
    _apply_orphan_rows(session, orphans=orphans, now=now, feedback=feedback)


def _apply_orphan_rows(
    session: Session, *, orphans: Sequence[Any], now: dt.datetime, feedback: FeedbackRules
) -> None:
    if not orphans:
        return
    receipts = [
        Receipt(
            provider=o.provider,
            provider_message_id=o.provider_message_id,
            status=ReceiptStatus(o.status),
            at=o.at,
            error_code=o.error_code,
            error_text=o.error_text,
            raw={"stat": o.stat} if o.stat else {},
        )
        for o in orphans
    ]
    gone = delete(OrphanReceipt).where(
        among(session.get_bind().dialect.name, OrphanReceipt.id, [o.id for o in orphans])
    )
    session.execute(gone, execution_options={"synchronize_session": False})
    record_receipts(session, receipts=receipts, now=now, feedback=feedback)


def resolve_orphan_receipts(
    session: Session,
    *,
    now: dt.datetime,
    feedback: FeedbackRules,
    keep: dt.timedelta = dt.timedelta(days=7),
) -> int:
    """Apply waiting receipts whose message is now known; drop those waiting too long.

    A receipt stored while another worker's transaction was recording the provider's
    answer (PostgreSQL, two accounts) finds its message on this sweep.
    """
    matched = list(
        session.scalars(
            select(OrphanReceipt)
            .join(
                Message,
                (Message.provider == OrphanReceipt.provider)
                & (Message.provider_message_id == OrphanReceipt.provider_message_id),
            )
            .limit(10_000)
        )
    )
    _apply_orphan_rows(session, orphans=matched, now=now, feedback=feedback)
    session.execute(delete(OrphanReceipt).where(OrphanReceipt.at < now - keep))
    return len(matched)


#: How often the dispatcher's housekeeping looks for SMS whose receipt never came. The
#: deadlines are hours long, and the search reads the outbox's rows: no index holds the
#: `submitted` messages, since every message would enter and leave one on the dispatch path.
UNANSWERED_EVERY = dt.timedelta(minutes=5)
#: When each database was last searched (by engine), for `every`.
_searched: weakref.WeakKeyDictionary[Any, dt.datetime] = weakref.WeakKeyDictionary()


def close_unanswered(
    session: Session,
    *,
    now: dt.datetime,
    validity: dt.timedelta,
    grace: dt.timedelta,
    limit: int = 10_000,
    every: dt.timedelta | None = None,
) -> int:
    """End as `unknown` (`no_receipt`) the SMS whose receipt has not come in time.

    The network tries until the message's `expires_at`, or for `validity` after it was sent
    when it has none; its receipt may take `grace` more. Past that, the message is closed so
    that reports stop counting it as in flight; a late receipt still resolves it. With
    `every`, searches at most that often per database (the housekeeping calls it each
    second) and returns 0 in between. Emails are left alone: they have no receipts.
    """
    if every is not None:
        bind = session.get_bind()
        last = _searched.get(bind)
        if last is not None and last <= now < last + every:
            return 0
        _searched[bind] = now
    check_transition(_S.SUBMITTED, _S.UNKNOWN)
    waited = or_(
        (Message.expires_at.is_(None)) & (Message.submitted_at < now - validity - grace),
        Message.expires_at < now - grace,
    )
    due = (
        select(Message.id)
        .where(status_in(_S.SUBMITTED), Message.channel == Channel.SMS, waited)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: rows a receipt is writing wait
    )
    after = "the network may have delivered it or not. A late receipt will still resolve it."
    closed = session.execute(
        update(MESSAGES)
        # `submitted` again: on PostgreSQL a receipt committed meanwhile wins
        .where(MESSAGES.c.id.in_(due.scalar_subquery()), MESSAGES.c.status == _S.SUBMITTED)
        .values(
            status=_S.UNKNOWN,
            reason="no_receipt",
            reason_text=case(
                (
                    MESSAGES.c.expires_at.is_(None),
                    f"No delivery receipt came within {_duration(validity + grace)} after it "
                    f"was sent; {after}",
                ),
                else_=f"No delivery receipt came within {_duration(grace)} after the "
                f"message's expiry; {after}",
            ),
            done_at=now,
            lease_until=None,
        )
        .returning(MESSAGES.c.id, MESSAGES.c.campaign_id, MESSAGES.c.provider_message_id)
    ).all()
    write_events(
        session,
        [
            {
                "message_id": row.id,
                "at": now,
                "status": _S.UNKNOWN,
                "detail": {"closed": "no_receipt"},
            }
            for row in closed
        ],
    )
    emit_status_changes(
        session,
        {row.id: row for row in closed},
        [{"id": row.id, "status": _S.UNKNOWN, "reason": "no_receipt"} for row in closed],
        now=now,
    )
    return len(closed)


def _duration(span: dt.timedelta) -> str:
    """`72 hours`, `1 hour`, `90 minutes`: a span as a person reads it."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
