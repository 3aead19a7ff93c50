"""`textopt apikeys`: create (the secret is printed once), list and revoke API keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from textopt.accounts import service
from textopt.accounts.models import ApiKey
from textopt.cli.common import console, console_err, print_json, session
from textopt.cli.display import human_instant
from textopt.cli.users import cli_actor

app = typer.Typer(help="API keys for /v1: shown once, stored hashed, scoped, revocable.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _key_dict(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "user_id": key.created_by,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@app.command("create")
def create(
    name: str,
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope", help="read, write, launch, send, gdpr, admin, metrics (repeatable)"
        ),
    ],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Email or id of the user the key acts for: disabling them revokes it, "
            "and it never holds more than their role",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print its secret, this once."""
    operator = cli_actor()
    with session() as s:
        key, secret = service.create_api_key(
            s, name=name, scopes=scope, created_by=operator, for_user=user
        )
        service.record_audit(
            s,
            actor=operator,
            action="api_key.created",
            target_type="api_key",
            target_id=key.id,
            detail={"name": key.name, "prefix": key.prefix, "scopes": key.scopes},
        )
        data = {**_key_dict(key), "secret": secret}
    if as_json:
        print_json(data)
        return
    console_err.print(f"API key {data['name']} ({', '.join(data['scopes'])}); copy it now:")
    console.print(secret, highlight=False, soft_wrap=True)


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every key with its prefix and scopes (never the secret)."""
    with session() as s:
        rows = [_key_dict(k) for k in service.list_api_keys(s)]
    if as_json:
        print_json(rows)
        return
    table = Table(title="API keys")
    for column in ("id", "name", "prefix", "scopes", "last used", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["prefix"],
            ", ".join(row["scopes"]),
            human_instant(row["last_used_at"], seconds=False),
            human_instant(row["revoked_at"], seconds=False),
        )
    console.print(table)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="Id or prefix")], as_json: JsonOption = False
) -> None:
    """Revoke a key: it stops working at once."""
    with session() as s:
        found = service.revoke_api_key(s, key=key)
        service.record_audit(
            s,
            actor=cli_actor(),
            action="api_key.revoked",
            target_type="api_key",
            target_id=found.id,
        )
        data = _key_dict(found)
    if as_json:
        print_json(data)
    else:
        console.print(f"revoked API key {data['name']} ({data['prefix']})")
