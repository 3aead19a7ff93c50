"""`textopt users`: create (the first admin), list and disable the people who sign in."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.table import Table

from textopt.accounts import service
from textopt.accounts.models import Role, User
from textopt.accounts.service import Actor
from textopt.cli.common import console, print_json, session
from textopt.cli.display import human_instant
from textopt.errors import ValidationError

app = typer.Typer(help="Users of the web UI and the API: roles admin, marketer, viewer.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def cli_actor() -> Actor:
    """The operator at the command line, as the audit log names them."""
    return Actor("cli", None, f"cli:{getpass.getuser()}", frozenset())


def _user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "created_at": user.created_at,
        "disabled_at": user.disabled_at,
        "last_login_at": user.last_login_at,
    }


@app.command("create")
def create(
    email: str,
    role: Annotated[Role, typer.Option("--role", help="admin, marketer or viewer")] = Role.ADMIN,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user; the password is asked for (or read from stdin), never an argument."""
    if password_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ValidationError("the password is empty", field="password")
    with session() as s:
        operator = cli_actor()
        user = service.create_user(
            s, email=email, password=password, role=role, created_by=operator
        )
        service.record_audit(
            s,
            actor=operator,
            action="user.created",
            target_type="user",
            target_id=user.id,
            detail={"email": user.email, "role": user.role},
        )
        data = _user_dict(user)
    if as_json:
        print_json(data)
    else:
        console.print(f"created {data['role']} {data['email']} (user {data['id']})")


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every user."""
    with session() as s:
        rows = [_user_dict(u) for u in service.list_users(s)]
    if as_json:
        print_json(rows)
        return
    table = Table(title="users")
    for column in ("id", "email", "role", "created", "disabled"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["email"],
            row["role"],
            human_instant(row["created_at"], seconds=False),
            human_instant(row["disabled_at"], seconds=False),
        )
    console.print(table)


@app.command("disable")
def disable(
    user: Annotated[str, typer.Argument(help="Email or id")], as_json: JsonOption = False
) -> None:
    """Disable a user: their sessions end and every key acting for them is revoked."""
    with session() as s:
        found = service.disable_user(s, user=user)
        service.record_audit(
            s, actor=cli_actor(), action="user.disabled", target_type="user", target_id=found.id
        )
        data = _user_dict(found)
    if as_json:
        print_json(data)
    else:
        console.print(f"disabled {data['email']}")
