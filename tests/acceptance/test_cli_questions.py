"""`textopt send --asks` and `textopt contacts questions`: a reminder asked from the command
line, answered by a reply, listed with its answer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json, run_cli, runner

from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import ValidationError


def test_a_reminder_sent_from_the_cli_is_answered_by_reply_and_listed(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678").id
    sent = cli_json(
        "send",
        "--to", "06 12 34 56 78",
        "--text", "RDV demain 10h : OUI pour confirmer, ANNULER pour annuler.",
        "--asks", "appointment",
        "--reference", "rdv-42",
        "--answer-by", (utcnow() + dt.timedelta(days=2)).isoformat(),
    )  # fmt: skip
    assert sent["status"] in ("submitted", "delivered")
    [asked] = cli_json("contacts", "questions", "06 12 34 56 78")
    assert (asked["state"], asked["reference"], asked["message_id"]) == (
        "open",
        "rdv-42",
        sent["id"],
    )
    reply = cli_json("inbound", "receive", "--from", "+33612345678", "--text", "oui")
    assert reply["action"] == "question_confirmed"
    assert reply["reply"]["text"] == "Merci, votre rendez-vous est confirmé."
    [answered] = cli_json("contacts", "questions", str(contact_id))
    assert (answered["state"], answered["answer"]) == ("answered", "confirmed")
    [event] = cli_json("events", "list", "--contact", str(contact_id))
    assert (event["type"], event["properties"]["appointment_id"]) == (
        "appointment_confirmed",
        "rdv-42",
    )
    table = run_cli("contacts", "questions", "+33612345678")
    assert "rdv-42" in table
    assert "confirmed" in table


def test_send_refuses_a_reference_without_a_question_and_a_stranger(
    engine: Engine, campaign_settings: Settings
) -> None:
    alone = runner.invoke(
        app, ["send", "--to", "+33612345678", "--text", "x", "--reference", "rdv-1"]
    )
    assert isinstance(alone.exception, ValidationError)
    assert alone.exception.field == "asks"
    stranger = runner.invoke(
        app, ["send", "--to", "+33612345678", "--text", "x", "--asks", "appointment"]
    )
    assert isinstance(stranger.exception, ValidationError)
    assert "no contact" in stranger.exception.message
