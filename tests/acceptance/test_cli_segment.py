"""`textopt segment` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.contacts.models import Contact, ContactTag
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import NotFoundError, ValidationError

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _add_contacts(engine: Engine) -> None:
    people = [
        ("+33612345601", "FR", ["vip"], {"city": "Lyon"}, None),
        ("+33612345602", "FR", ["vip"], {"city": "Paris"}, None),
        ("+33612345603", "BE", ["vip", "gold"], {"city": "Liège"}, None),
        ("+33612345604", "FR", [], {}, None),
        ("+33612345605", "FR", ["vip"], {}, utcnow()),  # erased: never counted
    ]
    with session_scope(engine) as s:
        for phone, country, tags, attributes, erased_at in people:
            s.add(
                Contact(
                    phone=phone,
                    country=country,
                    timezones=["Europe/Paris"],
                    attributes=attributes,
                    tags=[ContactTag(tag=t) for t in tags],
                    erased_at=erased_at,
                )
            )


def test_create_list_show_count_and_delete(engine: Engine) -> None:
    _add_contacts(engine)
    created = json.loads(
        _run(
            "segment",
            "create",
            "vip-fr",
            "TAG:vip AND country:fr",
            "--description",
            "VIP in France",
            "--json",
        )
    )
    assert (created["name"], created["filter"], created["canonical"]) == (
        "vip-fr",
        "TAG:vip AND country:fr",
        "tag:vip and country:FR",
    )
    assert (created["count"], created["description"]) == (2, "VIP in France")
    assert "segment gold saved: tag:gold (1 contact now)" in _run(
        "segment", "create", "gold", "tag:gold"
    )

    listed = json.loads(_run("segment", "list", "--json"))
    assert [(s["name"], s["count"]) for s in listed] == [("gold", 1), ("vip-fr", 2)]
    table = _run("segment", "list")
    assert "vip-fr" in table
    assert "tag:vip and country:FR" in table

    shown = json.loads(_run("segment", "show", "vip-fr", "--json"))
    assert (shown["id"], shown["count"]) == (created["id"], 2)
    assert "VIP in France" in _run("segment", "show", "vip-fr")

    by_name = json.loads(_run("segment", "count", "vip-fr", "--json"))
    assert (by_name["segment"], by_name["filter"], by_name["count"]) == (
        "vip-fr",
        "tag:vip and country:FR",
        2,
    )
    ad_hoc = json.loads(
        _run("segment", "count", 'tag:vip and not attributes.city = "Lyon"', "--json")
    )
    assert (ad_hoc["segment"], ad_hoc["count"]) == (None, 2)
    assert _run("segment", "count", "all").strip() == "4 contacts match all"

    assert "segment gold deleted" in _run("segment", "delete", "gold")
    assert [s["name"] for s in json.loads(_run("segment", "list", "--json"))] == ["vip-fr"]


def test_list_says_when_there_are_no_segments(engine: Engine) -> None:
    assert "no segments yet" in _run("segment", "list")
    assert json.loads(_run("segment", "list", "--json")) == []


def test_a_bad_filter_is_refused_with_its_column(engine: Engine) -> None:
    result = runner.invoke(app, ["segment", "create", "bad", "tagg:vip"])
    assert isinstance(result.exception, ValidationError)
    assert result.exception.message.startswith('column 1: unknown keyword "tagg"')
    assert json.loads(_run("segment", "list", "--json")) == []
    result = runner.invoke(app, ["segment", "count", "country:FR and"])
    assert isinstance(result.exception, ValidationError)
    assert result.exception.message.startswith("column 15: expected a filter term")


def test_unknown_segment_is_not_found(engine: Engine) -> None:
    for command in ("show", "delete"):
        result = runner.invoke(app, ["segment", command, "nope"])
        assert isinstance(result.exception, NotFoundError)
        assert result.exception.message == 'no segment "nope"'


def test_the_textopt_command_prints_the_column_and_exits_2(engine: Engine, tmp_path: Path) -> None:
    script = "from textopt.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "segment", "count", 'attributes.city = "Lyon" or'],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "column 28: expected a filter term but found the end of the filter" in done.stderr
    assert "^" in done.stderr


@pytest.mark.parametrize("name", ["123", " "])
def test_bad_segment_names_are_refused(engine: Engine, name: str) -> None:
    result = runner.invoke(app, ["segment", "create", name, "all"])
    assert isinstance(result.exception, ValidationError)
    assert "segment name" in result.exception.message
