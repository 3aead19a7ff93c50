"""Small builders for policy tests: facts from a phone number, expectations from text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textopt.contacts.phones import parse_phone
from textopt.policy import ContactFacts, Decision, MessageFacts, SendRecord, Verdict
from textopt.vocab import Channel, Purpose

# Numbers whose country and candidate zones come from libphonenumber.
FR = "+33612345678"  # France, Europe/Paris
RE = "+262692123456"  # Réunion, Indian/Reunion
YT = "+262639401234"  # Mayotte, Indian/Mayotte
GP = "+590690123456"  # Guadeloupe, America/Guadeloupe
MQ = "+596696123456"  # Martinique, America/Martinique
GF = "+594694123456"  # French Guiana, America/Cayenne
NY = "+12125550123"  # New York, America/New_York
FL = "+13055550123"  # Miami, Florida, America/New_York
OK = "+14055550123"  # Oklahoma City, America/Chicago
MD = "+14105550123"  # Baltimore, Maryland, America/New_York
MD2 = "+12405550123"  # Maryland (240), America/New_York
ID = "+12085550123"  # Idaho: America/Boise and America/Los_Angeles
AK = "+19075550123"  # Alaska: America/Adak and America/Anchorage
TOLL_FREE = "+18005550123"  # US toll-free: eleven US zones from Hawaii to New York
TORONTO = "+14165550123"  # Canada, America/Toronto
NL = "+17095550123"  # Newfoundland and Labrador: America/Halifax and America/St_Johns
UK = "+447400123456"  # United Kingdom, Europe/London
GG = "+447911123456"  # Guernsey (+44, not the UK), Europe/Guernsey
DE = "+4915112345678"  # Germany, Europe/Berlin
ES = "+34612345678"  # Spain: Europe/Madrid and Atlantic/Canary
BE = "+32470123456"  # Belgium, Europe/Brussels
JP = "+819012345678"  # Japan, Asia/Tokyo (no pack: DEFAULT)
AU = "+61412345678"  # Australian mobile: six zones from Perth to Lord Howe
RU = "+79123456789"  # Russian mobile: thirteen zones from Moscow to Kamchatka
INVALID = "+3361234"  # too short


def instant(text: str) -> dt.datetime:
    """An ISO 8601 instant that must carry its offset."""
    value = dt.datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value


def contact(number: str | None, **opts: Any) -> ContactFacts:
    """Facts for a recipient with `number`, consenting to SMS marketing unless told otherwise."""
    e164: str | None = None
    country: str | None = opts.get("country")
    zones: tuple[str, ...] = tuple(opts.get("zones", ()))
    if number is not None and number != INVALID:
        info = parse_phone(number)
        e164, country = info.e164, info.country
        zones = zones or info.timezones
    channel = opts.get("channel", Channel.SMS)
    consents: dict[tuple[str, str], str | None] = {}
    consent = opts.get("consent", "granted")
    if consent is not None:
        consents[(opts.get("consent_channel", channel), Purpose.MARKETING)] = consent
    if "tx_consent" in opts:
        consents[(channel, Purpose.TRANSACTIONAL)] = opts["tx_consent"]
    customer = opts.get("customer", False)
    return ContactFacts(
        e164=e164,
        country=country,
        region=opts.get("region"),
        timezone=opts.get("tz"),
        timezones=zones,
        consents=consents,
        email=opts.get("email"),
        is_customer=customer or opts.get("account_only", False),
        soft_opt_in_eligible=customer or opts.get("eligible_only", False),
        suppressed=bool(opts.get("suppressed")),
        suppression_reasons=tuple(opts.get("suppressed", ())),
        transactional_opt_out=opts.get("opt_out", False),
    )


def message(**opts: Any) -> MessageFacts:
    """A message: marketing SMS unless told otherwise."""
    expires = opts.get("expires")
    return MessageFacts(
        channel=Channel(opts.get("channel", Channel.SMS)),
        purpose=Purpose(opts.get("purpose", Purpose.MARKETING)),
        sender_id=opts.get("sender"),
        expires_at=instant(expires) if expires else None,
        pack=opts.get("pack"),
    )


def history(**opts: Any) -> list[SendRecord]:
    """Past marketing sends: `sent` on the message's channel, `sent_email` by email,
    `sent_transactional` transactional SMS."""
    channel = opts.get("channel", Channel.SMS)
    records = [SendRecord(instant(t), channel) for t in opts.get("sent", ())]
    records += [SendRecord(instant(t), Channel.EMAIL) for t in opts.get("sent_email", ())]
    records += [
        SendRecord(instant(t), Channel.SMS, Purpose.TRANSACTIONAL)
        for t in opts.get("sent_transactional", ())
    ]
    return records


def verdict_text(decision: Decision) -> str:
    """`SEND`, `DEFER <ISO instant> <reason>` or `BLOCK <reason>` for comparison."""
    if decision.verdict is Verdict.SEND:
        return "SEND"
    if decision.verdict is Verdict.DEFER:
        assert decision.at is not None
        assert decision.reason is not None
        return f"DEFER {decision.at.isoformat()} {decision.reason.value}"
    assert decision.reason is not None
    return f"BLOCK {decision.reason.value}"


def expected_text(expect: str) -> str:
    """Normalise an expectation: the DEFER instant is compared in UTC."""
    parts = expect.split()
    if parts[0] == "DEFER":
        at = instant(parts[1]).astimezone(dt.UTC)
        return f"DEFER {at.isoformat()} {parts[2]}"
    return expect
