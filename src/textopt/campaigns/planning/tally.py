"""The report's tally: planned messages counted per distinct outcome, folded per batch."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from textopt.campaigns.planning.report import ChannelPlan, PlanReport
from textopt.policy import Decision, Verdict
from textopt.vocab import Channel

__all__ = ["Composed", "Measured", "Tally"]

#: A composed text: (text, encoding, segments, cost in micros, currency, smart-encoding
#: saving, units). An email's is (None, None, 1, cost, currency, 0, 0).
Composed = tuple[str | None, str | None, int, int, str | None, int, int]
#: What the report counts of a composition: (encoding, segments, cost in micros, currency,
#: smart-encoding saving), `Composed[1:6]`. Not its text: two recipients with their own
#: texts of one length are one outcome, folded once.
Measured = tuple[str | None, int, int, str | None, int]
#: One outcome: channel, decision (by id), country, time zone, what is measured.
_Outcome = tuple[Channel, int, str | None, str | None, Measured]

_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


class Tally:
    """The run's report, and the batch's planned messages counted per distinct outcome.

    The hot loops add to `counts` (keyed by the decision's id, kept alive in `alive`);
    `fold` turns the counts into the report once per outcome rather than per recipient.
    """

    def __init__(self, report: PlanReport, *, start: dt.datetime, default_zone: str) -> None:
        self.report = report
        self.sections: dict[Channel, ChannelPlan] = {}
        self.start = start
        self.default_zone = default_zone
        self.counts: Counter[_Outcome] = Counter()
        self.alive: dict[int, Decision] = {}  # the decisions `counts` names, by id
        # The plan's longest message: the recipient with the lowest id among those with the
        # most segments, whatever order the recipients are planned in (by class, the ones
        # with recent marketing come after their page).
        self.worst_segments = -1
        self.worst_contact = 0

    def section(self, channel: Channel) -> ChannelPlan:
        """The report's section of `channel` (created on first use)."""
        section = self.sections.get(channel)
        if section is None:
            section = self.report.channels.setdefault(channel, ChannelPlan(str(channel)))
            self.sections[channel] = section
        return section

    def add(
        self,
        channel: Channel,
        decision: Decision,
        country: str | None,
        zone: str | None,
        measured: Measured,
        count: int,
    ) -> None:
        """Count `count` messages of one outcome (folded into the report by `fold`)."""
        self.alive[id(decision)] = decision
        self.counts[(channel, id(decision), country, zone, measured)] += count

    def offer_worst(self, contact_id: int, composed: Composed) -> None:
        """Show `composed` (for `contact_id`) as the plan's longest message if it is: more
        segments than the longest so far, or as many for a lower contact id."""
        text, encoding, segments, _, _, _, units = composed
        if segments < self.worst_segments or (
            segments == self.worst_segments and contact_id > self.worst_contact
        ):
            return
        self.worst_segments = segments
        self.worst_contact = contact_id
        self.report.worst = {
            "contact_id": contact_id,
            "text": text,
            "segments": segments,
            "encoding": encoding,
            "units": units,
        }

    def fold(self) -> None:
        """Count the batch's messages into the report, once per distinct outcome."""
        report = self.report
        for key, count in self.counts.items():
            channel, decision_id, country, zone, measured = key
            encoding, segments, cost, currency, saving = measured
            decision = self.alive[decision_id]
            section = self.sections[channel]
            reason = str(decision.reason)
            if decision.verdict == Verdict.BLOCK:
                report.blocked[reason] += count
                section.blocked[reason] += count
                continue
            if decision.verdict == Verdict.DEFER:
                report.deferred[reason] += count
                section.deferred[reason] += count
                send_at = decision.at
            else:
                report.send_now += count
                section.send_now += count
                send_at = self.start
            assert send_at is not None
            if report.first_send is None or send_at < report.first_send:
                report.first_send = send_at
            if report.last_send is None or send_at > report.last_send:
                report.last_send = send_at
            currency = currency or report.currency
            report.segments += segments * count
            report.cost_micros += cost * count
            report.currency = currency
            section.segments += segments * count
            section.cost_micros += cost * count
            report.smart_saving += saving * count
            bucket = report.by_country.setdefault(
                f"{country or '??'}/{encoding or channel}",
                {"messages": 0, "segments": 0, "cost_micros": 0},
            )
            bucket["messages"] += count
            bucket["segments"] += segments * count
            bucket["cost_micros"] += cost * count
            if zone is None:
                zone = decision.timezones[0] if decision.timezones else self.default_zone
            local = send_at.astimezone(_zone(zone))
            day = report.hours.setdefault(local.strftime("%Y-%m-%d %a"), [0] * 24)
            day[local.hour] += count
        self.counts.clear()
        self.alive.clear()
