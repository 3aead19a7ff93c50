"""`decide()`: may this message go to this person now, later, or never, and why.

Pure and deterministic: the caller passes the time, the facts and the history. The hard
rules come first (destination, suppression, consent, sender, expiry) and block; then the
timing rules (hours, days and holidays in every candidate zone, frequency caps) either allow
the message now or defer it to the earliest instant every rule allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any

from textopt.errors import ValidationError
from textopt.policy.caps import PERSONAL_LABEL, Cap, cap_allows, cap_next_allowed, personal_cap
from textopt.policy.facts import ContactFacts, MessageFacts, SendRecord, WorkspacePolicy
from textopt.policy.packs import Pack, describe_days, ensure_not_looser, format_minutes, get_pack
from textopt.policy.selection import Selection, select_pack
from textopt.policy.windows import (
    Calendar,
    earliest_common,
    holiday_name,
    wall_clock_block,
    zone,
)
from textopt.vocab import Channel, Purpose

__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_WORKSPACE",
    "Decision",
    "Outcome",
    "Reason",
    "TraceEntry",
    "Verdict",
    "decide",
    "describe_calendar",
    "sending_calendar",
]

DEFAULT_HORIZON = dt.timedelta(days=30)
DEFAULT_WORKSPACE = WorkspacePolicy()
_CONSENTED = frozenset({"granted", "confirmed"})
_DAY = dt.timedelta(days=1)
_MONTH = dt.timedelta(days=30)


class Verdict(StrEnum):
    """What to do with the message."""

    SEND = "SEND"  # allowed now
    DEFER = "DEFER"  # not now; allowed at `at`, the earliest instant every rule allows
    BLOCK = "BLOCK"  # never (or not before it expires)


class Reason(StrEnum):
    """Why a message is deferred or blocked; stable codes stored with each decision."""

    INVALID_NUMBER = "invalid_number"  # no valid phone number for an SMS
    UNDELIVERABLE = "undeliverable"  # the provider reported the number never works
    NOT_MOBILE = "not_mobile"  # a fixed line, premium-rate or shared-cost number: no SMS
    INVALID_EMAIL = "invalid_email"  # no email address for an email
    SUPPRESSED = "suppressed"  # on the suppression list (STOP, erasure, complaint, manual)
    NO_CONSENT = "no_consent"  # marketing without consent or allowed soft opt-in
    CONSENT_REVOKED = "consent_revoked"  # the person withdrew consent
    TRANSACTIONAL_OPT_OUT = "transactional_opt_out"  # opted out of transactional messages
    SENDER_NOT_ALLOWED = "sender_not_allowed"  # sender ID refused in the jurisdiction
    EXPIRED = "expired"  # cannot be sent before its expiry
    QUIET_HOURS = "quiet_hours"  # outside the daily window in a candidate zone
    SUNDAY = "sunday"  # a Sunday where Sundays are not allowed
    CLOSED_DAY = "closed_day"  # another weekday that is not allowed
    HOLIDAY = "holiday"  # a public holiday where holidays are not allowed
    FREQUENCY_CAP = "frequency_cap"  # the recipient's message budget is used up
    PERSONAL_LIMIT = "personal_limit"  # the limit the person chose for themselves is reached
    NO_WINDOW = "no_window"  # no allowed instant within the look-ahead horizon
    TOO_LONG = "too_long"  # more segments than the workspace allows in one message


class Outcome(StrEnum):
    """What one rule said."""

    PASS = "pass"  # the rule allows the message now
    BLOCK = "block"  # the rule forbids the message for good
    DEFER = "defer"  # the rule forbids the message now but not later
    SKIP = "skip"  # the rule does not apply (e.g. transactional and exempt)


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One rule evaluated for a decision."""

    rule: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict with its reason code, a sentence, and the trace of rules evaluated."""

    verdict: Verdict
    at: dt.datetime | None  # now for SEND, the earliest allowed instant for DEFER
    reason: Reason | None  # None for SEND
    sentence: str
    pack: str
    timezones: tuple[str, ...]
    trace: tuple[TraceEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's `--json` and stored decisions)."""
        return {
            "decision": self.verdict.value,
            "at": self.at.isoformat() if self.at else None,
            "reason": self.reason.value if self.reason else None,
            "sentence": self.sentence,
            "pack": self.pack,
            "timezones": list(self.timezones),
            "trace": [
                {"rule": e.rule, "outcome": e.outcome.value, "detail": e.detail} for e in self.trace
            ],
        }


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must carry a UTC offset: {value.isoformat()}", field=name)
    return value.astimezone(dt.UTC)


def _local_text(instant: dt.datetime, zone_name: str) -> str:
    return instant.astimezone(zone(zone_name)).strftime(f"%a %Y-%m-%d %H:%M {zone_name}")


@lru_cache(maxsize=1024)
def _pack_in_force(selected: str, override: str | None, custom: tuple[Pack, ...]) -> Pack:
    """The pack to apply: the override or the selected pack, never looser than the legal
    minimum of the recipient's own pack."""
    name = override or selected
    pack = next((p for p in custom if p.name == name), None) or get_pack(name)
    ensure_not_looser(pack, get_pack(get_pack(selected).legal_minimum))
    return pack


def _calendar(pack: Pack, workspace: WorkspacePolicy, selection: Selection) -> Calendar:
    hours = pack.hours
    days = hours.days if workspace.days is None else hours.days & workspace.days
    start, end = hours.start, hours.end
    if workspace.earliest is not None:
        start = max(start, workspace.earliest.hour * 60 + workspace.earliest.minute)
    if workspace.latest is not None:
        end = min(end, workspace.latest.hour * 60 + workspace.latest.minute)
    country = None
    subdivision = None
    if pack.holidays.blocked or workspace.block_holidays:
        country = pack.holidays.country or selection.country
        subdivision = selection.holiday_subdivision
    return Calendar(frozenset(days), start, max(start, end), country, subdivision)


def sending_calendar(
    selection: Selection, workspace: WorkspacePolicy = DEFAULT_WORKSPACE
) -> Calendar:
    """The days, daily window and holidays `decide` applies to marketing for `selection`."""
    return _rules_for(selection, None, Channel.SMS, workspace).calendar


def describe_calendar(calendar: Calendar) -> str:
    """`Mon-Sat 08:00-20:00` style summary of a calendar's days and daily window."""
    window = f"{format_minutes(calendar.start)}-{format_minutes(calendar.end)}"
    return f"{describe_days(calendar.days)} {window}"


def _caps(pack: Pack, workspace: WorkspacePolicy, channel: str) -> tuple[Cap, ...]:
    caps = [
        Cap(c.max_messages, c.window, c.channels, f"pack {pack.name}")
        for c in pack.caps
        if channel in c.channels
    ]
    counted = (
        frozenset({Channel.SMS.value, Channel.EMAIL.value})
        if workspace.caps_across_channels
        else frozenset({channel})
    )
    if workspace.max_per_day is not None:
        caps.append(Cap(workspace.max_per_day, _DAY, counted, "workspace"))
    if workspace.max_per_30_days is not None:
        caps.append(Cap(workspace.max_per_30_days, _MONTH, counted, "workspace"))
    return tuple(caps)


@dataclass(frozen=True, slots=True)
class _Rules:
    """What follows from the pack, the workspace and the channel, whoever the recipient."""

    pack: Pack
    pack_detail: str
    calendar: Calendar
    hours_text: str
    days_text: str
    caps: tuple[Cap, ...]
    cap_rules: tuple[str, ...]


# Memo of `_Rules` by workspace identity: hashing a workspace on every decision would cost
# more than the decision's own work. The stored workspace keeps its id from being reused.
_RULES: dict[tuple[int, Selection, str | None, str], tuple[WorkspacePolicy, _Rules]] = {}


def _rules_for(
    selection: Selection, override: str | None, channel: str, workspace: WorkspacePolicy
) -> _Rules:
    key = (id(workspace), selection, override, channel)
    hit = _RULES.get(key)
    if hit is not None and hit[0] is workspace:
        return hit[1]
    pack = _pack_in_force(selection.pack, override, workspace.packs)
    calendar = _calendar(pack, workspace, selection)
    caps = _caps(pack, workspace, channel)
    rules = _Rules(
        pack=pack,
        pack_detail=f"{selection.describe()}; applying {pack.name}",
        calendar=calendar,
        hours_text=f"{format_minutes(calendar.start)}-{format_minutes(calendar.end)}",
        days_text=describe_days(calendar.days),
        caps=caps,
        cap_rules=tuple(f"cap {cap.describe()} ({cap.label})" for cap in caps),
    )
    if len(_RULES) >= 4096:
        _RULES.clear()
    _RULES[key] = (workspace, rules)
    return rules


def _zones(contact: ContactFacts, workspace: WorkspacePolicy) -> tuple[tuple[str, ...], str]:
    if contact.timezone:
        zone(contact.timezone)
        return (contact.timezone,), "the contact's time zone"
    if contact.timezones:
        for name in contact.timezones:
            zone(name)
        return tuple(contact.timezones), "the number's candidate zones"
    zone(workspace.default_timezone)
    return (workspace.default_timezone,), "the workspace zone (recipient's zone unknown)"


def _hard_checks(
    contact: ContactFacts,
    message: MessageFacts,
    pack: Pack,
    now: dt.datetime,
    expires: dt.datetime | None,
    trace: list[TraceEntry],
) -> tuple[Reason, str] | None:
    """Evaluate destination, suppression, consent, sender and expiry; the first block wins."""
    blocks: list[tuple[Reason, str]] = []

    def verdict(rule: str, reason: Reason | None, detail: str) -> None:
        trace.append(TraceEntry(rule, Outcome.BLOCK if reason else Outcome.PASS, detail))
        if reason is not None:
            blocks.append((reason, detail))

    channel = message.channel
    if channel == Channel.SMS:
        if contact.e164 is None:
            verdict("destination", Reason.INVALID_NUMBER, "no valid phone number")
        elif contact.not_mobile:
            verdict(
                "destination",
                Reason.NOT_MOBILE,
                "the number is not a mobile (fixed line, premium-rate or shared-cost): "
                "it cannot receive SMS",
            )
        elif contact.undeliverable:
            # whatever the purpose: a number the network does not know fails every message.
            # No number in the text: recipients alike share one decision and its sentence.
            verdict(
                "destination",
                Reason.UNDELIVERABLE,
                "the provider reported the number undeliverable (unknown, invalid or not a mobile)",
            )
        else:
            verdict("destination", None, f"valid number {contact.e164}")
    elif not contact.email:
        verdict("destination", Reason.INVALID_EMAIL, "no email address")
    else:
        verdict("destination", None, "email address on record")

    why = ", ".join(contact.suppression_reasons) or "listed"
    if not contact.suppressed:
        verdict("suppression", None, "not on the suppression list")
    elif message.purpose != Purpose.MARKETING and set(contact.suppression_reasons) == {"keyword"}:
        # STOP objects to marketing; an order or appointment notice still goes (COMPLIANCE:
        # transactional messages need no consent and no STOP). Erasure and complaints block.
        verdict("suppression", None, "sent STOP, which stops marketing only")
    else:
        verdict("suppression", Reason.SUPPRESSED, f"on the suppression list ({why})")

    if message.purpose == Purpose.MARKETING:
        state = contact.consents.get((channel, Purpose.MARKETING))
        if state == "revoked":
            verdict("consent", Reason.CONSENT_REVOKED, f"{channel} marketing consent revoked")
        elif state in _CONSENTED:
            verdict("consent", None, f"{channel} marketing consent {state}")
        elif state == "requested":
            verdict(
                "consent",
                Reason.NO_CONSENT,
                f"{channel} marketing requested but not yet confirmed (double opt-in pending)",
            )
        elif contact.is_customer and contact.soft_opt_in_eligible:
            if pack.consent.allows_soft_opt_in(channel):
                verdict("consent", None, f"soft opt-in (existing customer), allowed by {pack.name}")
            else:
                verdict(
                    "consent",
                    Reason.NO_CONSENT,
                    f"existing customer, but {pack.name} does not accept a soft opt-in "
                    f"for {channel}",
                )
        else:
            verdict("consent", Reason.NO_CONSENT, f"no {channel} marketing consent on record")
    else:
        opted_out = contact.transactional_opt_out or (
            contact.consents.get((channel, Purpose.TRANSACTIONAL)) == "revoked"
        )
        if opted_out:
            verdict(
                "consent",
                Reason.TRANSACTIONAL_OPT_OUT,
                "the person opted out of transactional messages",
            )
        else:
            verdict("consent", None, "transactional: no consent needed")

    if message.sender_id is not None and channel == Channel.SMS:
        refusal = pack.sender.refusal(message.sender_id)
        if refusal:
            verdict("sender", Reason.SENDER_NOT_ALLOWED, f"under {pack.name}, {refusal}")
        else:
            verdict("sender", None, f"sender {message.sender_id!r} accepted under {pack.name}")

    if expires is not None:
        if expires <= now:
            verdict("expiry", Reason.EXPIRED, f"expired at {expires.isoformat()}")
        else:
            verdict("expiry", None, f"expires at {expires.isoformat()}")
    return blocks[0] if blocks else None


def _timing_now(
    zones: tuple[str, ...],
    rules: _Rules,
    calendar: Calendar | None,
    caps: tuple[Cap, ...],
    sends: dict[frozenset[str], list[dt.datetime]],
    now: dt.datetime,
    trace: list[TraceEntry],
) -> list[tuple[Reason, str]]:
    """Evaluate every timing rule at `now`; return the reasons it is not allowed now."""
    problems: list[tuple[Reason, str]] = []
    if calendar is None:
        trace.append(TraceEntry("hours", Outcome.SKIP, "transactional: exempt from hours"))
    else:
        for name in zones:
            local = now.astimezone(zone(name))
            why = wall_clock_block(calendar, local)
            text = f"{local:%a %Y-%m-%d %H:%M} {name}"
            if why is None:
                detail = f"{text} within {rules.days_text} {rules.hours_text}"
                trace.append(TraceEntry(f"hours {name}", Outcome.PASS, detail))
                continue
            reason = Reason(why)
            if reason is Reason.HOLIDAY:
                holiday = holiday_name(calendar, local.date())
                detail = f"{text} is a public holiday ({holiday})"
            elif reason is Reason.QUIET_HOURS:
                detail = f"{text} is outside the allowed hours {rules.hours_text}"
            else:
                detail = f"{text}: marketing only {rules.days_text}"
            trace.append(TraceEntry(f"hours {name}", Outcome.DEFER, detail))
            problems.append((reason, detail))
    if not caps:
        trace.append(TraceEntry("caps", Outcome.SKIP, "no frequency cap applies"))
    for cap, rule in zip(caps, rules.cap_rules if caps else (), strict=True):
        if cap_allows(cap, sends[cap.channels], now):
            trace.append(TraceEntry(rule, Outcome.PASS, "budget available"))
        else:
            detail = (
                f"{cap.label} allows no marketing"
                if cap.max_messages <= 0
                else f"already {cap.max_messages} messages in the window"
            )
            trace.append(TraceEntry(rule, Outcome.DEFER, detail))
            problems.append((_cap_reason(cap), detail))
    return problems


def _cap_reason(cap: Cap) -> Reason:
    """The reason a cap holds a message by: the person's own limit has its own."""
    return Reason.PERSONAL_LIMIT if cap.label == PERSONAL_LABEL else Reason.FREQUENCY_CAP


def _with_personal_cap(rules: _Rules, contact: ContactFacts, channel: str) -> _Rules:
    """The rules with the cap the person chose on `channel` added after the others."""
    cap = personal_cap(contact.frequency_limits.get(channel), channel)
    if cap is None:
        return rules
    rule = f"cap {cap.describe()} ({cap.label})"
    return replace(rules, caps=(*rules.caps, cap), cap_rules=(*rules.cap_rules, rule))


def _cap_holding(
    caps: tuple[Cap, ...],
    rules: _Rules,
    sends: dict[frozenset[str], list[dt.datetime]],
    instant: dt.datetime,
    zone_name: str,
) -> tuple[Cap, str] | None:
    """The first cap whose budget is taken at `instant`, with a sentence saying by what."""
    for cap, rule in zip(caps, rules.cap_rules if caps else (), strict=True):
        if cap_allows(cap, sends[cap.channels], instant):
            continue
        if cap.max_messages <= 0:
            return cap, f"{rule}: allows no marketing"
        taken = [s for s in sends[cap.channels] if instant - cap.window < s < instant + cap.window]
        first, last = _local_text(taken[0], zone_name), _local_text(taken[-1], zone_name)
        span = first if first == last else f"{first} to {last}"
        count = f"{len(taken)} marketing message" + ("s" if len(taken) > 1 else "")
        return cap, (
            f"the budget of the {rule} at {_local_text(instant, zone_name)} is taken by "
            f"{count} already planned or sent ({span})"
        )
    return None


def _earliest(
    zones: tuple[str, ...],
    calendar: Calendar | None,
    caps: tuple[Cap, ...],
    sends: dict[frozenset[str], list[dt.datetime]],
    now: dt.datetime,
    limit: dt.datetime,
) -> dt.datetime | None:
    """The earliest instant in [now, limit) every timing rule allows, or None."""
    current = now
    while current < limit:
        moved = False
        if calendar is not None:
            found = earliest_common(zones, calendar, current, limit)
            if found is None:
                return None
            moved, current = found != current, found
        for cap in caps:
            found = cap_next_allowed(cap, sends[cap.channels], current)
            if found is None or found >= limit:
                return None
            if found != current:
                current, moved = found, True
        if not moved:
            return current
    return None


def decide(
    contact: ContactFacts,
    message: MessageFacts,
    now: dt.datetime,
    history: Sequence[SendRecord] = (),
    workspace: WorkspacePolicy = DEFAULT_WORKSPACE,
    *,
    horizon: dt.timedelta = DEFAULT_HORIZON,
) -> Decision:
    """Decide whether `message` may go to `contact` at `now`: SEND, DEFER until t, or BLOCK."""
    now = _utc(now, "now")
    expires = _utc(message.expires_at, "expires_at") if message.expires_at else None
    selection = select_pack(contact.country, contact.region, contact.e164)
    rules = _rules_for(selection, message.pack, message.channel, workspace)
    pack = rules.pack
    zones, zone_source = _zones(contact, workspace)
    trace = [TraceEntry("pack", Outcome.PASS, rules.pack_detail)]
    trace.append(TraceEntry("zones", Outcome.PASS, f"{', '.join(zones)} ({zone_source})"))

    def decision(
        verdict: Verdict, at: dt.datetime | None, reason: Reason | None, text: str
    ) -> Decision:
        return Decision(verdict, at, reason, text, pack.name, zones, tuple(trace))

    blocked = _hard_checks(contact, message, pack, now, expires, trace)
    if blocked is not None:
        reason, detail = blocked
        return decision(Verdict.BLOCK, None, reason, f"Blocked: {detail}.")

    marketing = message.purpose == Purpose.MARKETING
    exempt = pack.transactional
    calendar = None if not marketing and exempt.exempt_from_hours else rules.calendar
    if marketing and contact.frequency_limits:
        rules = _with_personal_cap(rules, contact, str(message.channel))
    caps = () if not marketing and exempt.exempt_from_caps else rules.caps
    sends: dict[frozenset[str], list[dt.datetime]] = {}
    for cap in caps:
        if cap.channels not in sends:
            sends[cap.channels] = (
                sorted(
                    _utc(r.at, "history")
                    for r in history
                    if r.purpose == Purpose.MARKETING and r.channel in cap.channels
                )
                if history
                else []
            )

    problems = _timing_now(zones, rules, calendar, caps, sends, now, trace)
    if not problems:
        what = "marketing" if marketing else "transactional"
        return decision(Verdict.SEND, now, None, f"Allowed now: {what} under {pack.name}.")

    limit = now + horizon
    if expires is not None:
        limit = min(limit, expires)
    at = _earliest(zones, calendar, caps, sends, now, limit)
    reason, detail = problems[0]
    # The reason given is the rule that truly holds the message: when the hours alone allow
    # an instant before `at` (or before the expiry), the budget of a cap is what is taken.
    opens = now if calendar is None else earliest_common(zones, calendar, now, limit)
    held = _cap_holding(caps, rules, sends, opens, zones[0]) if opens is not None else None
    if held is not None and opens is not None and (at is None or at > opens):
        cap, held_text = held
        if at is not None:
            when = _local_text(at, zones[0])
            trace.append(TraceEntry("earliest", Outcome.DEFER, f"{held_text}; frees {when}"))
            return decision(
                Verdict.DEFER,
                at,
                _cap_reason(cap),
                f"Not now: {held_text}. Deferred to {when}, when the budget frees.",
            )
        if cap.max_messages > 0 and expires is not None and expires <= now + horizon:
            frees = cap_next_allowed(cap, sends[cap.channels], opens)
            free_text = f"frees {_local_text(frees, zones[0])}" if frees else "never frees"
            text = (
                f"{held_text}; the budget {free_text}, and no instant the hours and caps "
                f"allow comes before it expires {_local_text(expires, zones[0])}"
            )
            trace.append(TraceEntry("earliest", Outcome.BLOCK, text))
            return decision(Verdict.BLOCK, None, _cap_reason(cap), f"Blocked: {text}.")
    if at is not None:
        when = _local_text(at, zones[0])
        trace.append(TraceEntry("earliest", Outcome.DEFER, f"every rule allows {when}"))
        return decision(Verdict.DEFER, at, reason, f"Not now: {detail}. Deferred to {when}.")
    if expires is not None and expires <= now + horizon:
        text = (
            f"{detail}, and no allowed instant before it expires {_local_text(expires, zones[0])}"
        )
        trace.append(TraceEntry("earliest", Outcome.BLOCK, text))
        return decision(Verdict.BLOCK, None, Reason.EXPIRED, f"Blocked: {text}.")
    if any(cap.max_messages <= 0 for cap in caps):
        text = "a frequency cap of 0 allows no marketing message"
        trace.append(TraceEntry("earliest", Outcome.BLOCK, text))
        return decision(Verdict.BLOCK, None, Reason.FREQUENCY_CAP, f"Blocked: {text}.")
    span = f"{horizon.days} days" if horizon >= _DAY else f"{horizon.total_seconds() / 3600:g} h"
    across = " allowed in every zone at once" if len(zones) > 1 else " allowed"
    text = f"{detail}, and no instant within {span} is{across}"
    trace.append(TraceEntry("earliest", Outcome.BLOCK, text))
    return decision(Verdict.BLOCK, None, Reason.NO_WINDOW, f"Blocked: {text}.")
