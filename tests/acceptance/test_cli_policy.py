"""`textopt policy` as a user runs it: packs, show, and check for unknown and known numbers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.factories.keys import TEST_DIGEST
from typer.testing import CliRunner

from textopt.cli.main import app
from textopt.config import Settings, reset_settings
from textopt.consent.service import record_consent
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import InvalidTimezone, NotFoundError, ValidationError
from textopt.gdpr.service import erase_person
from textopt.outbox.models import Message

runner = CliRunner()
FR = "+33612345678"


@pytest.fixture
def no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite file that does not exist yet: commands that need no database still work."""
    path = tmp_path / "absent.db"
    monkeypatch.setenv("TEXTOPT_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TEXTOPT_SECRET_KEY", "test-secret")
    monkeypatch.chdir(tmp_path)
    yield path
    reset_settings(None)


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _check(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_run("policy", "check", *args, "--json"))
    return data


def _add_contact(engine: Engine, **fields: Any) -> int:
    values: dict[str, Any] = {
        "phone": FR,
        "country": "FR",
        "timezones": ["Europe/Paris"],
        "attributes": {},
        **fields,
    }
    with session_scope(engine) as s:
        contact = Contact(**values)
        s.add(contact)
        s.flush()
        return contact.id


def _consent(engine: Engine, contact_id: int, action: str, source: str = "form") -> None:
    with session_scope(engine) as s:
        record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=contact_id,
            channel="sms",
            purpose="marketing",
            action=action,
            source=source,
        )


# --- packs and show: no database needed ------------------------------------------------------


def test_packs_lists_every_pack_with_how_it_is_chosen(no_database: Path) -> None:
    rows = json.loads(_run("policy", "packs", "--json"))
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {
        "BE", "CA", "DE", "DEFAULT", "ES", "FR", "FR-af2m-2026", "UK", "US", "US-FL", "US-MD",
        "US-OK",
    }  # fmt: skip
    assert by_name["US-FL"]["chosen_for"] == "US numbers in FL"
    assert by_name["FR"]["legal_minimum"] == "FR-af2m-2026"
    assert "RE" in by_name["FR"]["chosen_for"]
    assert "Mon-Sat 08:00-20:00" in _run("policy", "packs")
    assert not no_database.exists()


def test_show_prints_each_rule_with_its_source(no_database: Path) -> None:
    text = _run("policy", "show", "FR")
    assert "legal minimum: FR-af2m-2026" in text
    assert "L34-5" in text
    assert "Alsace-Moselle" in text
    data = json.loads(_run("policy", "show", "us-fl", "--json"))
    rules = {rule["rule"]: rule for rule in data["rules"]}
    assert rules["hours"]["requirement"] == "marketing every day 08:00-20:00 recipient local time"
    assert "Florida" in rules["cap 1"]["source"]
    assert rules["cap 1"]["confidence"] == "H"


def test_show_refuses_an_unknown_pack(no_database: Path) -> None:
    result = runner.invoke(app, ["policy", "show", "XX"])
    assert isinstance(result.exception, NotFoundError)


# --- check, unknown numbers ------------------------------------------------------------------


def test_check_sends_on_saturday_evening_and_defers_at_eight(engine: Engine) -> None:
    sent = _check("--to", "06 12 34 56 78", "--at", "2026-03-28T19:59+01:00")
    assert (sent["decision"], sent["reason"], sent["pack"]) == ("SEND", None, "FR")
    assert sent["at"] == "2026-03-28T18:59:00+00:00"
    assert sent["known_contact"] is False
    deferred = _check("--to", "06 12 34 56 78", "--at", "2026-03-28T20:00+01:00")
    assert (deferred["decision"], deferred["reason"]) == ("DEFER", "quiet_hours")
    assert deferred["at"] == "2026-03-30T06:00:00+00:00"
    assert deferred["at_local"] == "2026-03-30T08:00:00+02:00"
    assert deferred["timezones"] == ["Europe/Paris"]
    assert [e["rule"] for e in deferred["trace"]][:3] == ["pack", "zones", "destination"]


def test_check_prints_a_readable_decision(engine: Engine) -> None:
    text = _run("policy", "check", "--to", FR, "--at", "2026-03-28T20:00+01:00")
    assert "DEFER until 2026-03-30 08:00 CEST (Europe/Paris)" in text
    assert "reason: quiet_hours" in text
    assert "unknown number: consent assumed" in text


def test_check_without_consent_blocks_an_unknown_number(engine: Engine) -> None:
    data = _check("--to", FR, "--at", "2026-06-10T10:00+02:00", "--no-consent")
    assert (data["decision"], data["reason"], data["at"]) == ("BLOCK", "no_consent", None)


def test_check_blocks_an_invalid_number(engine: Engine) -> None:
    data = _check("--to", "06 12", "--at", "2026-06-10T10:00+02:00", "--purpose", "transactional")
    assert (data["decision"], data["reason"]) == ("BLOCK", "invalid_number")


def test_check_uses_the_department_for_alsace_holidays(engine: Engine) -> None:
    paris = _check("--to", FR, "--at", "2026-04-03T10:00+02:00")
    strasbourg = _check("--to", FR, "--at", "2026-04-03T10:00+02:00", "--region", "67")
    assert paris["decision"] == "SEND"
    assert (strasbourg["decision"], strasbourg["reason"]) == ("DEFER", "holiday")
    assert strasbourg["region"] == "67"


def test_check_judges_florida_and_new_york_differently(engine: Engine) -> None:
    florida = _check("--to", "+1 305 555 0123", "--at", "2026-06-10T20:30-04:00")
    new_york = _check("--to", "+1 212 555 0123", "--at", "2026-06-10T20:30-04:00")
    assert (florida["pack"], florida["decision"]) == ("US-FL", "DEFER")
    assert (new_york["pack"], new_york["decision"]) == ("US", "SEND")


def test_check_takes_the_timezone_and_recent_sends(engine: Engine) -> None:
    idaho = "+12085550123"
    both = _check("--to", idaho, "--at", "2026-06-10T08:30-06:00")
    assert both["timezones"] == ["America/Boise", "America/Los_Angeles"]
    assert both["decision"] == "DEFER"
    boise = _check("--to", idaho, "--at", "2026-06-10T08:30-06:00", "--timezone", "America/Boise")
    assert (boise["decision"], boise["timezones"]) == ("SEND", ["America/Boise"])
    capped = _check(
        "--to", FR, "--at", "2026-06-10T10:00+02:00", "--sent-recent", "2026-06-09T11:00+02:00"
    )
    assert (capped["decision"], capped["reason"]) == ("DEFER", "frequency_cap")
    assert capped["at"] == "2026-06-10T09:00:00+00:00"
    uncapped = _check(
        "--to",
        FR,
        "--at",
        "2026-06-10T10:00+02:00",
        "--sent-recent",
        "2026-06-09T11:00+02:00",
        "--max-per-day",
        "none",
    )
    assert uncapped["decision"] == "SEND"


def test_check_blocks_what_expires_before_the_window(engine: Engine) -> None:
    data = _check(
        "--to", FR, "--at", "2026-03-28T20:00+01:00", "--expires", "2026-03-29T12:00+02:00"
    )
    assert (data["decision"], data["reason"]) == ("BLOCK", "expired")


def test_check_sends_transactional_at_night(engine: Engine) -> None:
    data = _check("--to", FR, "--at", "2026-06-14T03:00+02:00", "--purpose", "transactional")
    assert data["decision"] == "SEND"


def test_check_accepts_the_legal_minimum_pack_and_refuses_a_looser_one(engine: Engine) -> None:
    late = _check("--to", FR, "--at", "2026-06-10T21:00+02:00", "--pack", "FR-af2m-2026")
    assert (late["decision"], late["pack"]) == ("SEND", "FR-af2m-2026")
    result = runner.invoke(
        app, ["policy", "check", "--to", "+13055550123", "--pack", "US", "--json"]
    )
    assert isinstance(result.exception, ValidationError)
    assert "looser than the legal minimum US-FL" in result.exception.message


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--at", "2026-06-10T10:00"], ValidationError),  # no offset
        (["--timezone", "Mars/Olympus"], InvalidTimezone),
        (["--max-per-day", "lots"], ValidationError),
    ],
)
def test_check_refuses_bad_options(engine: Engine, args: list[str], error: type[Exception]) -> None:
    result = runner.invoke(app, ["policy", "check", "--to", FR, *args])
    assert isinstance(result.exception, error)


def test_check_on_a_new_database_creates_it_and_offline_needs_none(no_database: Path) -> None:
    offline = _check("--to", FR, "--at", "2026-06-10T10:00+02:00", "--offline")
    assert offline["decision"] == "SEND"
    assert not no_database.exists()
    fresh = _check("--to", FR, "--at", "2026-06-10T10:00+02:00")
    assert (fresh["decision"], fresh["known_contact"]) == ("SEND", False)
    assert no_database.exists()


def test_check_counts_what_the_outbox_already_sent_to_a_known_contact(engine: Engine) -> None:
    contact_id = _add_contact(engine)
    _consent(engine, contact_id, "granted")
    with session_scope(engine) as s:
        s.add(
            Message(
                contact_id=contact_id,
                channel="sms",
                purpose="marketing",
                recipient=FR,
                status="delivered",
                send_at=dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC),
                idempotency_key="earlier",
            )
        )
    data = _check("--to", FR, "--at", "2026-06-10T14:00+02:00")
    assert (data["decision"], data["reason"]) == ("DEFER", "frequency_cap")


# --- check, known contacts: consent and suppression come from the database ------------------


def test_check_reads_a_known_contacts_revoked_consent(engine: Engine) -> None:
    contact_id = _add_contact(engine)
    _consent(engine, contact_id, "granted")
    granted = _check("--to", FR, "--at", "2026-06-10T10:00+02:00")
    assert (granted["decision"], granted["known_contact"]) == ("SEND", True)
    _consent(engine, contact_id, "revoked", source="api")
    revoked = _check("--to", FR, "--at", "2026-06-10T10:00+02:00")
    assert (revoked["decision"], revoked["reason"]) == ("BLOCK", "consent_revoked")


def test_a_known_contact_without_consent_is_not_assumed_to_consent(engine: Engine) -> None:
    _add_contact(engine)
    data = _check("--to", FR, "--at", "2026-06-10T10:00+02:00")
    assert (data["decision"], data["reason"], data["known_contact"]) == (
        "BLOCK",
        "no_consent",
        True,
    )


def test_a_soft_opt_in_counts_where_the_pack_allows_it(engine: Engine) -> None:
    fr_id = _add_contact(engine, is_customer=True)
    _consent(engine, fr_id, "granted", source="soft-opt-in")
    de_id = _add_contact(
        engine, phone="+4915112345678", country="DE", timezones=["Europe/Berlin"], is_customer=True
    )
    _consent(engine, de_id, "granted", source="soft-opt-in")
    assert _check("--to", FR, "--at", "2026-06-10T10:00+02:00")["decision"] == "SEND"
    germany = _check("--to", "+4915112345678", "--at", "2026-06-10T10:00+02:00")
    assert (germany["decision"], germany["reason"]) == ("BLOCK", "no_consent")


def test_a_known_contacts_region_and_zone_are_used(engine: Engine) -> None:
    _add_contact(engine, region="67")
    with session_scope(engine) as s:
        contact = s.query(Contact).one()
        record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="granted",
            source="form",
        )  # fmt: skip
    data = _check("--to", FR, "--at", "2026-04-03T10:00+02:00")
    assert (data["decision"], data["reason"]) == ("DEFER", "holiday")


def test_transactional_to_an_erased_number_is_blocked_as_suppressed(
    engine: Engine, settings: Settings
) -> None:
    contact_id = _add_contact(engine)
    with session_scope(engine) as s:
        erase_person(s, settings=settings, contact=s.get_one(Contact, contact_id))
    data = _check("--to", FR, "--at", "2026-06-10T10:00+02:00", "--purpose", "transactional")
    assert (data["decision"], data["reason"], data["known_contact"]) == (
        "BLOCK",
        "suppressed",
        False,
    )


def test_check_refuses_a_landline_for_sms_known_or_not(engine: Engine) -> None:
    offline = _check("--to", "01 42 68 53 00", "--at", "2026-06-10T10:00+02:00", "--offline")
    assert (offline["decision"], offline["reason"]) == ("BLOCK", "not_mobile")
    contact_id = _add_contact(engine, phone="+33142685300")  # stored before its type was
    _consent(engine, contact_id, "granted")
    known = _check("--to", "+33142685300", "--at", "2026-06-10T10:00+02:00")
    assert (known["decision"], known["reason"], known["known_contact"]) == (
        "BLOCK",
        "not_mobile",
        True,
    )
