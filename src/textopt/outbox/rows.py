"""The outbox row planning writes, spelled once, and what a policy decision writes.

`OutboxRow` is the spec: the columns of a planned message in the writers' order, with
their Python types. The writers' SQL and the fast insert's SELECT list are generated from
its fields; the hot loop builds plain tuples (a named tuple per row costs more), typed as
`SmsRow` and `EmailRow`, which a unit test checks field by field against the spec.

`decision_columns` is the one mapping from a policy decision to a message's status and
reason: planning (per recipient and by class), the claim's re-check and one-off sends all
call it, so a decision is stored the same way whichever path took it.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from textopt.outbox.states import MessageStatus
from textopt.policy import Decision, Reason, Verdict

__all__ = [
    "EMAIL_COLUMNS",
    "OUTBOX_COLUMNS",
    "DecisionColumns",
    "EmailParts",
    "EmailRow",
    "OutboxRow",
    "SmsRow",
    "StoredDecision",
    "StoredInstant",
    "decision_columns",
]

#: An instant as the driver is given it: `UTCDateTime`'s bind form (text on SQLite).
StoredInstant = str | dt.datetime


class OutboxRow(NamedTuple):
    """The columns of a planned message, in the order every bulk writer uses."""

    campaign_id: int
    contact_id: int
    channel: str
    purpose: str
    recipient: str | None
    sender: str | None
    body: str | None
    encoding: str | None
    segments: int
    cost_micros: int
    currency: str
    country: str | None
    pack: str
    status: str
    reason: str | None
    reason_text: str
    deferred: bool
    send_at: StoredInstant | None
    done_at: StoredInstant | None
    expires_at: StoredInstant
    decided_at: StoredInstant
    provider: str | None
    idempotency_key: str
    attempts: int
    created_at: StoredInstant
    updated_at: StoredInstant


class EmailParts(NamedTuple):
    """The columns an email row adds after the common ones."""

    subject: str | None
    html: str | None
    headers: str | None  # JSON text


OUTBOX_COLUMNS: tuple[str, ...] = OutboxRow._fields
EMAIL_COLUMNS: tuple[str, ...] = OUTBOX_COLUMNS + EmailParts._fields

#: `OutboxRow` as a plain tuple: what the hot loop appends for an SMS.
SmsRow = tuple[
    int,
    int,
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    int,
    int,
    str,
    str | None,
    str,
    str,
    str | None,
    str,
    bool,
    StoredInstant | None,
    StoredInstant | None,
    StoredInstant,
    StoredInstant,
    str | None,
    str,
    int,
    StoredInstant,
    StoredInstant,
]
#: `OutboxRow` then `EmailParts` as a plain tuple: an email's row.
EmailRow = tuple[
    int,
    int,
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    int,
    int,
    str,
    str | None,
    str,
    str,
    str | None,
    str,
    bool,
    StoredInstant | None,
    StoredInstant | None,
    StoredInstant,
    StoredInstant,
    str | None,
    str,
    int,
    StoredInstant,
    StoredInstant,
    str | None,
    str | None,
    str | None,
]


class DecisionColumns(NamedTuple):
    """What a decision writes on its message: a contiguous run of `OutboxRow`'s fields."""

    pack: str
    status: str
    reason: str | None
    reason_text: str
    deferred: bool
    send_at: dt.datetime | None
    done_at: dt.datetime | None


#: `DecisionColumns` with its instants in their stored form (planning's bulk rows).
StoredDecision = tuple[str, str, str | None, str, bool, StoredInstant | None, StoredInstant | None]


#: Plain strings: the raw writers hand them to the driver as they are.
_PLANNED = MessageStatus.PLANNED.value
_EXPIRED = MessageStatus.EXPIRED.value
_BLOCKED = MessageStatus.BLOCKED.value


def decision_columns(
    decision: Decision, *, start: dt.datetime, now: dt.datetime
) -> DecisionColumns:
    """The status, reason and times a decision gives a message that may go at `start`.

    SEND: planned for `start`. DEFER: planned for the decision's instant, marked deferred.
    BLOCK: final at `now`, with no send time; a message past its expiry is `expired` (it
    was allowed, its time ran out), any other block is `blocked`.
    """
    verdict = decision.verdict
    if verdict == Verdict.SEND:
        return DecisionColumns(decision.pack, _PLANNED, None, decision.sentence, False, start, None)
    reason = str(decision.reason)
    if verdict == Verdict.DEFER:
        return DecisionColumns(
            decision.pack, _PLANNED, reason, decision.sentence, True, decision.at, None
        )
    status = _EXPIRED if decision.reason == Reason.EXPIRED else _BLOCKED
    return DecisionColumns(decision.pack, status, reason, decision.sentence, False, None, now)
