"""`textopt flows` as an operator runs it: apply a TOML file (create, then a version), activate,
record an event, `run --once` at chosen instants, stats and preview."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json, run_cli
from tests.factories.flows import REMINDER, add_event, flow_messages

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import ValidationError

REMINDER_TOML = """
name = "Rappel"
exit_on = ["appointment_cancelled"]

[trigger]
kind = "event"
event = "appointment_booked"
key = "appointment_id"

[[steps]]
kind = "wait"
until = "appointment_at - 24h"

[[steps]]
kind = "send"
channel = "sms"
purpose = "transactional"
template = "Rappel : rendez-vous {{ when | datetime }}. OUI pour confirmer."
asks = "appointment"
"""


def test_a_flow_applied_from_toml_runs_from_the_command_line(
    engine: Engine, campaign_settings: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "rappel.toml"
    file.write_text(REMINDER_TOML, encoding="utf-8")
    created = cli_json("flows", "apply", str(file))
    assert (created["created"], created["state"]) == (True, "draft")
    assert cli_json("flows", "apply", str(file))["new_version"] is None
    file.write_text(REMINDER_TOML.replace("24h", "3h"), encoding="utf-8")
    assert cli_json("flows", "apply", str(file))["new_version"] == 2
    assert cli_json("flows", "activate", "Rappel")["state"] == "active"
    assert [f["name"] for f in cli_json("flows", "list")] == ["Rappel"]
    now = utcnow()
    appointment = now.replace(microsecond=0) + dt.timedelta(hours=2)
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345077", consent_at=None)
        add_event(
            s, campaign_settings, contact, "appointment_booked", now=now,
            appointment_id="X-1", appointment_at=appointment.isoformat(),
        )  # fmt: skip
        contact_id = contact.id
    tally = cli_json("flows", "run", "--once")
    assert (tally["started"], tally["sent"]) == (1, 1)  # 3 hours before is already past
    assert len(flow_messages(engine)) == 1
    stats = cli_json("flows", "stats", "Rappel")
    assert stats[0]["steps"][2]["sent"] == 1
    assert "sent" in run_cli("flows", "preview", "Rappel", "--contact", str(contact_id))
    assert "Rappel (active, version 2)" in run_cli("flows", "show", "Rappel")
    [occurrence] = cli_json("flows", "occurrences", "--contact", str(contact_id))
    assert occurrence["occurrence_key"] == "appointment_id=X-1"
    assert [e["outcome"] for e in occurrence["log"]] == ["entered", "waiting", "sent", "completed"]
    assert "step 2 sent" in run_cli("flows", "occurrences", "Rappel")


def test_a_flow_file_in_json_applies_and_a_bad_one_names_its_step(
    engine: Engine, campaign_settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "rappel.json"
    good.write_text(json.dumps(REMINDER), encoding="utf-8")
    assert cli_json("flows", "apply", str(good))["created"] is True
    bad = tmp_path / "bad.toml"
    bad.write_text(REMINDER_TOML.replace("24h", "24x"), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"step 1 \(wait\): 'appointment_at - 24x' is not"):
        run_cli("flows", "apply", str(bad))
