"""The life of one outbox message, state by state, and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from textopt.errors import InvalidTransition

__all__ = ["FINAL_STATES", "TRANSITIONS", "MessageStatus", "check_transition"]


class MessageStatus(StrEnum):
    """Where a message is; every state but the final ones can still move."""

    PLANNED = "planned"  # decided and waiting for its send time
    QUEUED = "queued"  # due again after a temporary failure or a recovered crash
    SENDING = "sending"  # claimed by a worker, written as such before the wire is touched
    SUBMITTED = "submitted"  # the provider accepted it and gave its id
    DELIVERED = "delivered"  # a receipt says it reached the handset or mailbox (final)
    FAILED = "failed"  # refused for good by the provider or the network (final)
    EXPIRED = "expired"  # could not go before its expiry, or the network gave up (final)
    BLOCKED = "blocked"  # the policy refused it; the reason is stored (final)
    CANCELLED = "cancelled"  # the campaign was cancelled before it went (final)
    # sent, but how it ended is not known: a marketing message whose worker died mid-send
    # (never resent), a receipt that confirms nothing (ACCEPTD), or no receipt at all (final)
    UNKNOWN = "unknown"


FINAL_STATES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.EXPIRED,
        MessageStatus.BLOCKED,
        MessageStatus.CANCELLED,
        MessageStatus.UNKNOWN,
    }
)

_S = MessageStatus

#: Every allowed move. Anything else is a bug and raises InvalidTransition.
TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    _S.PLANNED: frozenset({_S.SENDING, _S.PLANNED, _S.BLOCKED, _S.EXPIRED, _S.CANCELLED}),
    _S.QUEUED: frozenset({_S.SENDING, _S.PLANNED, _S.BLOCKED, _S.EXPIRED, _S.CANCELLED}),
    # from sending: accepted, refused, retried later, or resolved after a crash
    _S.SENDING: frozenset(
        {_S.SUBMITTED, _S.FAILED, _S.QUEUED, _S.EXPIRED, _S.UNKNOWN, _S.DELIVERED}
    ),
    # a receipt closes a submitted message (ACCEPTD: unknown); with none in time, unknown
    _S.SUBMITTED: frozenset({_S.DELIVERED, _S.FAILED, _S.EXPIRED, _S.UNKNOWN}),
    # a late receipt may still resolve an ambiguous send or a message that had no receipt
    _S.UNKNOWN: frozenset({_S.DELIVERED, _S.FAILED, _S.EXPIRED}),
    _S.DELIVERED: frozenset(),
    _S.FAILED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.BLOCKED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def check_transition(current: MessageStatus | str, new: MessageStatus | str) -> None:
    """Raise InvalidTransition unless a message may move from `current` to `new`."""
    if MessageStatus(new) not in TRANSITIONS[MessageStatus(current)]:
        raise InvalidTransition(f"a message cannot go from {current} to {new}")
