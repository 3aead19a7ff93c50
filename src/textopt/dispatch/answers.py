"""The provider's answers to a submission: submitted, retried later, or failed for good.

Every function works on a batch with bulk SQL. Claiming (the rate bucket, the re-check, the
mark `sending`) is `dispatch.claim`; receipts are `dispatch.receipts`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from textopt.db.base import UTCDateTime
from textopt.db.bulk import among, id_list, ids_parameter, parse_instant
from textopt.dispatch.feedback import FeedbackRules
from textopt.dispatch.models import OrphanReceipt
from textopt.dispatch.receipts import apply_orphans
from textopt.dispatch.status_changes import (
    STATE_COLUMNS,
    emit_status_changes,
    status_webhooks_exist,
)
from textopt.outbox.history import claim_written_out
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus, check_transition
from textopt.outbox.writes import EVENTS, MESSAGES, write_events, write_updates
from textopt.providers.base import SubmitOutcome, SubmitResult
from textopt.providers.codes import AMBIGUOUS_CODES
from textopt.vocab import Purpose

__all__ = ["ResultReport", "record_results", "retry_delay"]

_S = MessageStatus


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
    only if still `sending` and ours), which hold the submission themselves (no event row;
    `textopt.outbox.history`). Any
    other answer, an acceptance for a row no longer ours, or any answer while a webhook
    endpoint listens for status changes, takes the way that reads each row first.
    """
    report = ResultReport()
    if not results:
        return report
    rest: Sequence[SubmitResult] = results
    listened, waiting = _listeners_and_orphans(session, provider=provider)
    if not listened:
        accepted = [
            r for r in results if r.outcome == SubmitOutcome.ACCEPTED and r.provider_message_id
        ]
        if accepted:
            done = _record_accepted(session, worker=worker, accepted=accepted, now=now)
            report.submitted += len(done)
            rest = [r for r in results if r.message_id not in done]
            apply_orphans(
                session,
                provider=provider,
                provider_ids=[
                    r.provider_message_id or "" for r in accepted if r.message_id in done
                ],
                now=now,
                feedback=feedback,
                waiting=waiting,
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


#: Whether a webhook endpoint listens and receipts wait for a provider's answers, by dialect.
_LISTENERS_AND_ORPHANS: dict[str, Any] = {}


def _listeners_and_orphans(session: Session, *, provider: str) -> tuple[bool, bool]:
    """Whether status webhooks are wanted, and whether receipts of `provider` wait for their
    message (`apply_orphans`): one round trip for both, before the batch's writes.

    A receipt stored meanwhile by another process is applied by the housekeeping's sweep
    (`resolve_orphan_receipts`), as one stored while this transaction ran always was.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in _LISTENERS_AND_ORPHANS:
        _LISTENERS_AND_ORPHANS[dialect] = select(
            status_webhooks_exist(),
            exists().where(OrphanReceipt.provider == bindparam("provider", type_=String)),
        )
    row = session.execute(_LISTENERS_AND_ORPHANS[dialect], {"provider": provider}).one()
    return bool(row[0]), bool(row[1])


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
        # the row holds the submission, after its claim; one claimed before the rows held
        # their claims has its `sending` event, and the submission comes after every event
        "error_text = NULL, "
        "row_facts_after = coalesce(row_facts_after, (SELECT max(id) FROM message_events))"
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
    # the driver's row count sums the parameter sets: all ours, or look which ones are
    if written.rowcount == len(ids):
        return set(ids)
    values = {"ids": id_list(dialect.name, ids), "worker": worker, "now": now}
    return set(session.scalars(_ours_submitted(dialect.name), values))


#: Which rows of a batch were just marked `submitted` by us, by dialect.
_OURS_SUBMITTED: dict[str, Any] = {}


def _ours_submitted(dialect: str) -> Any:
    """SELECT of the ids just marked `submitted` by us (ids, worker, now)."""
    if dialect not in _OURS_SUBMITTED:
        _OURS_SUBMITTED[dialect] = select(MESSAGES.c.id).where(
            among(dialect, MESSAGES.c.id, ids_parameter(dialect, "ids", MESSAGES.c.id)),
            # `|| ''`: found by id, never through a status index, which would read every
            # message of that state in the outbox for each batch
            MESSAGES.c.status.concat("") == _S.SUBMITTED,
            MESSAGES.c.claimed_by == bindparam("worker", type_=String),
            MESSAGES.c.submitted_at == bindparam("now", type_=UTCDateTime),
        )
    return _OURS_SUBMITTED[dialect]


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
            select(*STATE_COLUMNS, Message.claimed_at).where(Message.id.in_(list(by_id)))
        )
    }
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    accepted_ids: list[str] = []
    # rows whose held steps must be placed after this batch's events: a held claim a late
    # answer follows (written out), an acceptance of a claim the row does not hold
    placed: list[int] = []
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
            if message.status == _S.SENDING and message.claimed_at is not None:
                # another worker's claim, not answered yet: it comes first in the history
                events.extend(_claim_written_out(message))
                placed.append(message_id)
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
        if row["status"] == _S.SUBMITTED:
            if message.claimed_at is None:  # claimed before the rows held their claims
                placed.append(message_id)
            continue  # the row holds the submission, after the claim it holds
        # the attempt ends otherwise: its claim leaves the row, written out before the answer
        events.extend(_claim_written_out(message))
        row.update(claimed_at=None, row_facts_after=None)
        events.append(
            {"message_id": message_id, "at": now, "status": row["status"], "detail": detail}
        )
    write_updates(session, updates)
    write_events(session, events)
    if placed:
        # the claims just written out are events now; a submission held or still to come
        # is placed after every event so far
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_(placed))
            .values(
                claimed_at=None,
                row_facts_after=select(func.max(EVENTS.c.id)).scalar_subquery(),
            )
        )
    emit_status_changes(session, rows, [u for u in updates if "status" in u], now=now)
    if accepted_ids:
        apply_orphans(
            session, provider=provider, provider_ids=accepted_ids, now=now, feedback=feedback
        )


def _claim_written_out(message: Any) -> list[dict[str, Any]]:
    """The `sending` event of the claim a row holds (none if it holds none)."""
    return claim_written_out(message.id, claimed_at=message.claimed_at, worker=message.claimed_by)
