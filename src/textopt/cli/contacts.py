"""`textopt contacts` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="contacts commands", no_args_is_help=True)
