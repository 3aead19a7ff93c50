"""Claiming due messages: the shared rate bucket, the policy re-check, the mark `sending`.

A claim reads an account's due messages oldest first through the partial due index, with
what the re-check needs of each contact (`eligibility.claim_columns`), re-checks them (a STOP
received after planning wins; a message past its expiry becomes `expired`; one due in quiet
hours after an outage waits again), and marks the rest `sending` with a lease. The caller
commits before anything is written to the wire.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from textopt.campaigns.models import Campaign, CampaignStatus
from textopt.consent.suppression import Digester
from textopt.contacts.models import Contact
from textopt.db.base import UTCDateTime
from textopt.db.bulk import among, id_list, ids_parameter, raw
from textopt.db.engine import upsert_insert
from textopt.dispatch.models import RateBucket
from textopt.eligibility import CAP_WINDOW, COUNTED_SENT, FIRST, Rechecker, claim_columns
from textopt.outbox.models import Message, status_in
from textopt.outbox.rows import decision_columns
from textopt.outbox.states import MessageStatus, check_transition
from textopt.outbox.writes import EVENTS, MESSAGES, write_events, write_updates
from textopt.policy import Decision, Reason, Verdict, WorkspacePolicy
from textopt.providers.base import OutboundMessage

__all__ = ["ClaimReport", "claim_batch", "due_condition", "due_count", "reserve_tokens"]

_S = MessageStatus


@dataclass(slots=True)
class ClaimReport:
    """What one claim did."""

    sending: list[OutboundMessage] = field(default_factory=list)
    blocked: int = 0
    expired: int = 0
    deferred: int = 0
    tokens_left: int = 0


#: What a claim reads of the message itself, before the re-check's columns (plain rows: the
#: ORM's per-object work cost more than the database's on this path).
_MESSAGE_COLUMNS = (
    Message.id,
    Message.contact_id,
    Message.recipient,
    Message.body,
    Message.segments,
    Message.idempotency_key,
    Message.subject,
    Message.html,
    raw(Message.headers),
    Message.status,
)
assert len(_MESSAGE_COLUMNS) == FIRST


def reserve_tokens(
    session: Session, *, account: str, rate: float, wanted: int, now: dt.datetime
) -> int:
    """Take up to `wanted` segment tokens from the account's shared bucket (locked row).

    The bucket refills at `rate` per second up to one second's worth (at least one
    message), so every worker of every machine together stays under the account's rate.
    Its clock never goes back: a worker whose `now` was read before it waited for the row
    lock (or whose machine's clock is behind) refills nothing, where moving `updated_at`
    back would let the next worker refill the same interval twice.
    """
    burst = max(rate, 1.0)
    connection = session.connection()
    query = (
        select(RateBucket.tokens, RateBucket.updated_at)
        .where(RateBucket.account == account)
        .with_for_update()
    )
    bucket = connection.execute(query).first()
    if bucket is None:  # first use: two workers may race to create it
        connection.execute(
            upsert_insert(session, RateBucket)
            .values(account=account, tokens=burst, updated_at=now)
            .on_conflict_do_nothing()
        )
        bucket = connection.execute(query).one()
    elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
    tokens = min(burst, bucket.tokens + elapsed * rate)
    granted = int(max(min(wanted, math.floor(tokens)), 0))
    connection.execute(
        update(RateBucket)
        .where(RateBucket.account == account)
        .values(tokens=tokens - granted, updated_at=max(now, bucket.updated_at))
    )
    return granted


def _return_tokens(session: Session, *, account: str, tokens: int) -> None:
    if tokens > 0:
        session.connection().execute(
            update(RateBucket)
            .where(RateBucket.account == account)
            .values(tokens=RateBucket.tokens + tokens)
        )


def due_condition(now: Any, only_ids: Collection[int] | None = None) -> list[Any]:
    """Messages due at `now`: planned or queued, their time come, their campaign running.

    The states are literals, so that the partial due index serves the query.
    """
    running = select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING)
    conditions = [
        status_in(_S.PLANNED, _S.QUEUED),
        Message.send_at <= now,
        or_(Message.campaign_id.is_(None), Message.campaign_id.in_(running)),
    ]
    if only_ids is not None:
        conditions.append(Message.id.in_(list(only_ids)))
    return conditions


def due_count(
    session: Session,
    *,
    provider: str | None,
    now: dt.datetime,
    only_ids: Collection[int] | None = None,
) -> int:
    """How many messages are due now (for every provider when `provider` is None)."""
    query = select(func.count()).select_from(Message).where(*due_condition(now, only_ids))
    if provider is not None:
        query = query.where(Message.provider == provider)
    return int(session.scalar(query) or 0)


#: The claim's select by dialect, with parameters provider, now, since and budget.
_CLAIM_QUERIES: dict[str, Select[Any]] = {}


def _claim_query(
    dialect: str,
    *,
    provider: Any,
    now: Any,
    since: Any,
    limit: Any,
    only_ids: Collection[int] | None,
) -> Select[Any]:
    """The claim's select: an account's due messages with their contact's columns, oldest
    first, read in order from the partial due index (locked, skipping locked ones, on
    PostgreSQL). The values may be bound parameters (see `_CLAIM_QUERIES`)."""
    query = (
        select(*_MESSAGE_COLUMNS, *claim_columns(since=since, counted=COUNTED_SENT))
        .select_from(Message)
        .outerjoin(Contact, Contact.id == Message.contact_id)
        .where(Message.provider == provider, *due_condition(now, only_ids))
        .order_by(Message.send_at, Message.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=MESSAGES)
    return query


def _as_one_row(dialect: str, query: Select[Any]) -> Select[Any]:
    """On SQLite, the claim's rows as one JSON array in one row.

    The driver gives the interpreter lock back while SQLite steps to each row and takes it
    again after: with the event loop busy in the other thread, every row of a plain select
    waits for the lock. One row waits once. (SQLite aggregates the ordered subquery's rows
    in its order.) PostgreSQL's driver reads the whole result at once anyway.
    """
    if dialect != "sqlite":
        return query
    rows = query.subquery()
    return select(func.json_group_array(func.json_array(*rows.c)))


def _read_rows(dialect: str, result: Any) -> list[tuple[Any, ...]]:
    """The claim's rows as tuples, from `_as_one_row`'s JSON text or the driver's rows."""
    try:
        if dialect == "sqlite":
            text = result.scalar()
            return [tuple(row) for row in json.loads(text)] if text else []
        # the driver's tuples: the columns are read raw (see `raw`), a row object costs more
        return list(result.cursor.fetchall())
    finally:
        result.close()


def claim_batch(
    session: Session,
    *,
    worker: str,
    provider: str,
    rate: float | None,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
    workspace: WorkspacePolicy,
    digest: Digester,
    only_ids: Collection[int] | None = None,
    reserved: int | None = None,
) -> ClaimReport:
    """Claim due messages of one provider account, re-check them, mark them `sending`.

    Commit right after: the rows are then ours (lease) and nobody else sends them. Those
    still allowed become `sending` in one statement that also records the claim in the row
    (no event row); the others are deferred, blocked or expired with their reason and an
    event. With a `rate`, the claim takes its tokens from the account's bucket, unless the
    caller `reserved` them already (in a transaction of its own); those it does not use go
    back to the bucket.
    """
    report = ClaimReport()
    budget = limit
    if rate is not None:
        if reserved is None:
            reserved = reserve_tokens(session, account=provider, rate=rate, wanted=limit, now=now)
        budget = reserved
        if budget <= 0:
            return report
    dialect = session.get_bind().dialect.name
    connection = session.connection()
    if only_ids is None:  # the common case: one statement per dialect, built once
        query = _CLAIM_QUERIES.get(dialect)
        if query is None:
            query = _CLAIM_QUERIES[dialect] = _as_one_row(
                dialect,
                _claim_query(
                    dialect,
                    provider=bindparam("provider", type_=String),
                    now=bindparam("now", type_=UTCDateTime),
                    since=bindparam("since", type_=UTCDateTime),
                    limit=bindparam("budget", type_=Integer),
                    only_ids=None,
                ),
            )
        values = {"provider": provider, "now": now, "since": now - CAP_WINDOW, "budget": budget}
        rows = _read_rows(dialect, connection.execute(query, values))
    else:  # a one-off: its ids are part of the statement
        query = _claim_query(
            dialect,
            provider=provider,
            now=now,
            since=now - CAP_WINDOW,
            limit=budget,
            only_ids=only_ids,
        )
        rows = _read_rows("", connection.execute(query))
    if not rows:
        _return_tokens(session, account=provider, tokens=budget if rate is not None else 0)
        return report

    checker = Rechecker(
        session,
        workspace=workspace,
        digest=digest,
        now=now,
        rows=rows,
        counted=COUNTED_SENT,
        claimed_ids={row[0] for row in rows},
    )
    sending: list[int] = []
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    spent = 0
    send = Verdict.SEND
    outbound = report.sending
    channel_at, sender_at = FIRST, FIRST + 2
    longest = workspace.max_segments
    # The most one claim can ever be granted: a message costing more is charged this much
    # (it waits for a full bucket), or it would wait for ever.
    ceiling = min(limit, math.floor(max(rate, 1.0))) if rate is not None else limit
    for row in rows:
        segments = row[4]
        if segments > longest:  # written before the limit, or under a larger one
            cost, decision = 0, _too_long(segments, longest)
        else:
            cost = min(segments if segments > 1 else 1, ceiling)
            if spent + cost > budget:
                continue  # stays due for a later claim; a smaller one after it may fit
            decision = checker.decide(row)
        if decision.verdict is send:
            spent += cost
            message_id = row[0]
            sending.append(message_id)
            headers = row[8]
            outbound.append(
                OutboundMessage(
                    message_id,
                    row[5],
                    row[2] or "",
                    row[3] or "",
                    row[sender_at],
                    row[channel_at],
                    segments,
                    row[6],
                    row[7],
                    json.loads(headers) if type(headers) is str else headers,
                )
            )
            continue
        changes.append(_not_sent(row, decision, now, report))
        events.append(
            {
                "message_id": row[0],
                "at": now,
                "status": changes[-1]["status"],
                "detail": {"reason": str(decision.reason), "sentence": decision.sentence},
            }
        )
    if sending:  # planned or queued (the query's condition) to sending: always allowed
        connection.execute(
            _sending_statement(dialect),
            {"ids": id_list(dialect, sending), "worker": worker, "lease": now + lease, "now": now},
        )
    write_updates(session, changes)
    write_events(session, events)
    if rate is not None:
        _return_tokens(session, account=provider, tokens=budget - spent)
    report.tokens_left = budget - spent
    return report


def _too_long(segments: int, longest: int) -> Decision:
    """The block of a message longer than the workspace allows."""
    return Decision(
        verdict=Verdict.BLOCK,
        at=None,
        reason=Reason.TOO_LONG,
        sentence=(
            f"the message is {segments} segments long: at most {longest} are allowed "
            "(max_segments_per_message)"
        ),
        pack="",
        timezones=(),
        trace=(),
    )


def _not_sent(
    row: Any, decision: Decision, now: dt.datetime, report: ClaimReport
) -> dict[str, Any]:
    """The change of a claimed message the re-check deferred, blocked or expired."""
    columns = decision_columns(decision, start=now, now=now)
    # the pack stays the one planning recorded (a block for length names none)
    change: dict[str, Any] = {"id": row[0], **columns._asdict()}
    del change["pack"]
    status = columns.status
    report.deferred += decision.verdict == Verdict.DEFER
    report.expired += status == _S.EXPIRED
    report.blocked += status == _S.BLOCKED
    check_transition(row[9], status)
    return change


#: The claim's mark `sending`, by dialect.
_SENDING_STATEMENTS: dict[str, Any] = {}


def _sending_statement(dialect: str) -> Any:
    """UPDATE to `sending` (ids, worker, lease, now): the row holds the claim itself.

    No event row: `claimed_at` and `claimed_by` are the claim, and `row_facts_after` (the
    last event id so far) places it in the message's history (`textopt.outbox.history`).
    """
    if dialect not in _SENDING_STATEMENTS:
        ids = among(dialect, MESSAGES.c.id, ids_parameter(dialect, "ids", MESSAGES.c.id))
        now = bindparam("now", type_=UTCDateTime)
        _SENDING_STATEMENTS[dialect] = (
            update(MESSAGES)
            .where(ids)
            .values(
                status=_S.SENDING,
                claimed_by=bindparam("worker", type_=String),
                lease_until=bindparam("lease", type_=UTCDateTime),
                attempts=MESSAGES.c.attempts + 1,
                send_at=now,
                claimed_at=now,
                row_facts_after=select(func.coalesce(func.max(EVENTS.c.id), 0)).scalar_subquery(),
            )
        )
    return _SENDING_STATEMENTS[dialect]
