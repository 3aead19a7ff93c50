"""A campaign from the command line: segment, create, preview, launch, dispatch, report, why.

The wall clock decides quiet hours, so the campaign sent here is transactional (exempt), and
the marketing preview asserts only what does not depend on the hour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from typer.testing import CliRunner

from textopt.accounts.service import list_audit
from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(_run(*args, "--json"))  # type: ignore[no-any-return]


def test_a_campaign_from_segment_to_report(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEXTOPT_SENDER_IDS", "BOUTIQUE")
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Alice")
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)
        add_contact(s, "+13055550123", first_name="Carol")
    _run("segment", "create", "everyone", "all")
    promo = _json(
        "campaign",
        "create",
        "Soldes",
        "--text",
        "Soldes -20% chez Boutique, {{ first_name }}",
        "--segment",
        "everyone",
        "--sender",
        "BOUTIQUE",
    )
    preview = _json("campaign", "preview", str(promo["id"]))
    assert preview["audience"] == 3
    assert preview["blocked"] == {"no_consent": 1, "sender_not_allowed": 1}
    assert preview["by_country"]["FR/GSM-7"]["segments"] == 1
    assert "STOP au 36111" in preview["worst_message"]["text"]
    assert "excluded" in _run("campaign", "preview", str(promo["id"]))

    reminder = _json(
        "campaign",
        "create",
        "Rappel",
        "--text",
        "Boutique : RDV demain 10h, {{ first_name }}",
        "--audience",
        "all",
        "--transactional",
    )
    launched = _json("campaign", "launch", str(reminder["id"]), "--yes")
    assert (launched["status"], launched["planned"], launched["blocked"]) == ("running", 3, {})
    stats = _json("dispatch", "--once")
    assert stats["submitted"] == 3
    report = _json("campaign", "report", str(reminder["id"]))
    assert (report["status"], report["sent"], report["delivered"]) == ("completed", 3, 3)
    why = _json("campaign", "why", str(reminder["id"]), "06 12 34 56 78")
    assert why["stored_decision"]["status"] == "delivered"
    assert [e["rule"] for e in why["evaluated_now"]["trace"]][:2] == ["pack", "zones"]
    listed = json.loads(_run("campaign", "list", "--json"))
    assert [c["name"] for c in listed] == ["Rappel", "Soldes"]
    cancelled = _json("campaign", "cancel", str(promo["id"]))
    assert cancelled["status"] == "cancelled"
    with session_scope(engine) as s:
        audit = [(e.action, e.target_id, e.actor_type) for e in list_audit(s)]
    assert ("campaign.launched", str(reminder["id"]), "cli") in audit
    assert ("campaign.cancelled", str(promo["id"]), "cli") in audit


def test_send_one_message_and_show_it(engine: Engine, campaign_settings: Settings) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Alice")
    sent = _json(
        "send",
        "--to",
        "06 12 34 56 78",
        "--text",
        "Bonjour {{ first_name }}, code {{ code }}",
        "--var",
        "code=4821",
        "--idempotency-key",
        "otp-1",
    )
    assert (sent["status"], sent["body"], sent["created"]) == (
        "delivered",
        "Bonjour Alice, code 4821",
        True,
    )
    again = _json("send", "--to", "+33612345678", "--text", "Bonjour", "--idempotency-key", "otp-1")
    assert (again["id"], again["created"]) == (sent["id"], False)
    shown = _json("message", "show", str(sent["id"]))
    assert [e["status"] for e in shown["events"]][:2] == ["sending", "submitted"]
    assert shown["events"][-1]["status"] == "delivered"


def test_errors_are_clear_and_name_the_problem(engine: Engine, campaign_settings: Settings) -> None:
    env = os.environ.copy()
    textopt = Path(sys.executable).with_name("textopt")
    cases = [
        (["campaign", "create", "X", "--text", "Hi {{", "--audience", "all"], "syntax error"),
        (["campaign", "create", "X", "--text", "Hi", "--audience", "tagg:vip"], "tag"),
        (["campaign", "launch", "99"], "no campaign with id 99"),
        (["send", "--to", "+33 6 12", "--text", "Hi"], '"+33 6 12" is not a valid number'),
        (["send", "--to", "0612345678", "--text", "Hi", "--var", "novalue"], "name=value"),
        (
            [
                "campaign",
                "create",
                "X",
                "--text",
                "Hi",
                "--audience",
                "all",
                "--brand",
                "B",
                "--expires-at",
                "9999-12-31T23:59:59-14:00",
            ],
            "outside the dates we can store",
        ),
        (
            [
                "campaign",
                "create",
                "X",
                "--text",
                "Hi",
                "--audience",
                "all",
                "--brand",
                "B",
                "--send-at",
                "2999-01-01T10:00:00+01:00",
            ],
            "more than 366 days ahead",
        ),
    ]
    for args, message in cases:
        result = subprocess.run(
            [str(textopt), *args], capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
