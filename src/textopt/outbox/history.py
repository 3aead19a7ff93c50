"""A message's history: its event rows and the steps its row holds, in the order they came.

The dispatcher's common path writes no event row: the claim (`claimed_at`, `claimed_by`) and
the provider's acceptance (`submitted_at`, `provider_message_id`) are held by the message
row, in the changes that mark it `sending` and `submitted`. Event rows record only what the
row cannot hold: an attempt that did not end in an acceptance (a retry, a refusal, an
ambiguous answer, a crash, a claim given back), failovers, the re-check's refusals,
receipts with what the network said, closings, answers that came too late, cancellations.

Where the held steps stand among the event rows is `row_facts_after`: the claim stamps it
with the last event id written before it, so rows up to it came before the claim and later
ones (receipts, closings) after the submission. Whenever a held claim is about to be
replaced or followed by an event of its own attempt, it is first written out as the event
it stands for (`claim_written_out`) and leaves the row, so no step is ever shown twice.
Messages written before the rows held their steps have `row_facts_after` NULL: every step
is an event row and the history is read as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.outbox.models import Message, MessageEvent
from textopt.outbox.states import MessageStatus
from textopt.providers.base import SubmitOutcome

__all__ = [
    "HeldSteps",
    "claim_written_out",
    "held_events",
    "history_of",
    "merge_history",
]


class HeldSteps(NamedTuple):
    """What a message row holds of its own history (the columns of the same names)."""

    claimed_at: dt.datetime | None
    claimed_by: str | None
    submitted_at: dt.datetime | None
    provider_message_id: str | None
    row_facts_after: int | None


def claim_written_out(
    message_id: int, *, claimed_at: dt.datetime | None, worker: str | None
) -> list[dict[str, Any]]:
    """The `sending` event a held claim stands for (none when the row holds no claim).

    Written before the event that ends or follows the claim's attempt, with the claim's own
    instant, exactly as the claim used to write it; the row's `claimed_at` then goes NULL.
    """
    if claimed_at is None:
        return []
    return [
        {
            "message_id": message_id,
            "at": claimed_at,
            "status": MessageStatus.SENDING,
            "detail": {"worker": worker},
        }
    ]


def held_events(message_id: int, held: HeldSteps) -> list[dict[str, Any]]:
    """The events a message row holds, as they would have been written (claim, submission)."""
    if held.row_facts_after is None:
        return []
    events = claim_written_out(message_id, claimed_at=held.claimed_at, worker=held.claimed_by)
    if held.submitted_at is not None:
        events.append(
            {
                "message_id": message_id,
                "at": held.submitted_at,
                "status": MessageStatus.SUBMITTED,
                "detail": {
                    "outcome": str(SubmitOutcome.ACCEPTED),
                    "worker": held.claimed_by,
                    "provider_message_id": held.provider_message_id,
                },
            }
        )
    return events


def merge_history(
    rows: Sequence[tuple[int, Mapping[str, Any]]], held: HeldSteps, *, message_id: int
) -> list[dict[str, Any]]:
    """The whole history in order: event rows up to the mark, the held steps, the rest.

    `rows`: (event id, event) pairs in id order, each event with `at`, `status`, `detail`.
    """
    cut = held.row_facts_after
    if cut is None:
        return [dict(event) for _, event in rows]
    return [
        *(dict(event) for event_id, event in rows if event_id <= cut),
        *held_events(message_id, held),
        *(dict(event) for event_id, event in rows if event_id > cut),
    ]


def history_of(session: Session, *, message: Message) -> list[dict[str, Any]]:
    """Every step of one message, oldest first, as `{at, status, detail}` (JSON-ready)."""
    query = (
        select(MessageEvent.id, MessageEvent.at, MessageEvent.status, MessageEvent.detail)
        .where(MessageEvent.message_id == message.id)
        .order_by(MessageEvent.id)
    )
    rows = [
        (event_id, {"message_id": message.id, "at": at, "status": status, "detail": detail})
        for event_id, at, status, detail in session.execute(query)
    ]
    held = HeldSteps(
        message.claimed_at,
        message.claimed_by,
        message.submitted_at,
        message.provider_message_id,
        message.row_facts_after,
    )
    return [
        {"at": event["at"].isoformat(), "status": str(event["status"]), "detail": event["detail"]}
        for event in merge_history(rows, held, message_id=message.id)
    ]
