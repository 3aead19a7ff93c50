"""`textopt gdpr` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="gdpr commands", no_args_is_help=True)
