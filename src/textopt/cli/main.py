"""The `textopt` command: one Typer app with a sub-app per domain.

Domain errors are translated to a clear message and exit code 2 here, in one place.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from textopt import __version__
from textopt.cli import (
    apikeys,
    campaign,
    consent,
    contacts,
    db,
    dispatch,
    events,
    flows,
    gdpr,
    inbound,
    keywords,
    message,
    policy,
    questions,
    segment,
    serve,
    users,
)
from textopt.cli.common import console_err
from textopt.config import load_settings, reset_settings
from textopt.errors import TextoptError

__all__ = ["app", "main"]

app = typer.Typer(
    name="textopt",
    help="Consent-first SMS and email marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(asked: bool) -> None:
    """Print the version and stop, before any setting is read."""
    if asked:
        typer.echo(f"textopt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML configuration file", envvar="TEXTOPT_CONFIG"),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Consent-first SMS and email marketing."""
    reset_settings(load_settings(config))


app.add_typer(db.app, name="db")
app.command("init")(db.init)
app.add_typer(contacts.app, name="contacts")
contacts.app.command("questions")(questions.questions_command)
app.add_typer(consent.app, name="consent")
app.add_typer(gdpr.app, name="gdpr")
app.add_typer(message.app, name="message")
app.add_typer(policy.app, name="policy")
app.add_typer(segment.app, name="segment")
app.add_typer(events.app, name="events")
app.add_typer(keywords.app, name="keywords")
app.add_typer(flows.app, name="flows")
app.add_typer(campaign.app, name="campaign")
app.command("dispatch")(dispatch.dispatch)
app.command("send")(dispatch.send)
message.app.command("show")(dispatch.show_message)
app.add_typer(inbound.app, name="inbound")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.command("serve")(serve.serve)


def main() -> None:
    """Run the CLI, turning domain errors into one readable line."""
    try:
        code = app(standalone_mode=False)
    except TextoptError as exc:
        # the message may hold brackets (a filter) and a caret line: print it verbatim
        console_err.print("error: " + exc.message, markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        console_err.print("aborted")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            console_err.print(f"error: {exc.format_message()}", highlight=False)
        sys.exit(exc.exit_code)
    # click returns the code of a `typer.Exit` instead of exiting when not standalone
    sys.exit(code if isinstance(code, int) else 0)
