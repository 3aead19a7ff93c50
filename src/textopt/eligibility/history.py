"""A recipient's marketing in the cap window: the one query planning and the claim share.

Frequency caps read the marketing a contact was sent (or, when planning, is planned to be
sent) in the longest cap window. Planning asks for the contacts of a keyset page (a dense
range of ids), the claim's re-check for the few claimed contacts with such history: the
same statement, with the contacts chosen by a range or by one list parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from textopt.db.bulk import among, parse_instant, raw
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.policy import SendRecord
from textopt.vocab import Purpose

__all__ = ["CAP_WINDOW", "COUNTED_PLANNED", "COUNTED_SENT", "cap_history", "recent_marketing"]

#: The longest frequency-cap window any pack or workspace uses.
CAP_WINDOW = dt.timedelta(days=30)
#: Messages that have gone (or may have gone) out: counted by every cap.
COUNTED_SENT = (
    MessageStatus.SENDING,
    MessageStatus.SUBMITTED,
    MessageStatus.DELIVERED,
    MessageStatus.UNKNOWN,
)
#: Planned messages also count when planning, so two campaigns cannot exceed a cap together.
COUNTED_PLANNED = (*COUNTED_SENT, MessageStatus.PLANNED, MessageStatus.QUEUED)


def _counted(statuses: Iterable[MessageStatus], status: Any) -> Any:
    # `|| ''`: never a status index, which would read every message of those states in the
    # outbox; the (contact, time) one reads only the contacts asked about.
    return status.concat("").in_([str(s) for s in statuses])


def recent_marketing(
    contact_id: Any,
    *,
    since: Any,
    counted: Iterable[MessageStatus],
    exclude_campaign_id: Any = None,
) -> Any:
    """SQL: whether the contact `contact_id` (a column) has counted marketing since `since`.

    Read with a page of contacts or a claim, so that only contacts with history have it
    fetched (`cap_history`); `since` and `exclude_campaign_id` may be bound parameters.
    """
    earlier = Message.__table__.alias("earlier")
    conditions = [
        earlier.c.contact_id == contact_id,
        earlier.c.purpose == Purpose.MARKETING,
        _counted(counted, earlier.c.status),
        earlier.c.send_at >= since,
    ]
    if exclude_campaign_id is not None:
        conditions.append(
            or_(earlier.c.campaign_id.is_(None), earlier.c.campaign_id != exclude_campaign_id)
        )
    return exists().where(and_(*conditions))


def cap_history(
    session: Session,
    *,
    contact_ids: Collection[int],
    since: dt.datetime,
    counted: Iterable[MessageStatus],
    exclude_campaign_id: int | None = None,
    exclude_message_ids: Collection[int] = (),
) -> dict[int, list[SendRecord]]:
    """Marketing sent (or counted as planned) to these contacts since `since`, by contact.

    The messages of one earlier batch share their instant and channel: they share one
    record, so recipients alike share a history key (`policy.history_key`) and a decision.
    """
    found: dict[int, list[SendRecord]] = {}
    wanted = set(contact_ids)
    if not wanted:
        return found
    query = select(Message.contact_id, raw(Message.send_at), Message.channel, Message.id).where(
        _contacts(session, sorted(wanted)),
        Message.purpose == Purpose.MARKETING,
        _counted(counted, Message.status),
        Message.send_at >= since,
    )
    if exclude_campaign_id is not None:
        query = query.where(
            or_(Message.campaign_id.is_(None), Message.campaign_id != exclude_campaign_id)
        )
    records: dict[tuple[Any, str], SendRecord | None] = {}
    for contact_id, send_at, channel, message_id in session.connection().execute(query):
        if contact_id not in wanted or message_id in exclude_message_ids:
            continue  # a range reads a few contacts not asked about
        if (send_at, channel) not in records:
            at = parse_instant(send_at)
            marketing = Purpose.MARKETING
            records[(send_at, channel)] = (
                None if at is None else SendRecord(at=at, channel=channel, purpose=marketing)
            )
        record = records[(send_at, channel)]
        if record is not None:
            found.setdefault(contact_id, []).append(record)
    return found


def _contacts(session: Session, ordered: Sequence[int]) -> Any:
    """The contacts as one condition: a range for a dense batch (the planner's keyset pages:
    one range scan, cheaper than any list), else one list parameter."""
    if ordered[-1] - ordered[0] < 4 * len(ordered):
        return Message.contact_id.between(ordered[0], ordered[-1])
    return among(session.get_bind().dialect.name, Message.contact_id, ordered)
