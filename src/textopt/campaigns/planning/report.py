"""What planning (or a preview) found: totals, and each channel's section side by side."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["ChannelPlan", "PlanReport", "by_count"]

_MICROS = Decimal(1_000_000)


def _money(micros: int) -> str:
    return str(Decimal(micros) / _MICROS)


def by_count(counter: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first, then alphabetically: the same order whichever path planned."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


@dataclass(slots=True)
class ChannelPlan:
    """One channel of a plan: who it was decided for, who is excluded and why, the cost."""

    channel: str
    audience: int = 0  # contacts this channel was decided for
    send_now: int = 0
    deferred: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    segments: int = 0  # SMS segments; one per email
    cost_micros: int = 0
    throughput: float = 0.0  # the account's rate: segments (or emails) per second

    @property
    def planned(self) -> int:
        """Messages of this channel that will go out: now or later."""
        return self.send_now + sum(self.deferred.values())

    def to_dict(self, currency: str) -> dict[str, Any]:
        """The section as JSON-ready values (money as a decimal string)."""
        return {
            "audience": self.audience,
            "planned": self.planned,
            "send_now": self.send_now,
            "deferred": dict(by_count(self.deferred)),
            "blocked": dict(by_count(self.blocked)),
            "segments": self.segments,
            "cost": _money(self.cost_micros),
            "currency": currency,
            "throughput_per_second": self.throughput,
            "estimated_duration_seconds": (
                round(self.segments / self.throughput, 1) if self.throughput else 0.0
            ),
        }


@dataclass(slots=True)
class PlanReport:
    """What planning (or a preview) found, ready for the CLI, the API and the UI.

    `audience` counts contacts; the other totals count messages over every channel (a
    contact may get an SMS and an email). `channels` holds each channel's own section, and
    `reached` the contacts with at least one message to go.
    """

    campaign_id: int
    start: dt.datetime
    expires_at: dt.datetime
    channel_rule: str = "sms"
    audience: int = 0
    reached: int = 0
    send_now: int = 0
    deferred: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    written: int = 0  # rows inserted (0 for a preview; less on re-planning)
    segments: int = 0
    cost_micros: int = 0
    currency: str = "EUR"
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)
    smart_saving: int = 0  # segments saved by smart encoding (or that it would save)
    hours: dict[str, list[int]] = field(default_factory=dict)  # local day -> 24 counts
    worst: dict[str, Any] | None = None
    template_problems: Counter[str] = field(default_factory=Counter)
    throughput: float = 0.0  # segments per second used for the estimate (the SMS account)
    channels: dict[str, ChannelPlan] = field(default_factory=dict)
    # preview only: local day -> people with another campaign's marketing planned that day
    planned_elsewhere: dict[str, int] = field(default_factory=dict)
    first_send: dt.datetime | None = None  # the earliest send time of a message to go
    last_send: dt.datetime | None = None  # the latest (before the account's rate spreads them)

    @property
    def planned(self) -> int:
        """Messages that will go out: now or later."""
        return self.send_now + sum(self.deferred.values())

    @property
    def estimated_seconds(self) -> float:
        """Sending time at the accounts' rates, not counting deferrals.

        Each channel sends on its own account at the same time: the slowest one decides.
        """
        if len(self.channels) > 1:
            return max(
                (c.segments / c.throughput for c in self.channels.values() if c.throughput),
                default=0.0,
            )
        return self.segments / self.throughput if self.throughput else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (money as decimal strings)."""
        return {
            "campaign": self.campaign_id,
            "start": self.start.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "channel_rule": self.channel_rule,
            "audience": self.audience,
            "reached": self.reached,
            "planned": self.planned,
            "send_now": self.send_now,
            "deferred": dict(by_count(self.deferred)),
            "blocked": dict(by_count(self.blocked)),
            "written": self.written,
            "segments": self.segments,
            "cost": _money(self.cost_micros),
            "currency": self.currency,
            "by_country": {
                key: {**value, "cost": _money(value["cost_micros"])}
                for key, value in sorted(self.by_country.items())
            },
            "smart_encoding_saving_segments": self.smart_saving,
            "send_times_by_local_hour": self.hours,
            "worst_message": self.worst,
            "template_problems": dict(by_count(self.template_problems)),
            "throughput_segments_per_second": self.throughput,
            "estimated_duration_seconds": round(self.estimated_seconds, 1),
            "channels": {name: plan.to_dict(self.currency) for name, plan in self.channels.items()},
            "planned_elsewhere": self.planned_elsewhere,
            "first_send_at": None if self.first_send is None else self.first_send.isoformat(),
            "last_send_at": None if self.last_send is None else self.last_send.isoformat(),
        }
