"""`textopt consent` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="consent commands", no_args_is_help=True)
