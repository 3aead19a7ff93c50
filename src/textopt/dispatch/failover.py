"""Failover: notice a provider account's outage and move its due messages to a fallback.

An account is in outage after `failover_after_errors` temporary errors in a row, or at
once when no connection could be made; an acceptance or a refusal (the provider answers)
ends it, and so does the cool-down, after which the account is tried again. Throttling is
the provider answering, not an outage.

While an account is in outage, its messages due before the cool-down ends move to the
next account of their fallback list: the campaign's (`options["fallback"]`, after its
primary) or else the account's own (`fallback = [...]` in its configuration), skipping
accounts that are themselves in outage. A moved message keeps its idempotency key. A
marketing message whose earlier attempt may have reached the provider (`no_answer`) is
not moved: the provider may hold it, and a duplicate promotion is worse than a missing
one; it stays with its account, whose own retries carry the same key. Messages in
`sending` are never touched: lease recovery decides them (marketing becomes `unknown`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, insert, literal, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.models import Campaign
from textopt.db.base import UTCDateTime
from textopt.outbox.models import Message, MessageEvent, status_in
from textopt.outbox.states import MessageStatus
from textopt.providers.base import SubmitOutcome, SubmitResult
from textopt.providers.codes import AMBIGUOUS_CODES, CONNECT_FAILED
from textopt.vocab import Purpose

__all__ = ["FailoverReport", "OutageTracker", "fallback_accounts", "move_due_messages"]

_MOVABLE = (MessageStatus.PLANNED, MessageStatus.QUEUED)


@dataclass(slots=True)
class _Health:
    errors: int = 0  # temporary errors in a row
    since: dt.datetime | None = None  # start of the current outage


class OutageTracker:
    """Consecutive temporary errors per account, in one dispatcher process."""

    def __init__(self, *, after_errors: int, cooldown: dt.timedelta) -> None:
        self.after_errors = after_errors
        self.cooldown = cooldown
        self._health: dict[str, _Health] = {}

    def observe(self, account: str, results: Sequence[SubmitResult], *, now: dt.datetime) -> bool:
        """Count a batch's answers; True when it puts the account in outage."""
        health = self._health.setdefault(account, _Health())
        was_down = self.in_outage(account, now=now)
        for result in results:
            if result.outcome != SubmitOutcome.TEMPORARY:
                health.errors, health.since = 0, None  # the provider answers
            elif result.throttled:
                continue  # slow down, not gone
            elif result.error_code == CONNECT_FAILED:
                health.errors = max(health.errors + 1, self.after_errors)
            else:
                health.errors += 1
            if health.errors >= self.after_errors and health.since is None:
                health.since = now
        return not was_down and self.in_outage(account, now=now)

    def in_outage(self, account: str, *, now: dt.datetime) -> bool:
        """Whether the account is in outage now; after the cool-down it is tried again."""
        health = self._health.get(account)
        if health is None or health.since is None:
            return False
        if now - health.since >= self.cooldown:
            # one more failure puts it back in outage at once
            health.since, health.errors = None, self.after_errors - 1
            return False
        return True


def fallback_accounts(
    account: str,
    *,
    providers: Mapping[str, Mapping[str, Any]],
    campaign_primary: str | None = None,
    campaign_fallback: Sequence[str] = (),
) -> list[str]:
    """Where a message of `account` may go next, in order (configured accounts only)."""
    if campaign_fallback:
        chain = [campaign_primary or account, *campaign_fallback]
        following = chain[chain.index(account) + 1 :] if account in chain else chain
    else:
        following = list(providers.get(account, {}).get("fallback", []))
    return [a for a in dict.fromkeys(following) if a != account and a in providers]


@dataclass(slots=True)
class FailoverReport:
    """What one move did."""

    moved: dict[str, int] = field(default_factory=dict)  # target account -> messages
    kept_ambiguous: int = 0  # marketing that the provider may hold: not moved
    no_target: int = 0  # nowhere to go (no fallback, or every fallback is down)


def move_due_messages(
    session: Session,
    *,
    account: str,
    providers: Mapping[str, Mapping[str, Any]],
    is_down: Callable[[str], bool],
    now: dt.datetime,
    horizon: dt.timedelta = dt.timedelta(0),
    limit: int = 5_000,
) -> FailoverReport:
    """Move the messages of an account in outage due before `now + horizon` to a fallback.

    A message queued for a retry goes at once on its new account (its backoff was for the
    failing one); a planned message keeps its send time, which the policy chose.
    """
    report = FailoverReport()
    query = (
        select(Message.id, Message.purpose, Message.attempts, Message.campaign_id)
        .where(
            Message.provider == account,
            status_in(*_MOVABLE),
            Message.send_at <= now + horizon,
        )
        .order_by(Message.send_at, Message.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # a claim holds them: leave them
    rows = session.execute(query).all()
    if not rows:
        return report
    ambiguous = _ambiguous(
        session, [r.id for r in rows if r.purpose == Purpose.MARKETING and r.attempts > 0]
    )
    campaigns = _campaign_fallbacks(session, {r.campaign_id for r in rows if r.campaign_id})
    targets: dict[str, list[int]] = {}
    for row in rows:
        if row.id in ambiguous:
            report.kept_ambiguous += 1
            continue
        primary, chain = campaigns.get(row.campaign_id, (None, ()))
        candidates = fallback_accounts(
            account, providers=providers, campaign_primary=primary, campaign_fallback=chain
        )
        target = next((a for a in candidates if not is_down(a)), None)
        if target is None:
            report.no_target += 1
            continue
        targets.setdefault(target, []).append(row.id)
    for target, ids in targets.items():
        moved = session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.provider == account, status_in(*_MOVABLE))
            .values(
                provider=target,
                updated_at=now,
                send_at=case(
                    # typed, so the instant is stored in UTC like every other
                    (Message.status == MessageStatus.QUEUED, literal(now, UTCDateTime())),
                    else_=Message.send_at,
                ),
            )
            .returning(Message.id, Message.status)
        ).all()
        if moved:
            session.execute(
                insert(MessageEvent),
                [
                    {
                        "message_id": message_id,
                        "at": now,
                        "status": status,
                        "detail": {"failover": {"from": account, "to": target}},
                    }
                    for message_id, status in moved
                ],
            )
        report.moved[target] = len(moved)
    return report


def _ambiguous(session: Session, ids: list[int]) -> set[int]:
    """Messages with an attempt whose answer never came (the provider may have it)."""
    if not ids:
        return set()
    found: set[int] = set()
    query = select(MessageEvent.message_id, MessageEvent.detail).where(
        MessageEvent.message_id.in_(ids)
    )
    for message_id, detail in session.execute(query):
        if isinstance(detail, dict) and detail.get("code") in AMBIGUOUS_CODES:
            found.add(message_id)
    return found


def _campaign_fallbacks(
    session: Session, campaign_ids: set[int]
) -> dict[int | None, tuple[str | None, tuple[str, ...]]]:
    """Each campaign's primary account and fallback list, when it names one."""
    if not campaign_ids:
        return {}
    query = select(Campaign.id, Campaign.provider, Campaign.options).where(
        Campaign.id.in_(campaign_ids)
    )
    found: dict[int | None, tuple[str | None, tuple[str, ...]]] = {}
    for campaign_id, provider, options in session.execute(query):
        chain = tuple((options or {}).get("fallback", ()))
        if chain:
            found[campaign_id] = (provider, chain)
    return found
