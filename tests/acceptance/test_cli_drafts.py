"""Drafts from the command line: template errors at create, edit, duplicate, delete, and a
launch that shows what it will do and asks first."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select
from tests.factories.campaigns import add_contact
from typer.testing import CliRunner, Result

from textopt.accounts.service import list_audit
from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import TextoptError
from textopt.outbox.models import Message

runner = CliRunner()


def _invoke(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def _fails(*args: str) -> str:
    """The message of the domain error a command stops on (`textopt` prints it, exit 2)."""
    result = runner.invoke(app, list(args))
    assert isinstance(result.exception, TextoptError), result.output
    return result.exception.message


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = _invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _audience(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Alice")
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)


def _create(text: str = "Soldes -20% chez Boutique") -> dict:  # type: ignore[type-arg]
    return _json("campaign", "create", "Soldes", "--text", text, "--audience", "tag:vip")


def _messages(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def test_create_refuses_a_template_error_naming_the_variable_or_the_line(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine)
    missing = _fails("campaign", "create", "X", "--text", "Hi {{ prenom }}", "--audience", "all")
    assert "'prenom' is missing" in missing
    assert "Alice" in missing  # the contact it failed for
    bad_filter = _fails(
        "campaign", "create", "X", "--text", "Hi\n{{ first_name | nope }}", "--audience", "all"
    )
    assert "line 2: No filter named 'nope'" in bad_filter
    assert _json("campaign", "list") == []


def test_a_draft_is_edited_duplicated_and_deleted_from_the_command_line(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine)
    draft = _create()
    cid = str(draft["id"])
    edited = _json("campaign", "edit", cid, "--name", "Hiver", "--text", "-30% {{ first_name }}")
    assert (edited["name"], edited["template"]) == ("Hiver", "-30% {{ first_name }}")
    assert "prenom" in _fails("campaign", "edit", cid, "--text", "{{ prenom }}")
    assert "nothing to change" in _fails("campaign", "edit", cid)
    copy = _json("campaign", "duplicate", cid)
    assert (copy["name"], copy["status"]) == ("Hiver (copy)", "draft")
    kept = _invoke("campaign", "delete", str(copy["id"]), input="n\n")
    assert kept.exit_code == 1  # answered no: nothing deleted
    assert _json("campaign", "show", str(copy["id"]))["status"] == "draft"
    deleted = _invoke("campaign", "delete", str(copy["id"]), "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "deleted" in deleted.output
    assert "no campaign" in _fails("campaign", "show", str(copy["id"]))

    assert _json("campaign", "launch", cid, "--yes")["status"] == "running"
    assert "only a draft can be edited" in _fails("campaign", "edit", cid, "--name", "Tard")
    assert "only a draft can be deleted" in _fails("campaign", "delete", cid, "--yes")
    with session_scope(engine) as s:
        actions = [e.action for e in list_audit(s, target_type="campaign")]
    assert actions == [
        "campaign.created",
        "campaign.edited",
        "campaign.duplicated",
        "campaign.deleted",
        "campaign.launched",
    ]


def test_launch_shows_recipients_cost_and_send_times_and_asks_first(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine)
    cid = str(_create()["id"])
    declined = _invoke("campaign", "launch", cid, input="n\n")
    assert declined.exit_code == 1
    for words in ("2 recipients", "1 message to send", "1 excluded", "1 SMS segment,", "EUR"):
        assert words in declined.output, declined.output
    assert "first send" in declined.output
    assert "last send" in declined.output
    assert f"Launch campaign {cid}?" in declined.output
    assert _messages(engine) == 0
    assert _json("campaign", "show", cid)["status"] == "draft"
    accepted = _invoke("campaign", "launch", cid, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert _json("campaign", "show", cid)["status"] == "running"


def test_launch_refuses_a_campaign_that_would_send_nothing_and_says_why(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)
    cid = str(_create()["id"])
    assert "nothing would be sent" in _invoke("campaign", "preview", cid).output
    for extra in ((), ("--yes",)):
        refused = _fails("campaign", "launch", cid, *extra)
        assert "nothing would be sent" in refused
        assert "no_consent 1" in refused
    assert _messages(engine) == 0
    assert _json("campaign", "show", cid)["status"] == "draft"
