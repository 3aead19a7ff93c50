"""`textopt gdpr`: export everything about a person, erase a person, purge old prospects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from textopt.accounts.service import record_audit
from textopt.cli.common import console, digester, parse_duration, print_json, session
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.contacts.service import get_contact_by_address_or_raise
from textopt.gdpr import service

app = typer.Typer(help="GDPR: access (export), erasure and retention.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


@app.command("export")
def export(
    phone: Annotated[str, typer.Argument(help="Phone number or email address")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")
    ] = None,
) -> None:
    """Everything held about one person, as JSON (GDPR art. 15)."""
    with session() as s:
        contact = get_contact_by_address_or_raise(
            s, address=phone, default_region=get_settings().default_region
        )
        data = service.export_person(s, contact=contact, digest=digester())
        record_audit(
            s,
            actor=cli_actor(),
            action="gdpr.exported",
            target_type="contact",
            target_id=contact.id,
        )
    if output is None:
        print_json(data)
        return
    output.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"wrote {output}")


@app.command("erase")
def erase(
    phone: Annotated[str, typer.Argument(help="Phone number or email address")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Reference of the request")] = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a person's data (GDPR art. 17); the number stays suppressed as a keyed hash."""
    if not yes:
        typer.confirm(f"Erase every personal datum of {phone}? This cannot be undone", abort=True)
    settings = get_settings()
    with session() as s:
        contact = get_contact_by_address_or_raise(
            s, address=phone, default_region=settings.default_region
        )
        report = service.erase_person(s, contact=contact, note=note, settings=settings)
        record_audit(
            s,
            actor=cli_actor(),
            action="gdpr.erased",
            target_type="contact",
            target_id=report.contact_ids[0],
            detail={"note": note} if note else None,
        )
    data = {
        "erased_contacts": report.contact_ids,
        "proofs_deleted": report.proofs_deleted,
        "suppressed": report.suppressed,
        "files_deleted": report.files_deleted,
    }
    if as_json:
        print_json(data)
    else:
        console.print(
            f"erased contact {report.contact_ids[0]}: {report.proofs_deleted} proof records "
            f"deleted, {' and '.join(report.suppressed) or 'nothing'} suppressed, "
            f"{report.files_deleted} upload or rejects files deleted"
        )


@app.command("purge")
def purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Inactivity before erasure, e.g. 3y")
    ] = "3y",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    as_json: JsonOption = False,
) -> None:
    """Erase prospects (not customers) without activity for a while (CNIL: 3 years)."""
    period = parse_duration(older_than, field="--older-than")
    if not yes:
        typer.confirm(f"Erase every prospect inactive for {older_than}?", abort=True)
    with session() as s:
        ids = service.purge_inactive_prospects(s, older_than=period)
        record_audit(
            s,
            actor=cli_actor(),
            action="gdpr.purged",
            target_type="contact",
            detail={"older_than": older_than, "erased": len(ids)},
        )
    if as_json:
        print_json({"erased": len(ids), "contact_ids": ids})
    else:
        console.print(f"erased {len(ids)} inactive prospects")
