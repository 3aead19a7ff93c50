"""What `decide()` is told: facts about the recipient, the message, the history, the workspace.

Plain frozen values; the callers read them from the database (or a CSV, or the command
line) so that the policy itself does no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from textopt.policy.packs import Pack
from textopt.vocab import Channel, Purpose

__all__ = ["ContactFacts", "MessageFacts", "SendRecord", "WorkspacePolicy", "history_key"]


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What is known about the recipient."""

    e164: str | None  # None when the number is missing or invalid
    country: str | None  # ISO code of the number's region, e.g. "FR", "RE", "US"
    region: str | None = None  # US state, CA province or FR department, if known
    timezone: str | None = None  # an explicit IANA zone: wins over the candidates
    timezones: tuple[str, ...] = ()  # candidate zones of the number
    # Current consent per (channel, purpose): a ConsentAction value, or absent.
    consents: Mapping[tuple[str, str], str | None] = field(default_factory=dict)
    email: str | None = None
    is_customer: bool = False
    # Told at collection about marketing of similar products and offered a free opt-out;
    # an account alone is not enough.
    soft_opt_in_eligible: bool = False
    suppressed: bool = False
    suppression_reasons: tuple[str, ...] = ()
    # The provider reported the number as never working (unknown, invalid, landline).
    undeliverable: bool = False
    # The number cannot receive SMS by its type (a fixed line, premium-rate, shared-cost).
    not_mobile: bool = False
    transactional_opt_out: bool = False
    # The person's own marketing limit per channel, chosen in the preference centre:
    # channel -> "2-a-month" or "1-a-week" (`policy.caps.PERSONAL_LIMITS`).
    frequency_limits: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What is known about the message to send."""

    channel: Channel = Channel.SMS
    purpose: Purpose = Purpose.MARKETING
    sender_id: str | None = None
    expires_at: dt.datetime | None = None  # not sent at or after this instant
    pack: str | None = None  # a pack chosen instead of the recipient's (never looser)


@dataclass(frozen=True, slots=True)
class SendRecord:
    """A message sent or planned to the recipient, counted by frequency caps."""

    at: dt.datetime
    channel: str = Channel.SMS
    purpose: str = Purpose.MARKETING


def history_key(*parts: Iterable[SendRecord]) -> tuple[SendRecord, ...]:
    """A recipient's history as one value, in a set order.

    `decide` reads a history only through the instants, channels and purposes of its
    records, in any order: recipients whose histories give the same key share a decision.
    The messages of one batch share their instant, so such keys repeat.
    """
    records = [record for part in parts for record in part]
    if len(records) > 1:
        records.sort(key=lambda r: (r.at, r.channel, r.purpose))
    return tuple(records)


@dataclass(frozen=True, slots=True)
class WorkspacePolicy:
    """A workspace's own rules, always applied on top of the pack (the strictest wins).

    Caps are None for "no workspace cap"; 0 allows no marketing at all.
    """

    max_per_day: int | None = 1
    max_per_30_days: int | None = 4
    caps_across_channels: bool = False  # count SMS and email against one budget
    earliest: dt.time | None = None  # a later start of the daily window than the pack's
    latest: dt.time | None = None  # an earlier end of the daily window than the pack's
    days: frozenset[int] | None = None  # allowed weekdays (0 = Monday), within the pack's
    block_holidays: bool = False  # no marketing on the recipient's public holidays
    packs: tuple[Pack, ...] = ()  # customised packs used instead of the packaged ones
    default_timezone: str = "Europe/Paris"  # when nothing tells the recipient's zone
    max_segments: int = 10  # the longest message one may send (`max_segments_per_message`)
