"""`textopt db` and `textopt init`: create and migrate the database."""

from __future__ import annotations

from typing import Annotated

import typer

from textopt.cli.common import console, engine, print_json
from textopt.db.engine import display_url
from textopt.db.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


@app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply every pending migration."""
    eng = engine(check_schema=False)
    upgrade(eng, revision)
    console.print(f"database at revision {current_revision(eng)}: {display_url(eng)}")


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Show the database URL and its revision against the newest one."""
    eng = engine(check_schema=False)
    revision, head = current_revision(eng), head_revision(eng)
    data = {
        "url": display_url(eng),
        "revision": revision,
        "head": head,
        "up_to_date": revision == head,
    }
    if as_json:
        print_json(data)
        return
    state = "up to date" if data["up_to_date"] else "needs `textopt db upgrade`"
    console.print(f"{data['url']}: revision {data['revision']} ({state})")


def init(as_json: JsonOption = False) -> None:
    """Create the database (or bring it up to date) and say where it is."""
    eng = engine(check_schema=False)
    upgrade(eng)
    data = {"url": display_url(eng), "revision": current_revision(eng)}
    if as_json:
        print_json(data)
    else:
        console.print(f"database ready at {data['url']} (revision {data['revision']})")
