"""Running the CLI in-process in acceptance tests."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from textopt.cli.main import app

runner = CliRunner()


def run_cli(*args: str) -> str:
    """The output of a command that must succeed."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def cli_json(*args: str) -> Any:
    """The parsed `--json` output of a command that must succeed."""
    return json.loads(run_cli(*args, "--json"))
