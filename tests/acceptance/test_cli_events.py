"""`textopt events` as a user runs it: add, list, and a CSV import that is all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from textopt.accounts.models import AuditEntry
from textopt.cli.main import app
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.events.models import ContactEvent

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(*args: str) -> object:
    return json.loads(_run(*args, "--json"))


def _contacts(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        people = [
            Contact(phone="+33612345601", email="ana@example.com", timezones=["Europe/Paris"]),
            Contact(phone="+33612345602", email="bob@example.com", timezones=["Europe/Paris"]),
        ]
        s.add_all(people)
        s.flush()
        return [p.id for p in people]


def _count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(ContactEvent)) or 0)


def test_add_records_an_event_once_per_key_and_list_shows_it(engine: Engine) -> None:
    ana, bob = _contacts(engine)
    first = _json(
        "events", "add", "Order_Shipped", "--phone", "06 12 34 56 01",
        "--prop", "order=A-17", "--prop", "carrier=La Poste",
        "--at", "2026-11-20T10:00:00+01:00", "--key", "ship-A-17",
    )  # fmt: skip
    assert isinstance(first, dict)
    assert first["created"] is True
    assert first["type"] == "order_shipped"
    assert first["contact_id"] == ana
    assert first["properties"] == {"order": "A-17", "carrier": "La Poste"}
    assert first["occurred_at"] == "2026-11-20T09:00:00+00:00"
    assert first["source"] == "cli"
    again = _json(
        "events", "add", "order_shipped", "--contact", str(ana),
        "--prop", "order=A-17", "--prop", "carrier=La Poste",
        "--at", "2026-11-20T09:00:00Z", "--key", "ship-A-17",
    )  # fmt: skip
    assert isinstance(again, dict)
    assert again["created"] is False
    assert again["id"] == first["id"]
    conflict = runner.invoke(
        app, ["events", "add", "order_shipped", "--contact", str(ana), "--key", "ship-A-17"]
    )
    assert isinstance(conflict.exception, ConflictError)
    assert conflict.exception.field == "--key"
    assert "recorded" in _run("events", "add", "visit", "--email", "BOB@example.com")
    listed = _json("events", "list", "--contact", str(ana))
    assert [e["type"] for e in listed] == ["order_shipped"]  # type: ignore[union-attr,index]
    assert len(_json("events", "list")) == 2  # type: ignore[arg-type]
    assert [e["contact_id"] for e in _json("events", "list", "--type", "VISIT")] == [bob]  # type: ignore[union-attr,index]
    assert (
        _json("events", "list", "--since", "2026-11-21T00:00:00Z", "--type", "order_shipped") == []
    )
    table = _run("events", "list", "--phone", "+33612345601")
    assert "order_shipped" in table
    assert "2026-11-20" in table
    assert "10:00:00" in table  # 09:00 UTC, shown in the workspace's zone


def test_add_refuses_bad_input_and_unknown_contacts(engine: Engine) -> None:
    _contacts(engine)
    cases = [
        (["add", "a b", "--contact", "1"], ValidationError, "type"),
        (["add", "visit", "--contact", "1", "--prop", "novalue"], ValidationError, "--prop"),
        (["add", "visit", "--contact", "1", "--at", "2026-11-20 10:00"], ValidationError, "--at"),
        (["add", "visit", "--contact", "1", "--at", "2999-01-01T00:00Z"], ValidationError, "occurred_at"),  # noqa: E501
        (["add", "visit", "--contact", "1", "--phone", "0612345601"], ValidationError, "phone"),
        (["add", "visit"], ValidationError, "contact_id"),
        (["add", "visit", "--phone", "+33699999999"], NotFoundError, "phone"),
        (["add", "visit", "--contact", "1", "--key", "has space"], ValidationError, "--key"),
    ]  # fmt: skip
    for args, kind, field in cases:
        result = runner.invoke(app, ["events", *args])
        assert isinstance(result.exception, kind), (args, result.exception)
        assert result.exception.field == field, (args, result.exception.field)
    assert _count(engine) == 0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_records_every_row_and_importing_again_records_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    ana, bob = _contacts(engine)
    csv = _write(
        tmp_path / "orders.csv",
        "phone,email,contact_id,type,occurred_at,order,total\n"
        "06 12 34 56 01,,,order_shipped,2026-11-20T10:00:00+01:00,A-17,42.50\n"
        ",BOB@example.com,,order_shipped,2026-11-21T10:00:00Z,B-3,\n"
        f",,{ana},visit,2026-11-22T08:00:00Z,,\n",
    )
    report = _json("events", "import", str(csv))
    assert report == {
        "file": "orders.csv",
        "rows_read": 3,
        "recorded": 3,
        "already_recorded": 0,
        "rejected": 0,
        "committed": True,
        "errors": [],
    }
    events = _json("events", "list", "--type", "order_shipped")
    assert [(e["contact_id"], e["properties"]) for e in events] == [  # type: ignore[union-attr,index]
        (ana, {"order": "A-17", "total": "42.50"}),
        (bob, {"order": "B-3"}),
    ]
    assert {e["source"] for e in events} == {"import"}  # type: ignore[union-attr,index]
    again = _json("events", "import", str(csv))
    assert isinstance(again, dict)
    assert (again["recorded"], again["already_recorded"]) == (0, 3)
    assert _count(engine) == 3
    with session_scope(engine) as s:
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "events.imported"))
        assert [a.detail["recorded"] for a in audited] == [3, 0]


def test_a_file_with_bad_rows_records_nothing_and_names_each_row(
    engine: Engine, tmp_path: Path
) -> None:
    _contacts(engine)
    csv = _write(
        tmp_path / "bad.csv",
        "phone;type;occurred_at;key\n"
        "0612345601;order_shipped;2026-11-20T10:00:00+01:00;k1\n"
        "0612345699;order_shipped;2026-11-20T10:00:00+01:00;\n"
        "0612345602;order shipped;2026-11-20T10:00:00+01:00;\n"
        "0612345602;visit;2026-11-20 10:00;\n"
        "0612345602;visit;;\n"
        ";visit;2026-11-20T10:00:00Z;\n"
        "0612345602;visit;2026-11-20T10:00:00Z;k1\n"
        "12;visit;2026-11-20T10:00:00Z;\n",
    )
    result = runner.invoke(app, ["events", "import", str(csv), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["committed"] is False
    assert report["recorded"] == 0
    assert report["rows_read"] == 8
    assert report["rejected"] == 7
    by_line = {(e["line"], e["column"]) for e in report["errors"]}
    assert by_line == {
        (3, "phone"),
        (4, "type"),
        (5, "occurred_at"),
        (6, "occurred_at"),
        (7, "contact"),
        (8, "key"),
        (9, "phone"),
    }
    unknown = next(e for e in report["errors"] if e["line"] == 3)
    assert "no contact with phone +33612345699" in unknown["message"]
    reused = next(e for e in report["errors"] if e["line"] == 8)
    assert "line 2" in reused["message"]
    assert _count(engine) == 0
    human = runner.invoke(app, ["events", "import", str(csv)])
    assert human.exit_code == 2
    assert 'line 4, type: "order shipped" is not an event type' in human.stderr
    assert "nothing recorded; 7 of 8 rows refused" in human.stderr


def test_a_file_without_the_needed_columns_is_refused(engine: Engine, tmp_path: Path) -> None:
    csv = _write(tmp_path / "x.csv", "name,type\nAna,visit\n")
    result = runner.invoke(app, ["events", "import", str(csv)])
    assert isinstance(result.exception, ValidationError)
    assert "lacks the columns contact_id|phone|email, occurred_at" in result.exception.message
