"""A multichannel campaign from the command line: `--channels`, `--email-template`, side by side.

The wall clock decides quiet hours, so the campaign sent here is transactional, and the
marketing preview asserts only what does not depend on the hour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories.cli import cli_json, run_cli
from tests.factories.multichannel import NEWSLETTER, add_person
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.config import Settings, reset_settings
from textopt.db.engine import session_scope
from textopt.errors import TemplateError


@pytest.fixture
def cli_settings(
    campaign_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The campaign settings plus a sandbox account for email, in the CLI's environment too."""
    mail = {"kind": "sandbox", "channel": "email", "rate": 1000, "receipt_delay": 0.01}
    providers = {**campaign_settings.providers, "mail": mail}
    values = campaign_settings.model_copy(update={"providers": providers})
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(providers))
    reset_settings(values)
    yield values
    reset_settings(campaign_settings)


def test_a_newsletter_on_sms_else_email_from_the_command_line(
    engine: Engine, cli_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
        add_person(s, phone="+33612345602", email="mail@example.fr", sms=None, first_name="Mail")
    html = tmp_path / "newsletter.html"
    html.write_text(NEWSLETTER, encoding="utf-8")
    created = cli_json(
        "campaign",
        "create",
        "Lettre",
        "--text",
        "La lettre d'hiver de Boutique est sortie",
        "--audience",
        "tag:vip",
        "--brand",
        "Boutique",
        "--channels",
        "sms-else-email",
        "--email-template",
        str(html),
        "--email-subject",
        "La lettre d'hiver",
    )
    assert (created["channels"], created["channel"]) == ("sms-else-email", "sms")
    assert created["email_provider"] == "mail"
    preview = cli_json("campaign", "preview", str(created["id"]))
    assert preview["channels"]["sms"]["audience"] == 2
    assert preview["channels"]["sms"]["blocked"] == {"no_consent": 1}
    assert preview["channels"]["email"]["audience"] == 1
    text = run_cli("campaign", "preview", str(created["id"]))
    assert "channels side by side" in text
    assert "2 of 2 contacts reached" in text


def test_a_transactional_email_campaign_is_sent_and_reported_by_channel(
    engine: Engine, cli_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both", mail=None)
        add_person(s, phone="+33612345602", email=None, first_name="Sms", mail=None)
    html = tmp_path / "confirmation.html"
    html.write_text("<p>{{ first_name }}, votre commande est prête.</p>", encoding="utf-8")
    created = cli_json(
        "campaign",
        "create",
        "Commande prête",
        "--audience",
        "tag:vip",
        "--transactional",
        "--channels",
        "email-else-sms",
        "--text",
        "Votre commande est prete.",
        "--email-template",
        str(html),
        "--email-subject",
        "Votre commande",
    )
    run_cli("campaign", "launch", str(created["id"]), "--yes")
    run_cli("dispatch", "--once")
    report = cli_json("campaign", "report", str(created["id"]))
    assert report["channels"]["email"]["sent"] == 1
    assert report["channels"]["email"]["blocked_by_reason"] == {"invalid_email": 1}
    assert report["channels"]["sms"]["sent"] == 1
    assert "channels side by side" in run_cli("campaign", "report", str(created["id"]))


def test_an_email_campaign_needs_its_email_and_a_readable_file(
    engine: Engine, cli_settings: Settings, tmp_path: Path
) -> None:
    textopt = Path(sys.executable).with_name("textopt")
    email = ["--email-subject", "Hi", "--audience", "all"]
    cases = [
        (
            ["--channels", "email", "--email-template", str(tmp_path / "nowhere.html"), *email],
            "--email-template: cannot read",
        ),
        (["--channels", "both", "--audience", "all"], "--text or --template"),
        (["--channels", "fax", "--text", "Hi", "--audience", "all"], "unknown channel rule"),
        (["--text", "Hi", "--email-subject", "Hi", "--audience", "all"], "use --channels"),
    ]
    for args, message in cases:
        result = subprocess.run(
            [str(textopt), "campaign", "create", "X", *args],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            check=False,
        )
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_an_email_failing_for_the_first_contacts_is_refused_at_create(
    engine: Engine, cli_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa", mail=None)
    html = tmp_path / "lettre.html"
    html.write_text("<p>Bonjour {{ prenom }}</p>", encoding="utf-8")
    args = ["campaign", "create", "Lettre", "--audience", "tag:vip", "--channels", "email"]
    args += ["--email-template", str(html), "--email-subject", "La lettre"]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, TemplateError)
    assert "'prenom' is missing (for Léa)" in result.exception.message
    assert cli_json("campaign", "list") == []
