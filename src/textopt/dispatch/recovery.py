"""Crash recovery: messages left in `sending` by a worker that died (its lease ran out), and
those a failing worker claimed but never handed over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from textopt.outbox.history import claim_written_out
from textopt.outbox.models import Message, status_in
from textopt.outbox.states import MessageStatus, check_transition
from textopt.outbox.writes import MESSAGES, write_events, write_updates
from textopt.vocab import Purpose

__all__ = ["recover_stale", "release_unsent"]

_S = MessageStatus
#: An attempt that ends here: no lease, and the row holds no step any more (its claim is
#: written out as an event, `textopt.outbox.history`).
_WRITTEN_OUT = {"lease_until": None, "claimed_at": None, "row_facts_after": None}


def recover_stale(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Resolve messages whose worker died mid-send (lease over).

    Marketing becomes `unknown` and is never resent (a duplicate promotion is worse than a
    missing one); transactional is queued again with the same idempotency key.
    """
    stale = select(Message.id, Message.purpose, Message.claimed_at, Message.claimed_by).where(
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
                **_WRITTEN_OUT,
            }
            for i in marketing
        ]
        + [{"id": i, "status": _S.QUEUED, "send_at": now, **_WRITTEN_OUT} for i in transactional],
    )
    # each attempt ends here: its claim leaves the row, written out before the recovery
    write_events(
        session,
        [
            event
            for r in rows
            for event in (
                *claim_written_out(r.id, claimed_at=r.claimed_at, worker=r.claimed_by),
                {
                    "message_id": r.id,
                    "at": now,
                    "status": _S.UNKNOWN if r.purpose == Purpose.MARKETING else _S.QUEUED,
                    "detail": {"recovered": "lease expired"},
                },
            )
        ],
    )
    return len(marketing), len(transactional)


def release_unsent(
    session: Session, *, worker: str, ids: Sequence[int], now: dt.datetime
) -> list[int]:
    """Queue again messages `worker` claimed and never handed to a provider; their ids.

    A worker that fails while a batch is out has often claimed the next one already: no
    provider has seen it, so it goes back to the queue (its attempt undone) instead of
    waiting for its lease to end as if it might have been sent.
    """
    if not ids:
        return []
    check_transition(_S.SENDING, _S.QUEUED)
    ours = (
        MESSAGES.c.id.in_(list(ids)),
        MESSAGES.c.status == _S.SENDING,
        MESSAGES.c.claimed_by == worker,
    )
    query = select(MESSAGES.c.id, MESSAGES.c.claimed_at).where(*ours)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    claims = session.execute(query).all()
    released = [message_id for message_id, _ in claims]
    if not released:
        return []
    session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(released))
        .values(
            status=_S.QUEUED,
            send_at=now,
            attempts=MESSAGES.c.attempts - 1,
            **_WRITTEN_OUT,
        )
    )
    # the claim leaves the row, written out before its release
    write_events(
        session,
        [
            event
            for message_id, claimed_at in claims
            for event in (
                *claim_written_out(message_id, claimed_at=claimed_at, worker=worker),
                {
                    "message_id": message_id,
                    "at": now,
                    "status": _S.QUEUED,
                    "detail": {"released": "never handed to the provider", "worker": worker},
                },
            )
        ],
    )
    return released
