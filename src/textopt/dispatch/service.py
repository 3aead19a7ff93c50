"""The outbox after the wire: record answers and receipts, recover from crashes.

Every function works on a batch with bulk SQL. Claiming (the rate bucket, the re-check, the
mark `sending`) is `dispatch.claim`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from textopt.db.base import UTCDateTime
from textopt.db.bulk import among, id_list, ids_parameter, parse_instant, raw
from textopt.dispatch.feedback import FeedbackRules, record_receipt_feedback
from textopt.dispatch.models import OrphanReceipt
from textopt.outbox.models import Message, status_in
from textopt.outbox.states import TRANSITIONS, MessageStatus, check_transition
from textopt.outbox.writes import EVENTS, MESSAGES, write_events, write_updates
from textopt.providers.base import (
    Receipt,
    ReceiptStatus,
    SubmitOutcome,
    SubmitResult,
)
from textopt.providers.codes import AMBIGUOUS_CODES
from textopt.vocab import Channel, Purpose
from textopt.webhooks.models import WebhookEndpoint, WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = [
    "UNANSWERED_EVERY",
    "ResultReport",
    "close_unanswered",
    "record_receipts",
    "record_results",
    "recover_stale",
    "resolve_orphan_receipts",
    "retry_delay",
]

_S = MessageStatus
_RECEIPT_STATUS = {
    ReceiptStatus.DELIVERED: _S.DELIVERED,
    ReceiptStatus.FAILED: _S.FAILED,
    ReceiptStatus.EXPIRED: _S.EXPIRED,
    ReceiptStatus.UNKNOWN: _S.UNKNOWN,
}


@dataclass(slots=True)
class ResultReport:
    """What recording a batch of provider answers did."""

    submitted: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    throttled: int = 0
    late: int = 0  # answers for messages no longer ours (lease lost): kept as events
    unknown: int = 0  # marketing without an answer from the provider: never resent


#: What recording an answer or a receipt reads of a message.
_STATE_COLUMNS = (
    Message.id,
    Message.campaign_id,
    Message.purpose,
    Message.status,
    Message.claimed_by,
    Message.attempts,
    raw(Message.expires_at),  # parsed where a retry is weighed against it
    Message.provider_message_id,
)


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff before retry number `attempt`: 15 s, 30 s, 1 min, ... at most 30 min."""
    return dt.timedelta(seconds=min(15 * 2 ** max(attempt - 1, 0), 1800))


def record_results(
    session: Session,
    *,
    worker: str,
    provider: str,
    results: Sequence[SubmitResult],
    now: dt.datetime,
    max_attempts: int,
    feedback: FeedbackRules,
) -> ResultReport:
    """Store the provider's answers: submitted, retried later, or failed for good.

    Acceptances, the common answer, are written in bulk: one statement for the rows (each
    only if still `sending` and ours), one for their events, written by the database. Any
    other answer, an acceptance for a row no longer ours, or any answer while a webhook
    endpoint listens for status changes, takes the way that reads each row first.
    """
    report = ResultReport()
    if not results:
        return report
    rest: Sequence[SubmitResult] = results
    if not _status_webhooks(session):
        accepted = [
            r for r in results if r.outcome == SubmitOutcome.ACCEPTED and r.provider_message_id
        ]
        if accepted:
            done = _record_accepted(session, worker=worker, accepted=accepted, now=now)
            report.submitted += len(done)
            rest = [r for r in results if r.message_id not in done]
            _apply_orphans(
                session,
                provider=provider,
                provider_ids=[
                    r.provider_message_id or "" for r in accepted if r.message_id in done
                ],
                now=now,
                feedback=feedback,
            )
    if rest:
        _record_each(
            session,
            report,
            worker=worker,
            provider=provider,
            results=rest,
            now=now,
            max_attempts=max_attempts,
            feedback=feedback,
        )
    return report


def _status_webhooks(session: Session) -> bool:
    """Whether an active webhook endpoint may want `message.status_changed` events."""
    query = select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True)).limit(1)
    return session.execute(query).first() is not None


def _record_accepted(
    session: Session, *, worker: str, accepted: Sequence[SubmitResult], now: dt.datetime
) -> set[int]:
    """Mark accepted messages `submitted` in bulk; the ids of those that were still ours."""
    connection = session.connection()
    dialect = connection.dialect
    ph = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
    process = MESSAGES.c.submitted_at.type._cached_bind_processor(dialect)
    stamp = process(now) if process is not None else now
    ids = [r.message_id for r in accepted]
    columns = (
        "status = 'submitted', provider_message_id = v.pid, "
        f"submitted_at = {ph}, updated_at = {ph}, lease_until = NULL, error_code = NULL, "
        "error_text = NULL"
    )
    ours = f"messages.id = v.id AND messages.status = 'sending' AND messages.claimed_by = {ph}"
    # One statement for the batch: the database runs it without the interpreter lock (a
    # driver's executemany takes the lock back for every row, against the event loop).
    if dialect.name == "postgresql":
        written = connection.exec_driver_sql(
            f"UPDATE messages SET {columns} FROM unnest({ph}::bigint[], {ph}::text[]) "
            f"AS v(id, pid) WHERE {ours}",
            (stamp, stamp, ids, [r.provider_message_id for r in accepted], worker),
        )
    elif sqlite3.sqlite_version_info >= (3, 33):  # UPDATE … FROM
        pairs = json.dumps([[r.message_id, r.provider_message_id] for r in accepted])
        written = connection.exec_driver_sql(
            f"UPDATE messages SET {columns} FROM (SELECT json_extract(value, '$[0]') AS id, "
            f"json_extract(value, '$[1]') AS pid FROM json_each({ph})) AS v "
            # `+status`: not the sending index, which would read every message in
            # `sending` for each pair; each pair finds its row by id
            f"WHERE {ours.replace('messages.status', '+messages.status')}",
            (stamp, stamp, pairs, worker),
        )
    else:
        written = connection.exec_driver_sql(
            f"UPDATE messages SET {columns.replace('v.pid', ph)} WHERE {ours.replace('v.id', ph)}",
            [(r.provider_message_id, stamp, stamp, r.message_id, worker) for r in accepted],
        )
    find, log = _submitted_statements(dialect.name)
    values = {"ids": id_list(dialect.name, ids), "worker": worker, "now": now}
    # the driver's row count sums the parameter sets: all ours, or look which ones are
    done = set(ids) if written.rowcount == len(ids) else set(session.scalars(find, values))
    session.execute(log, values)
    return done


#: Recording acceptances, by dialect: which rows are ours now, and their events.
_SUBMITTED_STATEMENTS: dict[str, tuple[Any, Any]] = {}


def _submitted_statements(dialect: str) -> tuple[Any, Any]:
    """SELECT of the ids just marked `submitted` by us, INSERT of their events (ids, worker,
    now)."""
    if dialect not in _SUBMITTED_STATEMENTS:
        now = bindparam("now", type_=UTCDateTime)
        worker = bindparam("worker", type_=String)
        ours = (
            among(dialect, MESSAGES.c.id, ids_parameter(dialect, "ids", MESSAGES.c.id)),
            # `|| ''`: found by id, never through a status index, which would read every
            # message of that state in the outbox for each batch
            MESSAGES.c.status.concat("") == _S.SUBMITTED,
            MESSAGES.c.claimed_by == worker,
            MESSAGES.c.submitted_at == now,
        )
        build = func.jsonb_build_object if dialect == "postgresql" else func.json_object
        log = insert(EVENTS).from_select(
            ["message_id", "at", "status", "detail"],
            select(
                MESSAGES.c.id,
                now,
                literal(str(_S.SUBMITTED), String),
                build(
                    literal("outcome", String),
                    literal(str(SubmitOutcome.ACCEPTED), String),
                    literal("worker", String),
                    worker,
                    literal("provider_message_id", String),
                    MESSAGES.c.provider_message_id,
                ),
            ).where(*ours),
        )
        _SUBMITTED_STATEMENTS[dialect] = (select(MESSAGES.c.id).where(*ours), log)
    return _SUBMITTED_STATEMENTS[dialect]


def _record_each(
    session: Session,
    report: ResultReport,
    *,
    worker: str,
    provider: str,
    results: Sequence[SubmitResult],
    now: dt.datetime,
    max_attempts: int,
    feedback: FeedbackRules,
) -> None:
    """Record answers one row at a time (after reading each row's state)."""
    by_id = {r.message_id: r for r in results}
    rows = {
        m.id: m
        for m in session.connection().execute(
            select(*_STATE_COLUMNS).where(Message.id.in_(list(by_id)))
        )
    }
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    accepted_ids: list[str] = []
    for message_id, result in by_id.items():
        message = rows.get(message_id)
        if message is None:
            continue  # erased meanwhile
        detail: dict[str, Any] = {"outcome": str(result.outcome), "worker": worker}
        if result.provider_message_id:
            detail["provider_message_id"] = result.provider_message_id
        if result.error_code:
            detail.update(code=result.error_code, text=result.error_text)
        ours = message.status == _S.SENDING and message.claimed_by == worker
        if not ours:
            # The lease ran out and recovery moved the row on; keep what the provider said
            # so that a receipt can still resolve an `unknown` message.
            report.late += 1
            if result.outcome == SubmitOutcome.ACCEPTED and message.status == _S.UNKNOWN:
                updates.append(
                    {"id": message_id, "provider_message_id": result.provider_message_id}
                )
                accepted_ids.append(result.provider_message_id or "")
            events.append(
                {
                    "message_id": message_id,
                    "at": now,
                    "status": message.status,
                    "detail": {**detail, "late": True},
                }
            )
            continue
        row: dict[str, Any] = {"id": message_id, "lease_until": None}
        if result.outcome == SubmitOutcome.ACCEPTED:
            report.submitted += 1
            row.update(
                status=_S.SUBMITTED,
                provider_message_id=result.provider_message_id,
                submitted_at=now,
                error_code=None,
                error_text=None,
            )
            accepted_ids.append(result.provider_message_id or "")
        elif result.outcome == SubmitOutcome.TEMPORARY:
            report.throttled += result.throttled
            retry_at = now + retry_delay(message.attempts)
            ambiguous = result.ambiguous or result.error_code in AMBIGUOUS_CODES
            if ambiguous and message.purpose == Purpose.MARKETING:
                report.unknown += 1
                row.update(
                    status=_S.UNKNOWN,
                    reason="ambiguous_submit",
                    done_at=now,
                    reason_text="No answer came from the provider, which may have sent it; "
                    "not resent to avoid a duplicate. A receipt may still resolve it.",
                )
            elif (expires := parse_instant(message.expires_at)) is not None and retry_at >= expires:
                report.expired += 1
                row.update(
                    status=_S.EXPIRED,
                    reason="expired",
                    done_at=now,
                    reason_text="Expired while the provider was unavailable.",
                )
            elif message.attempts >= max_attempts:
                report.failed += 1
                row.update(
                    status=_S.FAILED,
                    reason="provider_error",
                    done_at=now,
                    reason_text=f"Gave up after {message.attempts} attempts.",
                )
            else:
                report.retried += 1
                row.update(status=_S.QUEUED, send_at=retry_at)
            row.update(error_code=result.error_code, error_text=result.error_text)
        else:
            report.failed += 1
            row.update(
                status=_S.FAILED,
                reason="provider_refused",
                reason_text=f"The provider refused it: {result.error_text or result.error_code}.",
                error_code=result.error_code,
                error_text=result.error_text,
                done_at=now,
            )
        check_transition(message.status, row["status"])
        updates.append(row)
        events.append(
            {"message_id": message_id, "at": now, "status": row["status"], "detail": detail}
        )
    write_updates(session, updates)
    write_events(session, events)
    _emit_status_changes(session, rows, [u for u in updates if "status" in u], now=now)
    if accepted_ids:
        _apply_orphans(
            session, provider=provider, provider_ids=accepted_ids, now=now, feedback=feedback
        )


def _emit_status_changes(
    session: Session,
    messages: Mapping[int, Any],
    changes: Sequence[Mapping[str, Any]],
    *,
    now: dt.datetime,
) -> None:
    """Queue one `message.status_changed` webhook event per change (one insert in all)."""
    if not changes or not _status_webhooks(session):
        return  # nobody listens: the events are not even built
    emit_events(
        session,
        events=[
            (
                WebhookEvent.MESSAGE_STATUS,
                {
                    "message_id": change["id"],
                    "campaign_id": messages[change["id"]].campaign_id,
                    "status": str(change["status"]),
                    "reason": change.get("reason"),
                    "provider_message_id": change.get("provider_message_id")
                    or messages[change["id"]].provider_message_id,
                    "error_code": change.get("error_code"),
                },
            )
            for change in changes
            if change["status"] != _S.QUEUED  # a retry is not news to the user's systems
        ],
        now=now,
    )


#: The messages receipts name, by dialect (provider, ids).
_RECEIPT_QUERIES: dict[str, Any] = {}


def record_receipts(
    session: Session, *, receipts: Sequence[Receipt], now: dt.datetime, feedback: FeedbackRules
) -> int:
    """Apply delivery receipts in bulk; one for a message not yet known is kept for later.

    `feedback`: what failed receipts say about their numbers (`dispatch.feedback`).
    """
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
            _RECEIPT_QUERIES[dialect] = select(*_STATE_COLUMNS).where(
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
        if orphans:
            session.execute(
                insert(OrphanReceipt),
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
    _emit_status_changes(session, messages, list(updates.values()), now=now)
    return len(updates)


#: Every allowed move, by the state's plain name (rows hold plain strings).
_ALLOWED = {str(state): moves for state, moves in TRANSITIONS.items()}


def _allowed(status: str) -> frozenset[MessageStatus]:
    return _ALLOWED[status]


def _apply_orphans(
    session: Session,
    *,
    provider: str,
    provider_ids: Sequence[str],
    now: dt.datetime,
    feedback: FeedbackRules,
) -> None:
    """Receipts that arrived before the provider's answer are applied now."""
    waiting = select(OrphanReceipt.id).where(OrphanReceipt.provider == provider).limit(1)
    if not provider_ids or session.execute(waiting).first() is None:
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


def recover_stale(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Resolve messages whose worker died mid-send (lease over).

    Marketing becomes `unknown` and is never resent (a duplicate promotion is worse than a
    missing one); transactional is queued again with the same idempotency key.
    """
    stale = select(Message.id, Message.purpose).where(
        status_in(_S.SENDING), Message.lease_until < now
    )
    if session.get_bind().dialect.name == "postgresql":
        stale = stale.with_for_update(skip_locked=True)
    rows = session.execute(stale).all()
    marketing = [r.id for r in rows if r.purpose == Purpose.MARKETING]
    transactional = [r.id for r in rows if r.purpose != Purpose.MARKETING]
    lost = (
        "The worker stopped while sending; not resent to avoid a duplicate. "
        "A late receipt may still resolve it."
    )
    write_updates(
        session,
        [
            {
                "id": i,
                "status": _S.UNKNOWN,
                "reason": "worker_lost",
                "done_at": now,
                "reason_text": lost,
                "lease_until": None,
            }
            for i in marketing
        ]
        + [
            {"id": i, "status": _S.QUEUED, "send_at": now, "lease_until": None}
            for i in transactional
        ],
    )
    write_events(
        session,
        [
            {
                "message_id": r.id,
                "at": now,
                "status": _S.UNKNOWN if r.purpose == Purpose.MARKETING else _S.QUEUED,
                "detail": {"recovered": "lease expired"},
            }
            for r in rows
        ],
    )
    return len(marketing), len(transactional)


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
    _emit_status_changes(
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
