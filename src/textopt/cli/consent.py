"""`textopt consent`: grant, revoke, history, preferences, verify and rebuild; consent
texts."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from textopt.cli import preferences
from textopt.cli.common import console, digester, parse_instant, print_json, session
from textopt.cli.display import human_instant, person_zone
from textopt.config import get_settings
from textopt.consent import service
from textopt.consent.models import ConsentAction, ConsentEvent, ConsentProof, ConsentSource
from textopt.contacts.models import Contact
from textopt.contacts.service import find_contact_or_raise
from textopt.errors import LedgerIntegrityError, ValidationError
from textopt.vocab import Channel, Purpose

app = typer.Typer(help="The consent ledger: grant, revoke, history, verify.", no_args_is_help=True)
texts_app = typer.Typer(help="Versioned consent texts (what people were told).")
app.add_typer(texts_app, name="texts")
app.add_typer(preferences.app, name="preferences")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
ChannelOption = Annotated[
    Channel | None,
    typer.Option("--channel", help="Channel (default: sms for a number, email for --email)"),
]
PhoneArgument = Annotated[
    str | None, typer.Argument(help="Phone number of the contact (or give --email)")
]
EmailOption = Annotated[
    str | None, typer.Option("--email", help="Name the contact by email address instead")
]
PurposeOption = Annotated[Purpose, typer.Option("--purpose", help="Purpose")]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When the person consented (ISO 8601 with offset); default now"),
]


def _event_dict(event: ConsentEvent, proof: ConsentProof | None = None) -> dict[str, Any]:
    return {
        "event": event.id,
        "channel": event.channel,
        "purpose": event.purpose,
        "action": event.action,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "consent_text_version": event.consent_text_version,
        "hash": event.hash,
        "proof": proof.data if proof is not None else None,
    }


@dataclass(frozen=True, slots=True)
class _Target:
    """Who a grant or revocation is about, and on which channel."""

    phone: str | None
    email: str | None
    channel: Channel | None

    def resolved_channel(self) -> Channel:
        """The channel given, else the one of the address the contact was named by."""
        if self.channel is not None:
            return self.channel
        return Channel.EMAIL if self.email and not self.phone else Channel.SMS


def _record(
    action: ConsentAction,
    target: _Target,
    purpose: Purpose,
    source: ConsentSource,
    at: str | None,
    text_version: str | None,
    ip: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    channel = target.resolved_channel()
    with session() as s:
        contact = find_contact_or_raise(
            s, phone=target.phone, email=target.email, default_region=get_settings().default_region
        )
        proof = _address_proof(contact, channel)
        address = next(iter(proof.values()))
        proof["operator"] = getpass.getuser()
        proof.update({k: v for k, v in {"ip": ip, "note": note}.items() if v})
        event = service.record_consent(
            s,
            digest=digester(),
            contact_id=contact.id,
            channel=channel,
            purpose=purpose,
            action=action,
            source=source,
            occurred_at=parse_instant(at, field="--at") if at else None,
            consent_text_version=text_version,
            proof=proof,
        )
        data = _event_dict(event)
    if as_json:
        print_json(data)
    else:
        console.print(
            f"{action} {channel} {purpose} for {address} recorded as ledger event {data['event']}"
        )


def _address_proof(contact: Contact, channel: Channel) -> dict[str, Any]:
    """The contact's address on the channel for the proof (else the one it has)."""
    if (channel == Channel.EMAIL and contact.email) or not contact.phone:
        return {"email": contact.email}
    return {"phone": contact.phone}


def _proof_text(proof: dict[str, Any] | None) -> str:
    """A proof as `key=value` pairs, absent values left out ("erased" once erased)."""
    if proof is None:
        return "erased"
    return ", ".join(f"{key}={value}" for key, value in proof.items() if value not in (None, ""))


@app.command("grant")
def grant(
    phone: PhoneArgument = None,
    email: EmailOption = None,
    channel: ChannelOption = None,
    purpose: PurposeOption = Purpose.MARKETING,
    source: Annotated[ConsentSource, typer.Option("--source")] = ConsentSource.CLI,
    at: AtOption = None,
    text_version: Annotated[
        str | None, typer.Option("--text-version", help="Consent text version shown")
    ] = None,
    ip: Annotated[str | None, typer.Option("--ip", help="IP address of the consent")] = None,
    note: Annotated[str | None, typer.Option("--note", help="How consent was obtained")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a contact (named by number or --email) gave consent."""
    _record(
        ConsentAction.GRANTED,
        _Target(phone, email, channel),
        purpose,
        source,
        at,
        text_version,
        ip,
        note,
        as_json,
    )


@app.command("revoke")
def revoke(
    phone: PhoneArgument = None,
    email: EmailOption = None,
    channel: ChannelOption = None,
    purpose: PurposeOption = Purpose.MARKETING,
    source: Annotated[ConsentSource, typer.Option("--source")] = ConsentSource.CLI,
    at: AtOption = None,
    note: Annotated[str | None, typer.Option("--note", help="How the withdrawal came")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a contact (named by number or --email) withdrew consent."""
    _record(
        ConsentAction.REVOKED,
        _Target(phone, email, channel),
        purpose,
        source,
        at,
        None,
        None,
        note,
        as_json,
    )


@app.command("history")
def history(
    phone: PhoneArgument = None, email: EmailOption = None, as_json: JsonOption = False
) -> None:
    """Every ledger event of a contact (named by number or --email), with its proof unless
    erased."""
    with session() as s:
        contact = find_contact_or_raise(
            s, phone=phone, email=email, default_region=get_settings().default_region
        )
        zone = person_zone(contact.timezone, contact.timezones)
        events = [_event_dict(e, p) for e, p in service.history(s, contact_id=contact.id)]
        current = {
            f"{channel}/{purpose}": state.status
            for (channel, purpose), state in service.current_consent(
                s, contact_id=contact.id
            ).items()
        }
    if as_json:
        print_json(
            {"phone": contact.phone, "email": contact.email, "current": current, "events": events}
        )
        return
    table = Table(title=f"consent ledger of {contact.phone or contact.email}")
    for column in ("event", "when", "channel", "purpose", "action", "source", "text", "proof"):
        table.add_column(column, no_wrap=column == "when")
    for e in events:
        table.add_row(
            str(e["event"]),
            human_instant(e["occurred_at"], zone),
            e["channel"],
            e["purpose"],
            e["action"],
            e["source"],
            e["consent_text_version"] or "",
            _proof_text(e["proof"]),
        )
    console.print(table)
    console.print("current: " + (", ".join(f"{k} {v}" for k, v in current.items()) or "none"))


@app.command("verify")
def verify(as_json: JsonOption = False) -> None:
    """Recompute the hash chain, every state and STOP suppression from the ledger; exit 1 on
    any break or difference (`textopt consent rebuild` repairs the states)."""
    with session() as s:
        report = service.verify_ledger(s, digest=digester())
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "events_checked": report.events_checked,
                "proofs_checked": report.proofs_checked,
                "proofs_erased": report.proofs_erased,
                "first_broken_event": report.first_broken_id,
                "states_checked": report.states_checked,
                "differences": [
                    {
                        "contact_id": d.contact_id,
                        "channel": d.channel,
                        "purpose": d.purpose,
                        "stored": d.stored,
                        "derived": d.derived,
                    }
                    for d in report.differences
                ],
                "problems": report.problems,
            }
        )
    elif report.ok:
        console.print(
            f"[green]ledger intact[/]: {report.events_checked} events, "
            f"{report.proofs_checked} proofs checked, {report.proofs_erased} erased; "
            f"{report.states_checked} states agree with it"
        )
    if not report.ok:
        if not as_json:
            for diff in report.differences:
                console.print(
                    f"contact {diff.contact_id} {diff.channel}/{diff.purpose}: "
                    f"stored {diff.stored}, ledger {diff.derived}"
                )
            if report.first_broken_id is not None:
                raise LedgerIntegrityError(
                    f"ledger broken at event {report.first_broken_id}: {report.problem}"
                )
            raise LedgerIntegrityError(
                f"{len(report.differences)} stored states or suppressions differ from the "
                "ledger; repair them with `textopt consent rebuild`"
            )
        raise typer.Exit(1)


@app.command("rebuild")
def rebuild(as_json: JsonOption = False) -> None:
    """Recompute the current consent of every contact (and missing STOP suppressions)."""
    with session() as s:
        count = service.rebuild_state(s, digest=digester())
    if as_json:
        print_json({"states": count})
    else:
        console.print(f"rebuilt {count} consent states from the ledger")


@texts_app.command("add")
def texts_add(
    version: str,
    body: Annotated[str | None, typer.Option("--body", help="The exact text")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--file", help="Read the text from a file")
    ] = None,
    channel: Annotated[Channel, typer.Option("--channel", help="Channel")] = Channel.SMS,
    purpose: PurposeOption = Purpose.MARKETING,
    language: Annotated[str, typer.Option("--language")] = "fr",
    as_json: JsonOption = False,
) -> None:
    """Register the exact consent text shown to people, under a version name."""
    if (body is None) == (body_file is None):
        raise ValidationError("give the text with --body or --file (one of them)")
    text = body if body is not None else body_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    with session() as s:
        saved = service.add_consent_text(
            s, version=version, body=text, channel=channel, purpose=purpose, language=language
        )
        data = {
            "version": saved.version,
            "channel": saved.channel,
            "purpose": saved.purpose,
            "language": saved.language,
            "body": saved.body,
            "created_at": saved.created_at,
        }
    if as_json:
        print_json(data)
    else:
        console.print(f"consent text {version} registered")


@texts_app.command("list")
def texts_list(as_json: JsonOption = False) -> None:
    """The registered consent texts."""
    with session() as s:
        rows: list[dict[str, Any]] = [
            {
                "version": t.version,
                "channel": t.channel,
                "purpose": t.purpose,
                "language": t.language,
                "body": t.body,
                "created_at": t.created_at,
            }
            for t in service.list_consent_texts(s)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="consent texts")
    for column in ("version", "channel", "purpose", "language", "text"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["version"], row["channel"], row["purpose"], row["language"], row["body"])
    console.print(table)
