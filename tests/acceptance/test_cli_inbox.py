"""`textopt inbox` and `textopt consent preferences set` as a user runs them: a message in,
listed and shown, answered conversationally, assigned, closed, reopened; preferences set."""

from __future__ import annotations

from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json, run_cli
from typer.testing import CliRunner

from textopt.accounts.models import Role
from textopt.accounts.service import Actor, create_user
from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import NotFoundError, ValidationError

ALICE = "+33612345678"
OPERATOR = Actor("cli", None, "cli:test", frozenset())


def test_a_message_is_listed_shown_answered_assigned_closed_and_reopened(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE, first_name="Alice")
        create_user(
            s,
            email="agent@example.org",
            password="a long passphrase",
            role=Role.MARKETER,
            created_by=OPERATOR,
        )
    run_cli("inbound", "receive", "--from", ALICE, "--text", "Ma commande arrive quand ?")
    listed = cli_json("inbox", "list")
    [conversation] = listed["conversations"]
    assert (conversation["name"], conversation["unread"], listed["unread"]) == ("Alice", 1, 1)
    table = run_cli("inbox", "list")
    assert "Alice" in table
    assert "Ma commande" in table
    key = str(conversation["id"])
    shown = cli_json("inbox", "show", key)
    assert shown["window"]["conversational"] is True
    assert [m["text"] for m in shown["messages"]] == ["Ma commande arrive quand ?"]
    assert "a reply now is conversational until" in run_cli("inbox", "show", key)
    reply = cli_json("inbox", "reply", key, "Demain matin, Alice.")
    assert (reply["kind"], reply["status"], reply["text"]) == (
        "conversational",
        "planned",
        "Demain matin, Alice.",
    )
    assert "on its way" in run_cli("inbox", "reply", key, "Bonne journée !")
    shown = cli_json("inbox", "show", key)
    assert [m["direction"] for m in shown["messages"]] == ["in", "out", "out"]
    assert shown["messages"][1]["replied_by"].startswith("cli:")
    assert (
        cli_json("inbox", "assign", key, "agent@example.org")["assigned_to"] == "agent@example.org"
    )
    assert cli_json("inbox", "close", key)["state"] == "closed"
    assert (
        cli_json("inbox", "list", "--show", "closed")["conversations"][0]["id"]
        == conversation["id"]
    )
    assert cli_json("inbox", "reopen", key)["state"] == "open"
    assert cli_json("inbox", "read", key)["unread"] == 0
    assert "open, 0 unread" in run_cli("inbox", "assign", key)
    failed = CliRunner().invoke(app, ["inbox", "reply", key, "Promo", "--kind", "gossip"])
    assert failed.exit_code != 0
    missing = CliRunner().invoke(app, ["inbox", "show", "999999"])
    assert isinstance(missing.exception, NotFoundError)
    late = CliRunner().invoke(app, ["inbox", "reply", key, "Promo", "--kind", "conversational"])
    assert late.exit_code == 0  # the person wrote a minute ago: still conversational


def test_the_operator_sets_a_persons_preferences_and_the_old_form_still_shows_them(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE)
    saved = cli_json(
        "consent", "preferences", "set", ALICE, "--promotions", "keep", "--frequency", "1-a-week"
    )
    sms = saved["preferences"][0]
    assert (sms["promotions"], sms["frequency"], sms["reminders"]) == (
        "subscribed",
        "1-a-week",
        True,
    )
    assert len(saved["events"]) == 1
    stopped = cli_json("consent", "preferences", "set", ALICE, "--reminders", "stop")
    assert stopped["preferences"][0]["reminders"] is False
    shown = cli_json("consent", "preferences", ALICE)
    assert shown["preferences"][0]["frequency"] == "1-a-week"
    assert cli_json("consent", "preferences", "show", ALICE) == shown
    history = cli_json("consent", "history", ALICE)
    assert [e["source"] for e in history["events"]][-2:] == ["cli", "cli"]
    nothing = CliRunner().invoke(app, ["consent", "preferences", "set", ALICE])
    assert isinstance(nothing.exception, ValidationError)
    assert "say what changes" in nothing.exception.message
    wrong = CliRunner().invoke(
        app, ["consent", "preferences", "set", ALICE, "--frequency", "daily"]
    )
    assert isinstance(wrong.exception, ValidationError)
    assert "not a limit" in wrong.exception.message
    cli_json("consent", "preferences", "set", ALICE, "--promotions", "stop")
    resumed = CliRunner().invoke(
        app, ["consent", "preferences", "set", ALICE, "--promotions", "keep"]
    )
    assert isinstance(resumed.exception, ValidationError)
    assert "consent grant" in resumed.exception.message
    assert cli_json("consent", "preferences", ALICE)["preferences"][0]["promotions"] == "stopped"
