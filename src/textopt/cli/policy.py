"""`textopt policy`: list the jurisdiction packs, show one with its sources, check a send."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from textopt.cli.common import console, parse_instant, print_json, session
from textopt.cli.display import human_instant
from textopt.config import get_settings
from textopt.consent.service import suppression_reasons
from textopt.consent.suppression import Digester, address_digester
from textopt.contacts.phones import PhoneInfo, parse_phone
from textopt.contacts.service import get_contact_by_phone
from textopt.eligibility import read_policy_inputs, workspace_policy
from textopt.errors import ConfigError, InvalidPhoneNumber, ValidationError
from textopt.policy import (
    ContactFacts,
    Decision,
    MessageFacts,
    SendRecord,
    decide,
    get_pack,
    load_packs,
    select_pack,
)
from textopt.policy.windows import zone
from textopt.vocab import Channel, Purpose

__all__ = ["app"]

app = typer.Typer(
    help="Compliance policy: jurisdiction packs and send decisions.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _pack_row(name: str) -> dict[str, Any]:
    pack = get_pack(name)
    if pack.inherits:
        chosen_for = f"{pack.inherits} numbers in {', '.join(pack.regions)}"
    elif pack.countries:
        chosen_for = ", ".join(pack.countries)
    elif name == "DEFAULT":
        chosen_for = "any other country"
    else:
        chosen_for = "only when chosen explicitly"
    return {
        "name": pack.name,
        "title": pack.title,
        "chosen_for": chosen_for,
        "inherits": pack.inherits,
        "legal_minimum": pack.legal_minimum,
        "hours": pack.hours.describe(),
        "holidays_blocked": pack.holidays.blocked,
        "soft_opt_in": pack.consent.soft_opt_in,
        "caps": [cap.describe() for cap in pack.caps],
    }


@app.command("packs")
def packs_command(as_json: JsonOption = False) -> None:
    """List the jurisdiction packs and the numbers each is chosen for."""
    rows = [_pack_row(name) for name in sorted(load_packs())]
    if as_json:
        print_json(rows)
        return
    table = Table()
    table.add_column("pack", no_wrap=True)
    table.add_column("marketing hours", no_wrap=True)
    for title in ("chosen for", "holidays", "soft opt-in", "caps"):
        table.add_column(title)
    for row in rows:
        table.add_row(
            row["name"],
            row["hours"],
            row["chosen_for"],
            "closed" if row["holidays_blocked"] else "open",
            "yes" if row["soft_opt_in"] else "no",
            "; ".join(row["caps"]) or "-",
        )
    console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Pack name, e.g. FR or US-FL")],
    as_json: JsonOption = False,
) -> None:
    """Print a pack's rules, each with its source and confidence (H, M, L)."""
    pack = get_pack(name)
    rules = [
        {"rule": rule, "requirement": requirement, "source": source, "confidence": confidence}
        for rule, requirement, source, confidence in pack.rules()
    ]
    if as_json:
        print_json({**_pack_row(pack.name), "rules": rules})
        return
    console.print(f"[bold]{pack.name}[/]: {pack.title}", highlight=False)
    if pack.inherits:
        console.print(f"inherits from {pack.inherits}", highlight=False)
    console.print(f"legal minimum: {pack.legal_minimum}", highlight=False)
    table = Table("rule", "requirement", "source", "conf", show_lines=True)
    for row in rules:
        table.add_row(row["rule"], row["requirement"], row["source"], row["confidence"])
    console.print(table)


def _cap_option(value: str | None, default: int | None, name: str) -> int | None:
    """`none` for no cap, a count, or the configured default."""
    if value is None:
        return default
    if value.strip().lower() == "none":
        return None
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise ValidationError(f"{name}: {value!r} is not a count or 'none'", field=name)
    return int(value)


def _known_facts(
    e164: str,
    info: PhoneInfo,
    channel: Channel,
    assume_consent: bool,
    now: dt.datetime,
    digest: Digester,
) -> tuple[ContactFacts, tuple[SendRecord, ...], bool]:
    """Facts and history from the database for a known contact, else assumed ones."""
    try:
        with session() as s:
            contact = get_contact_by_phone(
                s, phone=e164, default_region=get_settings().default_region
            )
            if contact is None:
                reasons = tuple(suppression_reasons(s, digest=digest, phone=e164, channel=channel))
                return _assumed_facts(e164, info, channel, assume_consent, reasons), (), False
            # the same facts planning reads: consent, suppression, sent and planned messages
            recipient = read_policy_inputs(
                s, contacts=[contact], channel=channel, now=now, digest=digest
            )
    except (OperationalError, ProgrammingError) as exc:
        raise ConfigError(
            "the database is not ready (run `textopt init`), or pass --offline to judge "
            f"the number without it: {type(exc).__name__}"
        ) from exc
    found = recipient[contact.id]
    facts = found.facts
    if not info.receives_sms:  # the number's type, whatever the contact row recorded
        facts = dataclasses.replace(facts, not_mobile=True)
    return facts, found.history, True


def _assumed_facts(
    e164: str | None,
    info: PhoneInfo | None,
    channel: Channel,
    assume_consent: bool,
    reasons: tuple[str, ...] = (),
) -> ContactFacts:
    consents: dict[tuple[str, str], str | None] = {}
    if assume_consent:
        consents[(channel, Purpose.MARKETING)] = "granted"
    return ContactFacts(
        e164=e164,
        country=info.country if info else None,
        timezones=info.timezones if info else (),
        consents=consents,
        # An unknown number is judged as if it could be reached on the channel asked for.
        email="unknown@example.invalid" if channel == Channel.EMAIL else None,
        suppressed=bool(reasons),
        suppression_reasons=reasons,
        not_mobile=info is not None and not info.receives_sms,
    )


def _print_decision(decision: Decision, *, known: bool, assume_consent: bool) -> None:
    label = {"SEND": "green", "DEFER": "yellow", "BLOCK": "red"}[decision.verdict.value]
    head = f"[bold {label}]{decision.verdict.value}[/]"
    if decision.at is not None and decision.verdict.value == "DEFER":
        name = decision.timezones[0]
        head += f" until {human_instant(decision.at, zone(name), seconds=False)} ({name})"
    if decision.reason is not None:
        head += f"  reason: {decision.reason.value}"
    console.print(head, highlight=False)
    console.print(decision.sentence, highlight=False)
    if known:
        who = "known contact: consent, suppression from the database"
    else:
        who = "unknown number: " + ("consent assumed" if assume_consent else "no consent")
    console.print(
        f"pack {decision.pack}; zones {', '.join(decision.timezones)}; {who}", highlight=False
    )
    table = Table("rule", "outcome", "detail")
    for entry in decision.trace:
        table.add_row(entry.rule, entry.outcome.value, entry.detail)
    console.print(table)


@app.command("check")
def check(
    to: Annotated[str, typer.Option("--to", help="The recipient's number (any notation)")],
    at: Annotated[
        str | None, typer.Option("--at", help="Instant to judge, ISO 8601 with offset; default now")
    ] = None,
    purpose: Annotated[Purpose, typer.Option("--purpose", help="Purpose")] = Purpose.MARKETING,
    channel: Annotated[Channel, typer.Option("--channel", help="Channel")] = Channel.SMS,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="The recipient's IANA zone, if known")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="US/CA state or province, or FR department such as 67"),
    ] = None,
    pack: Annotated[
        str | None, typer.Option("--pack", help="A pack instead of the recipient's (never looser)")
    ] = None,
    sent_recent: Annotated[
        str | None,
        typer.Option("--sent-recent", help="Marketing sends already made: ISO,ISO,..."),
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="The message's expiry, ISO 8601 with offset")
    ] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="Sender ID to check")] = None,
    no_consent: Annotated[
        bool, typer.Option("--no-consent", help="For an unknown number: assume no consent")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not read the database; judge the number alone")
    ] = False,
    max_per_day: Annotated[
        str | None,
        typer.Option("--max-per-day", help="Workspace cap per 24 h, or 'none'; default: settings"),
    ] = None,
    max_per_30_days: Annotated[
        str | None,
        typer.Option("--max-per-30-days", help="Workspace cap per 30 days, or 'none'"),
    ] = None,
    caps_across_channels: Annotated[
        bool | None,
        typer.Option(
            "--caps-across-channels/--caps-per-channel",
            help="Count SMS and email against one budget; default: settings",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Decide whether a message may go to a number at an instant: SEND, DEFER or BLOCK."""
    settings = get_settings()
    now = parse_instant(at, field="--at") if at else dt.datetime.now(dt.UTC)
    expires_at = parse_instant(expires, field="--expires") if expires else None
    sends = [
        parse_instant(part, field="--sent-recent")
        for part in (sent_recent or "").split(",")
        if part.strip()
    ]
    if timezone is not None:
        zone(timezone)
    try:
        info: PhoneInfo | None = parse_phone(to, settings.default_region)
    except InvalidPhoneNumber:
        info = None
    assume_consent = not no_consent
    known = False
    recorded: tuple[SendRecord, ...] = ()
    if info is None:
        facts = _assumed_facts(None, None, channel, assume_consent)
    elif offline:
        facts = _assumed_facts(info.e164, info, channel, assume_consent)
    else:
        digest = address_digester(settings.resolved_secret_key())
        facts, recorded, known = _known_facts(info.e164, info, channel, assume_consent, now, digest)
    overrides: dict[str, Any] = {}
    if timezone is not None:
        overrides["timezone"] = timezone
    if region is not None:
        overrides["region"] = region
    if overrides:
        facts = replace(facts, **overrides)
    workspace = replace(  # the workspace's configured rules, with this command's caps
        workspace_policy(settings),
        max_per_day=_cap_option(max_per_day, settings.max_marketing_per_day, "--max-per-day"),
        max_per_30_days=_cap_option(
            max_per_30_days, settings.max_marketing_per_30_days, "--max-per-30-days"
        ),
        caps_across_channels=(
            settings.caps_across_channels if caps_across_channels is None else caps_across_channels
        ),
    )
    message = MessageFacts(
        channel=channel, purpose=purpose, sender_id=sender, expires_at=expires_at, pack=pack
    )
    history = [*recorded, *(SendRecord(sent, channel) for sent in sends)]
    decision = decide(facts, message, now, history, workspace)
    if as_json:
        data = decision.as_dict()
        if decision.at is not None:
            data["at_local"] = decision.at.astimezone(zone(decision.timezones[0])).isoformat()
        data["known_contact"] = known
        data["region"] = select_pack(facts.country, facts.region, facts.e164).region
        print_json(data)
        return
    _print_decision(decision, known=known, assume_consent=assume_consent)
