"""`textopt keywords` as a user runs it: add, list, edit (one answer, the switch), remove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from tests.factories.campaigns import journal_keys
from typer.testing import CliRunner

from textopt.accounts.models import AuditEntry
from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import ConflictError, NotFoundError, ValidationError

runner = CliRunner()
FR = "Ouvert du lundi au samedi, 9h-19h."
EN = "Open Monday to Saturday, 9am-7pm."


def _run(*args: str) -> str:
    result = runner.invoke(app, ["keywords", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(*args: str) -> Any:
    return json.loads(_run(*args, "--json"))


def _inbound(*args: str) -> Any:
    result = runner.invoke(app, ["inbound", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_list_edit_and_remove_a_keyword(engine: Engine) -> None:
    added = _json("add", "Horaires", "--fr", FR, "--en", EN)
    assert (added["word"], added["texts"], added["enabled"]) == (
        "HORAIRES",
        {"fr": FR, "en": EN},
        True,
    )
    assert "keyword PROMO added (on; answers in fr)" in _run("add", "promo", "--fr", "-10 %")
    listed = _json("list")
    assert [k["word"] for k in listed] == ["HORAIRES", "PROMO"]
    table = _run("list")
    assert "HORAIRES" in table
    assert "9am-7pm" in table
    # one answer changed, the other kept; then switched off
    changed = _json("edit", "horaires", "--fr", "Ouvert 10h-19h.")
    assert changed["texts"] == {"fr": "Ouvert 10h-19h.", "en": EN}
    off = _json("edit", "HORAIRES", "--off", "--drop", "en")
    assert (off["enabled"], off["texts"]) == (False, {"fr": "Ouvert 10h-19h."})
    assert "keyword HEURES changed (on; answers in fr)" in _run(
        "edit", "horaires", "--word", "heures", "--on"
    )
    assert "keyword PROMO removed" in _run("remove", "PROMO")
    assert [k["word"] for k in _json("list")] == ["HEURES"]
    with session_scope(engine) as s:
        audited = s.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.target_type == "keyword")
        )
        assert {label.split(":")[0] for label in audited} == {"cli"}


def test_reserved_words_taken_words_and_unknown_keywords_are_refused(engine: Engine) -> None:
    _run("add", "horaires", "--fr", FR)
    cases = [
        (["add", "STOP", "--fr", FR], ValidationError, "word"),
        (["add", "arret", "--fr", FR], ValidationError, "word"),
        (["add", "OUI", "--en", EN], ValidationError, "word"),
        (["add", "orari"], ValidationError, "texts"),
        (["add", "HORAIRES", "--en", EN], ConflictError, "word"),
        (["edit", "horaires", "--drop", "fr"], ValidationError, "texts"),
        (["edit", "nope", "--off"], NotFoundError, "keyword"),
        (["remove", "nope"], NotFoundError, "keyword"),
    ]
    for args, kind, field in cases:
        result = runner.invoke(app, ["keywords", *args])
        assert isinstance(result.exception, kind), (args, result.exception)
        assert result.exception.field == field, (args, result.exception.field)
    assert [k["word"] for k in _json("list")] == ["HORAIRES"]


def test_an_mo_of_a_keyword_is_answered_through_the_provider_once_and_listed(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    _run("add", "horaires", "--fr", FR, "--en", EN)
    asked = _inbound("receive", "--from", "+447911123456", "--text", " Horaires ", "--id", "k1")
    assert (asked["workspace_keyword"], asked["action"], asked["language"]) == (
        "horaires",
        "keyword_answered",
        "en",
    )
    assert asked["reply"]["status"] in ("submitted", "delivered")
    assert asked["reply"]["text"] == EN
    again = _inbound("receive", "--from", "+447911123456", "--text", "Horaires", "--id", "k1")
    assert again["created"] is False
    soon = _inbound("receive", "--from", "+447911123456", "--text", "HORAIRES", "--id", "k2")
    assert (soon["action"], "reply" in soon) == ("keyword_rate_limited", False)
    assert len(journal_keys(journal)) == 1  # one answer reached the provider
    listed = _inbound("list")
    assert [(m["workspace_keyword"], m["action"]) for m in listed] == [
        ("horaires", "keyword_rate_limited"),
        ("horaires", "keyword_answered"),
    ]
    assert "HORAIRES" in runner.invoke(app, ["inbound", "list"]).stdout
