"""`textopt consent` and `textopt gdpr` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _add_contact(engine: Engine, phone: str = "+33612345678") -> None:
    with session_scope(engine) as s:
        s.add(Contact(phone=phone, country="FR", timezones=["Europe/Paris"], attributes={}))


def test_grant_revoke_history_and_verify(engine: Engine) -> None:
    _add_contact(engine)
    _run("consent", "texts", "add", "sms-fr-v1", "--body", "J'accepte les SMS de Boutique")
    texts = json.loads(_run("consent", "texts", "list", "--json"))
    assert texts[0]["version"] == "sms-fr-v1"
    granted = json.loads(
        _run(
            "consent",
            "grant",
            "06 12 34 56 78",
            "--text-version",
            "sms-fr-v1",
            "--at",
            "2026-03-01T10:00:00+01:00",
            "--ip",
            "192.0.2.1",
            "--json",
        )
    )
    assert (granted["event"], granted["action"]) == (1, "granted")
    _run("consent", "revoke", "+33612345678", "--source", "keyword")
    history = json.loads(_run("consent", "history", "0033612345678", "--json"))
    assert [e["action"] for e in history["events"]] == ["granted", "revoked"]
    assert history["events"][0]["proof"]["ip"] == "192.0.2.1"
    assert history["current"] == {"sms/marketing": "revoked"}
    report = json.loads(_run("consent", "verify", "--json"))
    assert report["ok"] is True
    assert report["events_checked"] == 2
    assert "ledger intact" in _run("consent", "verify")
    assert json.loads(_run("consent", "rebuild", "--json")) == {"states": 1}


def test_grant_and_revoke_by_email_for_a_contact_without_a_number(engine: Engine) -> None:
    _run("contacts", "add", "--email", "lea@example.fr")
    granted = json.loads(
        _run("consent", "grant", "--email", "LEA@example.fr", "--note", "newsletter", "--json")
    )
    assert (granted["channel"], granted["action"]) == ("email", "granted")
    assert "revoked email marketing for lea@example.fr" in _run(
        "consent", "revoke", "--email", "lea@example.fr"
    )
    history = json.loads(_run("consent", "history", "--email", "lea@example.fr", "--json"))
    assert (history["phone"], history["email"]) == (None, "lea@example.fr")
    assert history["events"][0]["proof"]["email"] == "lea@example.fr"
    assert history["events"][0]["proof"]["note"] == "newsletter"
    assert history["current"] == {"email/marketing": "revoked"}
    both = runner.invoke(app, ["consent", "grant", "0612345678", "--email", "lea@example.fr"])
    assert str(both.exception) == (
        "name the contact by a phone number or by an email address (one of them)"
    )


def test_verify_names_the_tampered_event_and_fails(engine: Engine) -> None:
    _add_contact(engine)
    _run("consent", "grant", "+33612345678")
    _run("consent", "grant", "+33612345678", "--channel", "email")
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER consent_events_no_update"))
        else:
            connection.execute(
                text("ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_change")
            )
        connection.execute(text("UPDATE consent_events SET purpose = 'transactional' WHERE id = 2"))
    result = runner.invoke(app, ["consent", "verify", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_broken_event"] == 2


def test_gdpr_export_then_erase(engine: Engine, tmp_path: Path) -> None:
    _add_contact(engine)
    _run("consent", "grant", "+33612345678", "--ip", "203.0.113.9")
    out = tmp_path / "alice.json"
    _run("gdpr", "export", "+33612345678", "--output", str(out))
    exported = json.loads(out.read_text())
    assert exported["consent"]["history"][0]["proof"]["ip"] == "203.0.113.9"
    erased = json.loads(_run("gdpr", "erase", "+33612345678", "--yes", "--json"))
    assert erased["proofs_deleted"] == 1
    assert json.loads(_run("consent", "verify", "--json"))["ok"] is True
    result = runner.invoke(app, ["gdpr", "export", "+33612345678"])
    assert result.exit_code != 0
    purge = json.loads(_run("gdpr", "purge", "--older-than", "3y", "--yes", "--json"))
    assert purge == {"erased": 0, "contact_ids": []}


def test_errors_are_one_clear_line_without_traceback(engine: Engine) -> None:
    _add_contact(engine)
    textopt = Path(sys.executable).with_name("textopt")
    cases = [
        (["consent", "grant", "+33 6 12"], '"+33 6 12" is not a valid number: too short'),
        (["consent", "grant", "+33698765432"], "no contact with number +33698765432"),
        (["consent", "grant", "+33612345678", "--at", "2026-03-01"], "has no offset"),
        (["consent", "grant", "+33612345678", "--at", "9999-12-31T00:00:00Z"], "in the future"),
        (["consent", "grant", "+33612345678", "--at", "9999-12-31T23:59:59-14:00"], "outside"),
        (["gdpr", "purge", "--older-than", "soon", "--yes"], "is not a duration"),
    ]
    for args, message in cases:
        result = subprocess.run(
            [str(textopt), *args],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            check=False,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_verify_lists_each_state_the_ledger_does_not_support_and_rebuild_repairs(
    engine: Engine,
) -> None:
    _add_contact(engine)
    _add_contact(engine, "+33612345679")
    _run("consent", "grant", "+33612345678", "--at", "2026-03-01T10:00:00+01:00")
    with engine.begin() as connection:  # a state row with no event of its own
        connection.execute(
            text(
                "INSERT INTO consent_state (contact_id, channel, purpose, status, source, since,"
                " event_id) VALUES (2, 'sms', 'marketing', 'granted', 'cli', :t, 1)"
            ),
            {"t": dt.datetime(2026, 3, 1, tzinfo=dt.UTC)},
        )
    result = runner.invoke(app, ["consent", "verify"])
    assert result.exit_code != 0
    assert "contact 2 sms/marketing: stored granted (cli, event 1), ledger none" in result.output
    report = json.loads(runner.invoke(app, ["consent", "verify", "--json"]).stdout)
    assert report["differences"] == [
        {
            "contact_id": 2,
            "channel": "sms",
            "purpose": "marketing",
            "stored": "granted (cli, event 1)",
            "derived": "none",
        }
    ]
    assert json.loads(_run("consent", "rebuild", "--json")) == {"states": 1}
    assert "ledger intact" in _run("consent", "verify")


def test_history_shows_when_in_the_persons_zone_and_leaves_out_absent_proof_fields(
    engine: Engine,
) -> None:
    _add_contact(engine)
    _run("consent", "grant", "+33612345678", "--at", "2025-11-14T09:12:30.575033+00:00")
    shown = _run("consent", "history", "+33612345678")
    assert "2025-11-14 10:12:30 CET" in shown  # 09:12 UTC, in Paris
    assert "+00:00" not in shown
    assert "575033" not in shown
    assert "None" not in shown
    as_json = json.loads(_run("consent", "history", "+33612345678", "--json"))
    assert as_json["events"][0]["occurred_at"] == "2025-11-14T09:12:30.575033+00:00"
