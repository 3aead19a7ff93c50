"""`textopt consent preferences`: what a person chose to receive (`show`, the default), and
the choices the team records for them (`set`), as the preference centre records them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from textopt.cli.common import console, digester, print_json, session
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.consent.models import FrequencyLimit
from textopt.consent.preferences import merge_choices, read_preferences, set_preferences
from textopt.contacts.service import find_contact_or_raise
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.vocab import Channel


class _ShowByDefault(TyperGroup):
    """`consent preferences <number>` still shows them: a first word that names no command
    is the number (or `--email`) of `show`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click's Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_ShowByDefault,
    help="A person's preferences: show them, or record what they asked for (set).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
PhoneArgument = Annotated[
    str | None, typer.Argument(help="Phone number of the contact (or give --email)")
]
EmailOption = Annotated[
    str | None, typer.Option("--email", help="Name the contact by email address instead")
]
_KEEP_STOP = {"keep": True, "stop": False}


def _print(contact_label: str, chosen: list[dict[str, Any]]) -> None:
    table = Table(title=f"preferences of {contact_label}")
    for column in ("channel", "promotions", "how often", "reminders and order updates"):
        table.add_column(column)
    for p in chosen:
        address = "" if p["has_address"] else " (no address)"
        table.add_row(
            f"{p['channel']}{address}",
            p["promotions"],
            f"at most {p['frequency']}" if p["frequency"] else "as the workspace allows",
            "kept" if p["reminders"] else "stopped",
        )
    console.print(table)


@app.command("show")
def show(
    phone: PhoneArgument = None, email: EmailOption = None, as_json: JsonOption = False
) -> None:
    """What a contact (named by number or --email) chose to receive on each channel: promotions,
    reminders and order updates, and their own frequency limit."""
    with session() as s:
        contact = find_contact_or_raise(
            s, phone=phone, email=email, default_region=get_settings().default_region
        )
        chosen = [p.as_dict() for p in read_preferences(s, contact_id=contact.id)]
    if as_json:
        print_json({"phone": contact.phone, "email": contact.email, "preferences": chosen})
        return
    _print(str(contact.phone or contact.email), chosen)


def _keep_or_stop(value: str | None, *, field: str) -> bool | None:
    if value is None:
        return None
    try:
        return _KEEP_STOP[value.strip().lower()]
    except KeyError:
        raise ValidationError(f"{field}: {value[:20]!r} is not keep or stop", field=field) from None


def _frequency(value: str | None) -> tuple[bool, FrequencyLimit | None]:
    if value is None:
        return False, None
    if value.strip().lower() == "default":
        return True, None
    try:
        return True, FrequencyLimit(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"--frequency: {value[:20]!r} is not a limit (2-a-month, 1-a-week or default)",
            field="frequency",
        ) from None


@app.command("set")
def set_(
    phone: PhoneArgument = None,
    email: EmailOption = None,
    channel: Annotated[Channel, typer.Option("--channel", help="sms or email")] = Channel.SMS,
    promotions: Annotated[
        str | None,
        typer.Option("--promotions", help="keep or stop (stopped ones are never resumed here)"),
    ] = None,
    reminders: Annotated[
        str | None, typer.Option("--reminders", help="Reminders and order updates: keep or stop")
    ] = None,
    frequency: Annotated[
        str | None,
        typer.Option("--frequency", help="The person's own limit: 2-a-month, 1-a-week, default"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record what the person asked for on one channel (one ledger event per change, the
    operator as its source, audited); options left out are kept."""
    changes: dict[str, Any] = {}
    kept_promotions = _keep_or_stop(promotions, field="--promotions")
    if kept_promotions is not None:
        changes["promotions"] = kept_promotions
    kept_reminders = _keep_or_stop(reminders, field="--reminders")
    if kept_reminders is not None:
        changes["reminders"] = kept_reminders
    given, limit = _frequency(frequency)
    if given:
        changes["frequency"] = limit
    if not changes:
        raise ValidationError(
            "say what changes: --promotions, --reminders or --frequency", field="promotions"
        )
    with session() as s:
        contact = find_contact_or_raise(
            s, phone=phone, email=email, default_region=get_settings().default_region
        )
        choices = merge_choices(read_preferences(s, contact_id=contact.id), {channel: changes})
        events = set_preferences(
            s,
            actor=cli_actor(),
            digest=digester(),
            contact_id=contact.id,
            choices=choices,
            now=utcnow(),
        )
        chosen = [p.as_dict() for p in read_preferences(s, contact_id=contact.id)]
    if as_json:
        print_json(
            {
                "phone": contact.phone,
                "email": contact.email,
                "preferences": chosen,
                "events": events,
            }
        )
        return
    console.print(f"{len(events)} ledger event(s) recorded", highlight=False)
    _print(str(contact.phone or contact.email), chosen)
