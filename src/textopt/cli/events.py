"""`textopt events`: record what happened to a contact, list events, import a CSV of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from textopt.cli.common import console, console_err, parse_instant, print_json, session
from textopt.cli.display import human_instant
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.db.base import utcnow
from textopt.db.ids import MAX_ID
from textopt.errors import ValidationError
from textopt.events import service
from textopt.events.importer import import_events
from textopt.events.models import EventSource

app = typer.Typer(
    help="Events: what happened to a contact (order_shipped...), for segments and flows.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
ContactOption = Annotated[
    int | None, typer.Option("--contact", help="The contact's id", min=1, max=MAX_ID)
]
PhoneOption = Annotated[str | None, typer.Option("--phone", help="Or the contact's number")]
EmailOption = Annotated[str | None, typer.Option("--email", help="Or the contact's address")]


def _properties(pairs: list[str]) -> dict[str, str]:
    properties: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise ValidationError(
                f"--prop {pair!r}: write a property as name=value", field="--prop"
            )
        properties[name.strip()] = value
    return properties


@app.command("add")
def add(
    type: Annotated[str, typer.Argument(help="The event type, e.g. order_shipped")],
    contact: ContactOption = None,
    phone: PhoneOption = None,
    email: EmailOption = None,
    prop: Annotated[
        list[str] | None, typer.Option("--prop", help="A property name=value (repeatable)")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When it happened (ISO 8601 with offset); now")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Idempotency key: the same key records once")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record an event of an existing contact (named by --contact, --phone or --email)."""
    settings = get_settings()
    properties = _properties(prop or [])
    occurred_at = parse_instant(at, field="--at") if at is not None else None
    with session() as s:
        found = service.find_event_contact(
            s,
            default_region=settings.default_region,
            contact_id=contact,
            phone=phone,
            email=email,
        )
        event, created = service.record_event(
            s,
            contact=found,
            type=type,
            properties=properties,
            occurred_at=occurred_at,
            key=key,
            source=EventSource.CLI,
            recorded_by=cli_actor().label,
            secret=settings.resolved_secret_key(),
            now=utcnow(),
            key_field="--key",
        )
        data = {**service.event_fields(event), "created": created}
    if as_json:
        print_json(data)
        return
    verb = "recorded" if created else "already recorded (same key)"
    console.print(
        f"event {data['id']} {data['type']} of contact {data['contact_id']} {verb}, "
        f"occurred {human_instant(event.occurred_at)}",
        markup=False,
        highlight=False,
    )


@app.command("list")
def list_(
    contact: ContactOption = None,
    phone: PhoneOption = None,
    email: EmailOption = None,
    type: Annotated[str | None, typer.Option("--type", help="Only this event type")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Occurred at or after (ISO 8601 with offset)")
    ] = None,
    after: Annotated[
        int | None, typer.Option("--after", help="Events after this id (the next page)", min=0)
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many", min=1, max=10_000)
    ] = 50,
    as_json: JsonOption = False,
) -> None:
    """Events by ascending id, of one contact or all, of one type, since an instant."""
    settings = get_settings()
    start = parse_instant(since, field="--since") if since is not None else None
    with session() as s:
        contact_id = None
        if contact is not None or phone or email:
            contact_id = service.find_event_contact(
                s,
                default_region=settings.default_region,
                contact_id=contact,
                phone=phone,
                email=email,
            ).id
        rows = service.list_events(
            s, contact_id=contact_id, type=type, since=start, after_id=after, limit=limit
        )
        data = [service.event_fields(e) for e in rows]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("no events", highlight=False)
        return
    table = Table("id", "occurred", "contact", "type", "properties", "source")
    for row in data:
        table.add_row(
            str(row["id"]),
            human_instant(row["occurred_at"]),
            str(row["contact_id"]),
            escape(row["type"]),
            escape(json.dumps(row["properties"], ensure_ascii=False)),
            row["source"],
        )
    console.print(table)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file (`,` `;` or tab; UTF-8 or Latin-1)")],
    region: Annotated[
        str | None, typer.Option(help="Region of national numbers (default: settings)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import events from a CSV file: contact_id or phone or email, type, occurred_at, then
    property columns. One bad row and nothing is recorded; every error is listed by line."""
    settings = get_settings()
    if not file.is_file():
        raise ValidationError(f"{file}: no such file", field="file")
    with session() as s:
        report = import_events(
            s,
            path=file,
            default_region=(region or settings.default_region).upper(),
            secret=settings.resolved_secret_key(),
            actor=cli_actor(),
            now=utcnow(),
        )
    if as_json:
        print_json(report.as_dict())
    elif report.committed:
        console.print(
            f"{file.name}: {report.rows_read} rows, {report.recorded} events recorded, "
            f"{report.already_recorded} already recorded",
            markup=False,
            highlight=False,
        )
    else:
        for error in report.errors:
            console_err.print(
                f"line {error.line}, {error.column}: {error.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        console_err.print(
            f"{file.name}: nothing recorded; {len({e.line for e in report.errors})} of "
            f"{report.rows_read} rows refused",
            markup=False,
            highlight=False,
        )
    if not report.committed:
        raise typer.Exit(2)
