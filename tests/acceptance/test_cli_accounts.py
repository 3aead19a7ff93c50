"""`textopt users` and `textopt apikeys` as the operator runs them."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.errors import PermissionDenied

runner = CliRunner()
PASSWORD = "correct horse battery staple\n"


def test_a_key_made_for_a_user_acts_for_them_within_their_role(engine: Engine) -> None:
    made = runner.invoke(
        app,
        ["users", "create", "max@example.com", "--role", "marketer", "--password-stdin", "--json"],
        input=PASSWORD,
    )
    assert made.exit_code == 0, made.output
    user_id = json.loads(made.stdout)["id"]
    key = runner.invoke(
        app,
        ["apikeys", "create", "max's", "--scope", "send", "--user", "max@example.com", "--json"],
    )
    assert key.exit_code == 0, key.output
    assert json.loads(key.stdout)["user_id"] == user_id
    wider = runner.invoke(
        app, ["apikeys", "create", "too much", "--scope", "admin", "--user", "max@example.com"]
    )
    assert isinstance(wider.exception, PermissionDenied)  # the entry point prints one line
    assert "cannot create a key with admin" in wider.exception.message
    runner.invoke(app, ["users", "disable", "max@example.com"])
    listed = json.loads(runner.invoke(app, ["apikeys", "list", "--json"]).stdout)
    assert [k["revoked_at"] is not None for k in listed] == [True]
