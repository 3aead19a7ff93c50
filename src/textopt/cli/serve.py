"""`textopt serve`: the API and web UI, and (unless `--no-dispatch`) the workers, in one process."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from textopt.cli.common import console_err, engine
from textopt.config import get_settings, reset_settings
from textopt.db.engine import display_url
from textopt.links.reach import unreachable_bases
from textopt.logs import configure_logging


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port", min=1, max=65535)] = 8000,
    no_dispatch: Annotated[
        bool,
        typer.Option("--no-dispatch", help="HTTP only; run `textopt dispatch` workers apart"),
    ] = False,
    proxy_headers: Annotated[
        bool, typer.Option("--proxy-headers", help="Trust X-Forwarded-For from 127.0.0.1")
    ] = False,
) -> None:
    """Serve the REST API (OpenAPI at /docs) and run the dispatcher in the same loop."""
    from textopt.api.app import create_app

    base = f"http://{_browsable(host)}:{port}"
    settings = get_settings()
    if settings.public_base_url is None:
        # Links (tracked, unsubscribe) point where this server listens, not at a default port.
        settings = settings.model_copy(update={"public_base_url": base})
        reset_settings(settings)
    configure_logging()  # the dispatcher's claims, failovers and errors, beside uvicorn's
    db = engine()
    app = create_app(settings, dispatcher=not no_dispatch, engine=db)
    workers = "without workers" if no_dispatch else "with the dispatcher and webhook delivery"
    console_err.print(
        f"textopt on {base} ({display_url(db)}, {workers})\n"
        f"  dashboard: {base}/app/\n  API docs:  {base}/docs",
        highlight=False,
    )
    for link, problem in unreachable_bases(settings):
        console_err.print(
            f"  links in messages start with {link}, which recipients cannot reach ({problem}):"
            " set public_base_url (and link_domain) to the public address",
            highlight=False,
            style="yellow",
        )
    uvicorn.run(app, host=host, port=port, proxy_headers=proxy_headers, log_level="info")


def _browsable(host: str) -> str:
    """The host to put in a URL someone opens: a wildcard address is reached on loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
