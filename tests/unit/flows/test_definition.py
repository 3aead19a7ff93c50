"""Flow definitions: read from TOML and JSON alike, written back the same, and refused with
errors that name the step and the field."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from textopt.errors import ValidationError
from textopt.flows.definition import (
    Send,
    TriggerKind,
    Wait,
    definition_from_toml,
    parse_definition,
)

TOML = """
name = "Rappel"
exit_on = ["appointment_cancelled", "Appointment_Cancelled"]

[trigger]
kind = "event"
event = "Appointment_Booked"
key = "appointment_id"

[[steps]]
kind = "wait"
until = "appointment_at - 24h"
at = "10:00"

[[steps]]
kind = "send"
purpose = "transactional"
template = "Rappel : {{ when | time }}"
validity = "6h"
asks = "appointment"
"""


def _flow(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Relance",
        "trigger": {"kind": "event", "event": "cart_abandoned"},
        "steps": [
            {"kind": "wait", "duration": "2h"},
            {"kind": "send", "purpose": "marketing", "template": "Votre panier"},
        ],
    }
    data.update(changes)
    return data


def test_a_toml_flow_reads_into_its_parts_and_back() -> None:
    flow = definition_from_toml(TOML)
    assert flow.trigger.kind == TriggerKind.EVENT
    assert flow.trigger.event == "appointment_booked"
    assert flow.exit_on == ("appointment_cancelled",)
    wait, send = flow.steps
    assert isinstance(wait, Wait)
    assert wait.until is not None
    assert wait.until.offset == -dt.timedelta(hours=24)
    assert wait.at == (10, 0)
    assert isinstance(send, Send)
    assert (send.validity, send.asks, send.channel) == (dt.timedelta(hours=6), "appointment", "sms")
    assert parse_definition(flow.to_data()) == flow


@pytest.mark.parametrize(
    ("steps", "field", "message"),
    [
        (
            [{"kind": "wait", "until": "appointment_at - 24x"}],
            "steps[0].until",
            "step 1 (wait): 'appointment_at - 24x' is not a duration",
        ),
        ([{"kind": "wait"}], "steps[0].duration", "step 1 (wait): give either 'duration'"),
        ([{"kind": "pause"}], "steps[0].kind", "step 1: 'pause' is not a kind of step"),
        (
            [{"kind": "wait", "duration": "1h", "at": "25:00"}],
            "steps[0].at",
            "step 1 (wait): '25:00' is not a local time",
        ),
        (
            [{"kind": "condition", "segment": "tag:"}],
            "steps[0].segment",
            "step 1 (condition): the segment expression does not read",
        ),
        (
            [{"kind": "send", "purpose": "promo", "template": "x"}],
            "steps[0].purpose",
            "step 1 (send): 'promo' is not a purpose",
        ),
        (
            [{"kind": "send", "channel": "email", "purpose": "marketing", "template": "<p>x</p>"}],
            "steps[0].subject",
            "step 1 (send): 'subject' is required",
        ),
        (
            [{"kind": "send", "purpose": "marketing", "template": "x", "colour": "red"}],
            "steps[0].colour",
            "step 1 (send): unknown field 'colour'",
        ),
        ([{"kind": "wait", "duration": "1h"}], "steps", "a flow needs at least one send step"),
        (
            [{"kind": "send", "purpose": "marketing", "template": "Bonjour {{ first_name"}],
            "steps[0].template",
            "step 1 (send): the template does not read",
        ),
        (
            [{"kind": "send", "purpose": "marketing", "template": "x", "validity": "1m"}],
            "steps[0].validity",
            "at least 5m",
        ),
    ],
)
def test_a_bad_step_is_named_with_its_field(
    steps: list[dict[str, Any]], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_definition(_flow(steps=steps))
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("trigger", "field", "message"),
    [
        ({"kind": "webhook"}, "trigger.kind", "'webhook' is not a kind"),
        ({"kind": "event"}, "trigger.event", "'event' is required"),
        ({"kind": "event", "event": "a b"}, "trigger.event", "is not an event type"),
        ({"kind": "date_attribute", "attribute": "x", "at": "10:00"}, "trigger.at", "yearly"),
        ({"kind": "optin_confirmed", "channel": "fax"}, "trigger.channel", "'fax' is not a"),
    ],
)
def test_a_bad_trigger_is_named_with_its_field(
    trigger: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_definition(_flow(trigger=trigger))
    assert caught.value.field == field
    assert message in caught.value.message


def test_an_event_property_needs_an_event_trigger() -> None:
    steps = [
        {"kind": "wait", "until": "event.delivery_at + 2d"},
        {"kind": "send", "purpose": "marketing", "template": "x"},
    ]
    with pytest.raises(ValidationError, match="needs an event trigger"):
        parse_definition(_flow(trigger={"kind": "optin_confirmed"}, steps=steps))


def test_a_name_of_digits_alone_is_refused_as_it_would_read_as_an_id() -> None:
    with pytest.raises(ValidationError, match="has a letter") as caught:
        parse_definition(_flow(name="2026"))
    assert caught.value.field == "name"


def test_a_file_that_is_not_toml_says_so() -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        definition_from_toml("name = ")


def test_every_example_of_the_documentation_reads() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "flows.md"
    examples = re.findall(r"```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert len(examples) >= 3
    for example in examples:
        assert definition_from_toml(example).steps
