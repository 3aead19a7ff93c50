"""`textopt contacts`: add, show, list, tag, untag, delete, import and export contacts."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session

from textopt.accounts.service import record_audit
from textopt.cli.common import console, console_err, digester, engine, print_json, session
from textopt.cli.display import human_instant
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.consent import service as consent_service
from textopt.contacts import service
from textopt.contacts.csvfile import MAPPING_TARGETS, parse_mapping
from textopt.contacts.export import export_contacts
from textopt.contacts.importer import ImportProgress, ImportReport, import_contacts
from textopt.contacts.importjobs import list_import_jobs
from textopt.contacts.models import Contact
from textopt.contacts.schemas import ContactRead
from textopt.dispatch.feedback import clear_number_failures, get_number_failures
from textopt.errors import ValidationError
from textopt.inbound.service import list_inbound

app = typer.Typer(
    help="Contacts: numbers, names, tags; CSV import and export.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
PhoneArgument = Annotated[str, typer.Argument(help="Phone number, in any notation")]
AddressArgument = Annotated[
    str, typer.Argument(help="Phone number (in any notation) or email address")
]
TagsArgument = Annotated[list[str], typer.Argument(help="One or more tags")]

# An all-digit argument this short cannot be a phone number: it is a contact id.
_ID = re.compile(r"[1-9]\d{0,6}")


def _contact_data(s: Session, contact: Contact, *, with_consent: bool = False) -> dict[str, Any]:
    data = ContactRead.model_validate(contact).model_dump(mode="json")
    if with_consent:
        data["number_failures"] = _number_failures(s, contact.phone)
        states = consent_service.current_consent(s, contact_id=contact.id)
        data["consent"] = [
            {
                "channel": channel,
                "purpose": purpose,
                "status": state.status,
                "source": state.source,
                "since": state.since.isoformat(),
            }
            for (channel, purpose), state in sorted(states.items())
        ]
    return data


def _number_failures(s: Session, phone: str | None) -> dict[str, Any] | None:
    """What the providers said of the number: failures in a row, undeliverable since when."""
    found = get_number_failures(s, digest=digester(), phone=phone) if phone else None
    if found is None:
        return None
    return {
        "failures": found.failures,
        "undeliverable_since": found.undeliverable_at.isoformat()
        if found.undeliverable_at
        else None,
        "last_code": found.last_code,
        "last_provider": found.last_provider,
        "last_failure_at": found.last_failure_at.isoformat(),
    }


def _parse_attributes(pairs: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f'attribute "{pair}" is not of the form key=value', field="attr")
        attributes[key.strip()] = value.strip()
    return attributes


def _print_contact(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    name = " ".join(p for p in (data["first_name"], data["last_name"]) if p)
    rows = [
        ("id", str(data["id"])),
        ("phone", data["phone"] or ""),
        ("name", name),
        ("email", data["email"] or ""),
        ("language", data["language"] or ""),
        ("country", data["country"] or ""),
        ("region", data["region"] or ""),
        ("time zone", data["timezone"] or ", ".join(data["timezones"]) + " (from the number)"),
        ("customer", "yes" if data["is_customer"] else "no"),
        ("tags", ", ".join(data["tags"])),
    ]
    rows += [(f"  {key}", str(value)) for key, value in sorted(data["attributes"].items())]
    for state in data.get("consent", []):
        rows.append(
            (
                f"consent {state['channel']}/{state['purpose']}",
                f"{state['status']} ({state['source']}) since {human_instant(state['since'])}",
            )
        )
    if "consent" in data and not data["consent"]:
        rows.append(("consent", "none recorded"))
    if failures := data.get("number_failures"):
        why = (
            f"{failures['failures']} permanent failure(s) in a row, the last "
            f"{failures['last_code']} from {failures['last_provider']}"
        )
        if failures["undeliverable_since"]:
            since = human_instant(failures["undeliverable_since"])
            rows.append(("undeliverable", f"since {since}: {why}"))
        else:
            rows.append(("number failures", why))
    for message in data.get("inbound", []):
        rows.append(
            (
                f"sent us {human_instant(message['received_at'], seconds=False)}",
                f"{message['text']!r} ({message['action']})",
            )
        )
    for label, value in rows:
        table.add_row(label, value, style=None)
    console.print(table, highlight=False)


@app.command("add")
def add(
    phone: Annotated[
        str | None, typer.Argument(help="Phone number, in any notation (optional with --email)")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Email address")] = None,
    first_name: Annotated[str | None, typer.Option(help="First name")] = None,
    last_name: Annotated[str | None, typer.Option(help="Last name")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. fr")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country; default: the number's")] = None,
    region: Annotated[str | None, typer.Option(help="State or department, e.g. FL, 67")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Paris")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable)")] = None,
    attr: Annotated[list[str] | None, typer.Option("--attr", help="key=value (repeatable)")] = None,
    customer: Annotated[bool, typer.Option("--customer", help="An existing customer")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a contact with a phone number, an email address (--email) or both."""
    with session() as s:
        contact = service.create_contact(
            s,
            default_region=get_settings().default_region,
            phone=phone,
            email=email,
            first_name=first_name,
            last_name=last_name,
            language=language,
            country=country,
            region=region,
            timezone=timezone,
            attributes=_parse_attributes(attr or []),
            tags=tag or [],
            is_customer=customer,
        )
        data = _contact_data(s, contact)
    if as_json:
        print_json(data)
    else:
        named = " ".join(a for a in (data["phone"], data["email"]) if a)
        console.print(f"added contact {data['id']}: {named}", highlight=False)


def find_contact(s: Session, phone_or_id: str) -> Contact:
    text = phone_or_id.strip()
    if _ID.fullmatch(text):
        return service.get_contact_or_raise(s, contact_id=int(text))
    return service.get_contact_by_address_or_raise(
        s, address=text, default_region=get_settings().default_region
    )


@app.command("show")
def show(
    phone_or_id: Annotated[str, typer.Argument(help="Phone number, email address or contact id")],
    as_json: JsonOption = False,
) -> None:
    """Show one contact with its current consent and the last messages it sent us."""
    with session() as s:
        contact = find_contact(s, phone_or_id)
        data = _contact_data(s, contact, with_consent=True)
        data["inbound"] = [
            {
                "received_at": m.received_at.isoformat(),
                "text": m.text,
                "keyword": m.keyword,
                "action": m.action,
            }
            for m in list_inbound(s, contact_id=contact.id, limit=5)
        ]
    if as_json:
        print_json(data)
    else:
        _print_contact(data)


@app.command("deliverable")
def deliverable(
    phone: PhoneArgument,
    as_json: JsonOption = False,
) -> None:
    """Forget a number's permanent failures, undeliverable or not (it was checked and works).

    A contact given a new number needs nothing: the new number has no failures.
    """
    region = get_settings().default_region
    with session() as s:
        e164 = service.normalise_phone(phone, default_region=region).e164
        cleared = clear_number_failures(s, digest=digester(), phone=e164)
        contact = service.get_contact_by_phone(s, phone=e164, default_region=region)
        if cleared:
            record_audit(
                s,
                actor=cli_actor(),
                action="number.deliverable",
                target_type="contact",
                target_id=contact.id if contact is not None else None,
            )
    if as_json:
        print_json({"phone": e164, "cleared": cleared})
    elif cleared:
        console.print(f"{e164}: failures forgotten, the number is deliverable", highlight=False)
    else:
        console.print(f"{e164}: no failure was recorded", highlight=False)


@app.command("list")
def list_command(
    tag: Annotated[str | None, typer.Option(help="Only contacts with this tag")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country, e.g. FR")] = None,
    search: Annotated[str | None, typer.Option(help="Text in name, email or number")] = None,
    limit: Annotated[int, typer.Option(help="Page size", min=1, max=10_000)] = 50,
    after: Annotated[int | None, typer.Option(help="Show contacts after this id")] = None,
    as_json: JsonOption = False,
) -> None:
    """List contacts by id, a page at a time."""
    with session() as s:
        contacts = service.list_contacts(
            s, tag=tag, country=country, search=search, limit=limit, after_id=after
        )
        total = service.count_contacts(s, tag=tag, country=country, search=search)
        rows = [ContactRead.model_validate(c).model_dump(mode="json") for c in contacts]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{total} contact(s)")
    for column in ("id", "phone", "name", "email", "country", "tags"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for row in rows:
        name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
        table.add_row(
            str(row["id"]),
            row["phone"] or "",
            name,
            row["email"] or "",
            row["country"] or "",
            ", ".join(row["tags"]),
        )
    console.print(table, highlight=False)
    if len(rows) == limit:
        console.print(f"next page: --after {rows[-1]['id']}", style="dim")


@app.command("tag")
def tag_command(phone: AddressArgument, tags: TagsArgument) -> None:
    """Add tags to a contact."""
    with session() as s:
        contact = service.get_contact_by_address_or_raise(
            s, address=phone, default_region=get_settings().default_region
        )
        added = service.tag_contacts(s, contact_ids=[contact.id], tags=tags)
        names = contact.tag_names
    who = contact.phone or contact.email
    console.print(f"{added} tag(s) added; {who} has: {', '.join(names)}", highlight=False)


@app.command("untag")
def untag_command(phone: AddressArgument, tags: TagsArgument) -> None:
    """Remove tags from a contact."""
    with session() as s:
        contact = service.get_contact_by_address_or_raise(
            s, address=phone, default_region=get_settings().default_region
        )
        removed = service.untag_contacts(s, contact_ids=[contact.id], tags=tags)
        names = contact.tag_names
    left = ", ".join(names) or "no tags"
    who = contact.phone or contact.email
    console.print(f"{removed} tag(s) removed; {who} has: {left}", highlight=False)


@app.command("delete")
def delete(
    phone: AddressArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete a contact that has no consent history (otherwise use `textopt gdpr erase`)."""
    with session() as s:
        contact = service.get_contact_by_address_or_raise(
            s, address=phone, default_region=get_settings().default_region
        )
        label = f"{contact.id} ({contact.phone or contact.email})"
        if not yes:
            typer.confirm(f"delete contact {label}?", abort=True)
        service.delete_contact(s, contact_id=contact.id)
    console.print(f"deleted contact {label}", highlight=False)


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"import of {report.path}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("rows read", str(report.rows_read))
    table.add_row("created", str(report.created))
    table.add_row("updated", str(report.updated))
    table.add_row("unchanged", str(report.unchanged))
    table.add_row("rejected", str(report.rejected_total))
    for code, count in sorted(report.rejected.items()):
        table.add_row(f"  {code.replace('_', ' ')}", str(count))
    table.add_row("warnings", str(report.warnings_total))
    for code, count in sorted(report.warnings.items()):
        table.add_row(f"  {code.replace('_', ' ')}", str(count))
    table.add_row("consents recorded", str(report.consents_recorded))
    table.add_row("batches committed", str(report.batches_committed))
    console.print(table, highlight=False)
    if report.rejects_path:
        console.print(f"rejected rows and warnings: {report.rejects_path}", highlight=False)


_MAP_HELP = (
    'Read a column as a field, an attribute or nothing: "Column=field", field one of '
    + ", ".join(MAPPING_TARGETS)
    + " (repeatable)"
)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file (`,` `;` or tab; UTF-8 or Latin-1)")],
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file (default: FILE.rejects.csv beside it)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Rows per transaction", min=1)] = None,
    region: Annotated[
        str | None, typer.Option(help="Region of national numbers (default: settings)")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help=_MAP_HELP,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import contacts from a CSV file: upsert on phone (on email for rows without one),
    rejects and warnings reported line by line."""
    mapping = parse_mapping(map_ or [])
    if as_json:
        report = import_contacts(
            engine(),
            settings=get_settings(),
            path=file,
            rejects_path=rejects,
            batch_size=batch_size,
            default_region=region,
            mapping=mapping,
        )
        print_json(report.to_dict())
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console_err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)

        def advance(state: ImportProgress) -> None:
            bar.update(task, completed=state.rows_read, total=state.total_rows)

        report = import_contacts(
            engine(),
            settings=get_settings(),
            path=file,
            rejects_path=rejects,
            batch_size=batch_size,
            default_region=region,
            progress=advance,
            mapping=mapping,
        )
    _print_report(report)


@app.command("imports")
def imports_command(
    limit: Annotated[int, typer.Option(help="How many, newest first", min=1, max=1_000)] = 10,
    as_json: JsonOption = False,
) -> None:
    """The latest background imports (dashboard and API): state, rows, what was kept."""
    with session() as s:
        jobs = list_import_jobs(s, limit=limit)
        rows: list[dict[str, Any]] = [
            {
                "id": job.id,
                "state": job.state,
                "filename": job.filename,
                "mapping": job.mapping,
                "rows_done": job.rows_done,
                "rows_total": job.rows_total,
                "result": job.result,
                "error": job.error,
                "started_by": job.started_by,
                "created_at": job.created_at.isoformat(),
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            }
            for job in jobs
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} import(s)")
    for column in ("id", "started", "file", "state", "rows", "created", "rejected"):
        table.add_column(column, justify="left" if column in ("file", "state") else "right")
    for job, row in zip(jobs, rows, strict=True):
        result = row["result"] or {}
        table.add_row(
            str(row["id"]),
            human_instant(job.created_at, seconds=False),
            row["filename"],
            row["state"],
            f"{row['rows_done']}/{row['rows_total'] or '?'}",
            str(result.get("created", 0)),
            str(result.get("rejected", 0)),
        )
    console.print(table, highlight=False)
    for row in rows:
        if row["error"]:
            console.print(f"import {row['id']} {row['state']}: {row['error']}", highlight=False)


@app.command("export")
def export_command(
    file: Annotated[Path | None, typer.Argument(help="CSV file to write (default: stdout)")] = None,
    tag: Annotated[str | None, typer.Option(help="Only contacts with this tag")] = None,
    delimiter: Annotated[str, typer.Option(help="Column delimiter: , ; or tab")] = ",",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary")] = False,
) -> None:
    """Export contacts as CSV in the columns `contacts import` reads."""
    delimiter = "\t" if delimiter in ("tab", "\\t") else delimiter
    if delimiter not in (",", ";", "\t"):
        raise ValidationError("the delimiter must be , ; or tab", field="delimiter")
    if file is None and as_json:
        raise ValidationError("--json needs a FILE: the CSV itself goes to stdout otherwise")
    with session() as s:
        if file is None:
            result = export_contacts(s, out=sys.stdout, delimiter=delimiter, tag=tag)
            sys.stdout.flush()
            return
        with file.open("w", encoding="utf-8", newline="") as out:
            result = export_contacts(s, out=out, delimiter=delimiter, tag=tag)
    summary = {"path": str(file), "rows": result.rows, "columns": list(result.columns)}
    if as_json:
        print_json(summary)
    else:
        console.print(f"exported {result.rows} contact(s) to {file}", highlight=False)
