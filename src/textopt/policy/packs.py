"""Jurisdiction packs: the rules of one country or state, loaded from data files with sources.

Each pack is a TOML file under `policy/packs/` (a name starting with `_` is a data table, not
a pack). A pack has these tables, each citing `source` and `confidence` (H, M or L):

    name, title, countries = [...]          ISO codes of the numbers the pack is chosen for
    inherits = "US", regions = ["FL"]       an overlay: merged over its base, chosen by state
    legal_minimum = "FR-af2m-2026"          the pack nothing may be looser than (default: itself)
    [hours]         days, start, end        local wall-clock window on allowed days
    [holidays]      blocked, country        public holidays of `country` (with subdivisions)
    [consent]       soft_opt_in             whether an existing customer may get marketing
    [transactional] exempt_from_hours, exempt_from_caps
    [sender]        alphanumeric, numeric, max_length, blocked
    [footer]        stop_required, text
    [[caps]]        max, hours, channels    at most `max` marketing messages per rolling window

A table may also give `source_fr`, its source in French words, which the French dashboard
shows (the rule itself is `source`; the dashboard words the rule in each language).
An overlay's tables are merged key by key over its base's; its caps are added to the base's.
A workspace may make a pack stricter (`customise_pack`), never looser than its legal minimum
(`loosened_rules`, `ensure_not_looser`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from textopt.errors import NotFoundError, ValidationError

__all__ = [
    "WEEKDAY_NAMES",
    "CapRule",
    "ConsentRule",
    "FooterRule",
    "HolidayRule",
    "HoursRule",
    "Pack",
    "SenderRule",
    "TransactionalRule",
    "customise_pack",
    "ensure_not_looser",
    "get_pack",
    "load_packs",
    "loosened_rules",
    "pack_names",
    "parse_pack",
]

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CONFIDENCES = frozenset({"H", "M", "L"})
_TIME = re.compile(r"(\d{2}):(\d{2})")
_TABLES = ("hours", "holidays", "consent", "transactional", "sender", "footer")
_DIGITS = re.compile(r"\+?\d+")
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")


def format_minutes(minutes: int) -> str:
    """`480` → `"08:00"`; `1440` → `"24:00"`."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class HoursRule:
    """Marketing is allowed on `days` (0 = Monday) from `start` to `end` local wall time."""

    days: frozenset[int]
    start: int  # minutes after local midnight, inclusive
    end: int  # minutes after local midnight, exclusive; 1440 means midnight at the day's end
    source: str
    confidence: str

    def describe(self) -> str:
        """`Mon-Sat 08:00-20:00` style summary."""
        return f"{describe_days(self.days)} {format_minutes(self.start)}-{format_minutes(self.end)}"


@dataclass(frozen=True, slots=True)
class HolidayRule:
    """Whether public holidays of `country` (None: the recipient's country) forbid marketing."""

    blocked: bool
    country: str | None
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class ConsentRule:
    """Whether a soft opt-in (existing customer, similar products) stands in for consent.

    The law may differ by channel (Germany's UWG s. 7(3) allows it for email only): SMS
    reads `soft_opt_in`, email `email_soft_opt_in` (the same as SMS unless a pack says).
    """

    soft_opt_in: bool
    source: str
    confidence: str
    email_soft_opt_in: bool = False
    email_source: str = ""

    def allows_soft_opt_in(self, channel: str) -> bool:
        """Whether an existing customer's soft opt-in counts on `channel`."""
        return self.email_soft_opt_in if channel == "email" else self.soft_opt_in


@dataclass(frozen=True, slots=True)
class TransactionalRule:
    """What transactional messages are exempt from; never from hard blocks."""

    exempt_from_hours: bool
    exempt_from_caps: bool
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class SenderRule:
    """Which sender IDs the networks of the jurisdiction accept."""

    alphanumeric: bool
    numeric: bool
    max_length: int
    blocked: frozenset[str]
    source: str
    confidence: str

    def refusal(self, sender: str) -> str | None:
        """Why `sender` is not allowed, or None when it is."""
        if _DIGITS.fullmatch(sender):
            if not self.numeric:
                return f"numeric sender {sender} is not accepted"
            return None
        if not self.alphanumeric:
            return f"alphanumeric sender {sender!r} is not accepted; use a number or short code"
        if not _ALPHANUMERIC.fullmatch(sender):
            return f"sender {sender!r} may hold letters and digits only"
        if len(sender) > self.max_length:
            return f"sender {sender!r} is longer than {self.max_length} characters"
        if sender.upper() in self.blocked:
            return f"generic sender {sender!r} is blocked by the networks"
        return None


@dataclass(frozen=True, slots=True)
class FooterRule:
    """Whether every marketing message must carry a STOP instruction, and its usual text."""

    stop_required: bool
    text: str
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class CapRule:
    """At most `max_messages` marketing messages per rolling `window`, counted on `channels`."""

    max_messages: int
    window: dt.timedelta
    channels: frozenset[str]
    source: str
    confidence: str

    def describe(self) -> str:
        """`3 per 24 h (sms)` style summary."""
        hours = int(self.window.total_seconds() // 3600)
        return f"{self.max_messages} per {hours} h ({', '.join(sorted(self.channels))})"


@dataclass(frozen=True, slots=True)
class Pack:
    """The rules of one jurisdiction, each with its source."""

    name: str
    title: str
    countries: tuple[str, ...]
    regions: tuple[str, ...]
    inherits: str | None
    legal_minimum: str
    hours: HoursRule
    holidays: HolidayRule
    consent: ConsentRule
    transactional: TransactionalRule
    sender: SenderRule
    footer: FooterRule
    caps: tuple[CapRule, ...]
    customised: bool = False
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def rules(self) -> list[tuple[str, str, str, str]]:
        """Each rule as (name, requirement, source, confidence), for display."""
        h, hol, c, t, s, f = (
            self.hours,
            self.holidays,
            self.consent,
            self.transactional,
            self.sender,
            self.footer,
        )
        holiday_text = (
            f"no marketing on public holidays ({hol.country or 'recipient country'})"
            if hol.blocked
            else "public holidays allowed"
        )
        sender_kinds = [
            k for k, ok in (("numeric", s.numeric), ("alphanumeric", s.alphanumeric)) if ok
        ]
        sender_text = f"{' and '.join(sender_kinds) or 'no'} senders, at most {s.max_length} chars"
        if s.blocked:
            sender_text += f"; blocked: {', '.join(sorted(s.blocked))}"
        exempt = [
            k for k, ok in (("hours", t.exempt_from_hours), ("caps", t.exempt_from_caps)) if ok
        ]
        rows = [
            ("hours", f"marketing {h.describe()} recipient local time", h.source, h.confidence),
            ("holidays", holiday_text, hol.source, hol.confidence),
            (
                "consent",
                ("SMS: consent or soft opt-in" if c.soft_opt_in else "SMS: express consent only")
                + (
                    "; email: consent or soft opt-in"
                    if c.email_soft_opt_in
                    else "; email: express consent only"
                ),
                c.source,
                c.confidence,
            ),
            (
                "transactional",
                f"no consent needed; exempt from {' and '.join(exempt) or 'nothing'}",
                t.source,
                t.confidence,
            ),
            ("sender", sender_text, s.source, s.confidence),
            (
                "footer",
                f"STOP instruction required ({f.text})" if f.stop_required else "no STOP footer",
                f.source,
                f.confidence,
            ),
        ]
        rows.extend(
            (f"cap {i + 1}", f"at most {cap.describe()}", cap.source, cap.confidence)
            for i, cap in enumerate(self.caps)
        )
        return rows


def describe_days(days: frozenset[int]) -> str:
    """`Mon-Sat`, `every day`, or a list such as `Mon, Wed`."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if not ordered:
        return "no day"
    names = [WEEKDAY_NAMES[d].capitalize() for d in ordered]
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{names[0]}-{names[-1]}"
    return ", ".join(names)


# --- parsing -------------------------------------------------------------------------------


def _need(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise ValidationError(f"{where}: missing {key!r}", field=f"{where}.{key}")
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise ValidationError(f"{where}.{key} must be an integer", field=f"{where}.{key}")
    if not isinstance(value, kind):
        raise ValidationError(
            f"{where}.{key} must be {kind.__name__}, not {type(value).__name__}",
            field=f"{where}.{key}",
        )
    return value


def _parse_consent(table: Mapping[str, Any], where: str) -> ConsentRule:
    sms = _need(table, "soft_opt_in", bool, where)
    source, confidence = _cited(table, where)
    email = table.get("email_soft_opt_in", sms)
    if not isinstance(email, bool):
        raise ValidationError(f"{where}.email_soft_opt_in must be true or false", field=where)
    email_source = str(table.get("email_source", "")).strip() or source
    return ConsentRule(sms, source, confidence, email, email_source)


def _cited(table: Mapping[str, Any], where: str) -> tuple[str, str]:
    source = _need(table, "source", str, where).strip()
    if not source:
        raise ValidationError(f"{where}: every rule cites its source", field=f"{where}.source")
    confidence = _need(table, "confidence", str, where)
    if confidence not in _CONFIDENCES:
        raise ValidationError(f"{where}.confidence must be H, M or L", field=f"{where}.confidence")
    return source, confidence


def _minutes(value: str, where: str) -> int:
    match = _TIME.fullmatch(value)
    if not match:
        raise ValidationError(f"{where} must be HH:MM, not {value!r}", field=where)
    hours, minutes = int(match[1]), int(match[2])
    total = hours * 60 + minutes
    if minutes > 59 or total > 24 * 60:
        raise ValidationError(f"{where} {value!r} is not a time of day", field=where)
    return total


def _parse_hours(table: Mapping[str, Any], where: str) -> HoursRule:
    days_raw = _need(table, "days", list, where)
    days: set[int] = set()
    for day in days_raw:
        if day not in WEEKDAY_NAMES:
            raise ValidationError(f"{where}.days: unknown day {day!r}", field=f"{where}.days")
        days.add(WEEKDAY_NAMES.index(day))
    start = _minutes(_need(table, "start", str, where), f"{where}.start")
    end = _minutes(_need(table, "end", str, where), f"{where}.end")
    if end <= start:
        raise ValidationError(f"{where}: end must be after start", field=f"{where}.end")
    return HoursRule(frozenset(days), start, end, *_cited(table, where))


def _parse_caps(items: list[Any], where: str) -> tuple[CapRule, ...]:
    caps = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{at} must be a table", field=at)
        maximum = _need(item, "max", int, at)
        hours = _need(item, "hours", int, at)
        if maximum < 0 or hours <= 0:
            raise ValidationError(f"{at}: max must be >= 0 and hours > 0", field=at)
        channels = frozenset(_need(item, "channels", list, at))
        caps.append(CapRule(maximum, dt.timedelta(hours=hours), channels, *_cited(item, at)))
    return tuple(caps)


def parse_pack(data: Mapping[str, Any], *, origin: str) -> Pack:
    """Build a pack from its (already merged) table, or raise a ValidationError naming the field."""
    name = _need(data, "name", str, origin)
    where = f"pack {name}"
    tables: dict[str, Mapping[str, Any]] = {}
    for key in _TABLES:
        table = data.get(key)
        if not isinstance(table, Mapping):
            raise ValidationError(f"{where}: missing table [{key}]", field=key)
        tables[key] = table
    hol, con, tra, sen, foo = (tables[k] for k in _TABLES[1:])
    country = hol.get("country")
    if country is not None and not isinstance(country, str):
        raise ValidationError(f"{where}: holidays.country must be a string", field="holidays")
    return Pack(
        name=name,
        title=_need(data, "title", str, where),
        countries=tuple(data.get("countries", ())),
        regions=tuple(data.get("regions", ())),
        inherits=data.get("inherits"),
        legal_minimum=data.get("legal_minimum", name),
        hours=_parse_hours(tables["hours"], f"{where}: hours"),
        holidays=HolidayRule(
            _need(hol, "blocked", bool, f"{where}: holidays"),
            country,
            *_cited(hol, f"{where}: holidays"),
        ),
        consent=_parse_consent(con, f"{where}: consent"),
        transactional=TransactionalRule(
            _need(tra, "exempt_from_hours", bool, f"{where}: transactional"),
            _need(tra, "exempt_from_caps", bool, f"{where}: transactional"),
            *_cited(tra, f"{where}: transactional"),
        ),
        sender=SenderRule(
            _need(sen, "alphanumeric", bool, f"{where}: sender"),
            _need(sen, "numeric", bool, f"{where}: sender"),
            _need(sen, "max_length", int, f"{where}: sender"),
            frozenset(s.upper() for s in _need(sen, "blocked", list, f"{where}: sender")),
            *_cited(sen, f"{where}: sender"),
        ),
        footer=FooterRule(
            _need(foo, "stop_required", bool, f"{where}: footer"),
            _need(foo, "text", str, f"{where}: footer"),
            *_cited(foo, f"{where}: footer"),
        ),
        caps=_parse_caps(list(data.get("caps", ())), f"{where}: caps"),
        customised=bool(data.get("customised", False)),
        data=data,
    )


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged on `base`: tables key by key, caps added, other keys replaced."""
    merged: dict[str, Any] = {
        k: v for k, v in base.items() if k not in ("countries", "regions", "legal_minimum")
    }
    for key, value in over.items():
        if key == "caps":
            merged["caps"] = [*base.get("caps", ()), *value]
        elif isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = {**base[key], **value}
            if "source" in value and "source_fr" not in value:
                merged[key].pop("source_fr", None)  # French words of a source no longer cited
        else:
            merged[key] = value
    return merged


@cache
def load_packs() -> Mapping[str, Pack]:
    """Every packaged pack by name, overlays merged over their base."""
    folder = resources.files("textopt.policy").joinpath("packs")
    raw: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml") or entry.name.startswith("_"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        if data.get("name") != entry.name.removesuffix(".toml"):
            raise ValidationError(f"pack file {entry.name} must be named after its pack")
        raw[data["name"]] = data

    def resolved(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in seen:
            raise ValidationError(f"pack {name} inherits from itself")
        data = raw[name]
        base = data.get("inherits")
        if base is None:
            return data
        if base not in raw:
            raise ValidationError(f"pack {name} inherits from unknown pack {base}")
        return _merge(resolved(base, (*seen, name)), data)

    packs = {name: parse_pack(resolved(name), origin=name) for name in sorted(raw)}
    for pack in packs.values():
        if pack.legal_minimum not in packs:
            raise ValidationError(f"pack {pack.name}: unknown legal minimum {pack.legal_minimum}")
        ensure_not_looser(pack, packs[pack.legal_minimum])
    return packs


def pack_names() -> list[str]:
    """The names of the packaged packs, sorted."""
    return sorted(load_packs())


def get_pack(name: str) -> Pack:
    """The packaged pack called `name` (case-insensitive), or NotFoundError."""
    packs = load_packs()
    found = packs.get(name) or next(
        (p for n, p in packs.items() if n.upper() == name.upper()), None
    )
    if found is None:
        raise NotFoundError(f"no policy pack {name!r}; known packs: {', '.join(sorted(packs))}")
    return found


# --- strictness ------------------------------------------------------------------------------


def _cap_covered(minimum: CapRule, caps: tuple[CapRule, ...]) -> bool:
    """Whether one of `caps` forbids at least what `minimum` forbids."""
    return any(
        c.max_messages <= minimum.max_messages
        and c.window >= minimum.window
        and c.channels >= minimum.channels
        for c in caps
    )


@lru_cache(maxsize=256)
def loosened_rules(candidate: Pack, minimum: Pack) -> tuple[str, ...]:
    """Each way `candidate` allows something `minimum` forbids, as `rule: explanation`."""
    found: list[str] = []
    ch, mh = candidate.hours, minimum.hours
    extra_days = ch.days - mh.days
    if extra_days:
        found.append(f"hours: allows {describe_days(frozenset(extra_days))}, the minimum does not")
    if ch.start < mh.start:
        found.append(
            f"hours: starts at {format_minutes(ch.start)}, before {format_minutes(mh.start)}"
        )
    if ch.end > mh.end:
        found.append(f"hours: ends at {format_minutes(ch.end)}, after {format_minutes(mh.end)}")
    if minimum.holidays.blocked and not candidate.holidays.blocked:
        found.append("holidays: allows public holidays, the minimum forbids them")
    if candidate.consent.soft_opt_in and not minimum.consent.soft_opt_in:
        found.append("consent: accepts a soft opt-in, the minimum requires express consent")
    if candidate.consent.email_soft_opt_in and not minimum.consent.email_soft_opt_in:
        found.append(
            "consent: accepts a soft opt-in for email, the minimum requires express consent"
        )
    ct, mt = candidate.transactional, minimum.transactional
    if ct.exempt_from_hours and not mt.exempt_from_hours:
        found.append("transactional: exempts from hours, the minimum does not")
    if ct.exempt_from_caps and not mt.exempt_from_caps:
        found.append("transactional: exempts from caps, the minimum does not")
    cs, ms = candidate.sender, minimum.sender
    if cs.alphanumeric and not ms.alphanumeric:
        found.append("sender: accepts alphanumeric senders, the minimum does not")
    if cs.numeric and not ms.numeric:
        found.append("sender: accepts numeric senders, the minimum does not")
    if cs.max_length > ms.max_length:
        found.append(f"sender: allows {cs.max_length} characters, the minimum {ms.max_length}")
    if not cs.blocked >= ms.blocked:
        missing = ", ".join(sorted(ms.blocked - cs.blocked))
        found.append(f"sender: does not block {missing}")
    if minimum.footer.stop_required and not candidate.footer.stop_required:
        found.append("footer: drops the STOP instruction the minimum requires")
    found.extend(
        f"caps: lacks a cap of at most {cap.describe()}"
        for cap in minimum.caps
        if not _cap_covered(cap, candidate.caps)
    )
    return tuple(found)


def ensure_not_looser(candidate: Pack, minimum: Pack) -> None:
    """Raise a ValidationError naming the first rule where `candidate` is looser than `minimum`."""
    problems = loosened_rules(candidate, minimum)
    if problems:
        rule = problems[0].split(":", 1)[0]
        raise ValidationError(
            f"pack {candidate.name} is looser than the legal minimum {minimum.name}: "
            + "; ".join(problems),
            field=rule,
        )


def customise_pack(base: Pack, overrides: Mapping[str, Any]) -> Pack:
    """`base` with a workspace's stricter rules; a ValidationError if any rule loosens it.

    `overrides` has the shape of a pack file's tables, e.g. `{"hours": {"end": "19:00"}}`,
    `{"caps": [{"max": 2, "hours": 24, "channels": ["sms"], ...}]}` (caps are added). A
    changed table may cite its own source (the workspace's decision); else the base's stays.
    """
    unknown = set(overrides) - {*_TABLES, "caps"}
    if unknown:
        raise ValidationError(
            f"pack {base.name}: unknown rules {', '.join(sorted(unknown))}",
            field=sorted(unknown)[0],
        )
    merged = _merge(base.data, overrides)
    merged["customised"] = True
    merged["title"] = f"{base.title} (customised by the workspace)"
    pack = replace(parse_pack(merged, origin=base.name), legal_minimum=base.legal_minimum)
    ensure_not_looser(pack, get_pack(base.legal_minimum))
    return pack
