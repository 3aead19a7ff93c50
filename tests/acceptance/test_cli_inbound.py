"""`textopt inbound`: a simulated STOP from the command line, answered once, then listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tests.factories.campaigns import add_contact, journal_keys
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope

runner = CliRunner()


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_stop_is_stored_applied_and_answered_once(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
    first = _json("inbound", "receive", "--from", "06 12 34 56 78", "--text", "Stop", "--id", "m1")
    assert (first["keyword"], first["action"], first["created"]) == ("stop", "stopped", True)
    assert first["reply"]["status"] in ("submitted", "delivered")
    assert first["reply"]["text"].startswith("Vous ne recevrez plus de SMS de Boutique.")
    again = _json("inbound", "receive", "--from", "+33612345678", "--text", "Stop", "--id", "m1")
    assert again["created"] is False
    assert again["id"] == first["id"]
    assert len(journal_keys(journal)) == 1

    _json("inbound", "receive", "--from", "+33612345678", "--text", "Bonjour !")
    listed = _json("inbound", "list", "--contact", "06 12 34 56 78")
    assert [m["text"] for m in listed] == ["Bonjour !", "Stop"]
    assert listed[1]["action"] == "stopped"
    assert "stopped" in runner.invoke(app, ["inbound", "list"]).stdout


def test_receive_names_an_unknown_provider_account(campaign_settings: Settings) -> None:
    result = runner.invoke(
        app, ["inbound", "receive", "--from", "+33612345678", "--text", "x", "--provider", "nope"]
    )
    assert result.exit_code != 0
    assert "provider account 'nope' is not configured" in str(result.exception)


def test_contacts_show_lists_the_last_messages_the_contact_sent(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
    _json("inbound", "receive", "--from", "+33612345678", "--text", "Ouvert dimanche ?")
    shown = _json("contacts", "show", "+33612345678")
    assert [(m["text"], m["action"]) for m in shown["inbound"]] == [("Ouvert dimanche ?", "stored")]
    text = runner.invoke(app, ["contacts", "show", "+33612345678"]).stdout
    assert "'Ouvert dimanche ?' (stored)" in text


def test_list_shows_senders_that_are_no_number_as_they_came(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    operator = _json("inbound", "receive", "--from", "Orange", "--text", "STOP", "--id", "o1")
    assert (operator["from"], operator["phone"]) == ("Orange", None)
    assert (operator["keyword"], operator["action"]) == ("stop", "not_a_number")
    assert "reply" not in operator  # no one to answer
    _json("inbound", "receive", "--from", "36111", "--text", "Info", "--id", "s1")
    _json("inbound", "receive", "--from", "", "--text", "Bonjour", "--id", "e1")
    assert journal_keys(journal) == []

    listed = _json("inbound", "list")
    assert [(m["from"], m["phone"]) for m in listed] == [
        ("", None),
        ("36111", None),
        ("Orange", None),
    ]
    assert [m["from"] for m in _json("inbound", "list", "--contact", "Orange")] == ["Orange"]
    table = runner.invoke(app, ["inbound", "list"], catch_exceptions=False).stdout
    assert "Orange" in table
    assert "36111" in table
    assert "(no sender)" in table
    assert "not_a_number" in table
