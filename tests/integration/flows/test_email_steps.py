"""A flow's email step: rendered with the trigger's data, decided by the policy like a
campaign's email, with the unsubscribe headers of a promotion; sent by the dispatcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import WEDNESDAY_10H, run_dispatcher
from tests.factories.flows import active_flow, add_event, flow_messages, run_at
from tests.factories.multichannel import add_person

from textopt.config import Settings, reset_settings
from textopt.db.engine import session_scope

FOLLOW_UP = {
    "name": "Suivi de commande",
    "trigger": {"kind": "event", "event": "order_delivered", "key": "order"},
    "steps": [
        {
            "kind": "send",
            "channel": "email",
            "purpose": "marketing",
            "subject": "Votre commande {{ event.order }}, {{ first_name }}",
            "template": "<p>Merci {{ first_name }} ! Votre avis sur {{ event.order }} ?</p>",
        }
    ],
}


@pytest.fixture
def mail_settings(
    campaign_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The campaign settings plus a sandbox email account."""
    mail = {
        "kind": "sandbox",
        "channel": "email",
        "rate": 10_000,
        "receipt_delay": 0.01,
        "failure_rate": 0,
        "expiry_rate": 0,
        "journal": str(tmp_path / "mail.jsonl"),
    }
    providers = {**campaign_settings.providers, "mail": mail}
    values = campaign_settings.model_copy(
        update={"providers": providers, "email_unsubscribe_mailto": "stop@example.fr"}
    )
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(providers))
    reset_settings(values)
    yield values
    reset_settings(campaign_settings)


def test_an_email_step_goes_through_the_policy_and_the_dispatcher(
    engine: Engine, mail_settings: Settings
) -> None:
    with session_scope(engine) as s:
        active_flow(s, FOLLOW_UP, now=WEDNESDAY_10H)
        subscribed = add_person(s, phone=None, email="lea@example.fr")
        refused = add_person(s, phone=None, email="tom@example.fr", first_name="Tom", mail=None)
        for person in (subscribed, refused):
            add_event(s, mail_settings, person, "order_delivered", now=WEDNESDAY_10H, order="B-9")
    _, tally = run_at(engine, mail_settings, WEDNESDAY_10H)
    assert (tally.sent, tally.skipped) == (1, 1)
    sent, blocked = sorted(flow_messages(engine), key=lambda m: m.status == "blocked")
    assert (sent.channel, sent.provider, sent.subject) == (
        "email",
        "mail",
        "Votre commande B-9, Léa",
    )
    assert "Votre avis sur B-9" in (sent.html or "")
    assert sent.headers is not None
    # the same one-click headers as a campaign's promotion, the workspace's mailto included
    assert sent.headers["List-Unsubscribe"].startswith("<http")
    assert "<mailto:stop@example.fr?subject=unsubscribe%20" in sent.headers["List-Unsubscribe"]
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (blocked.status, blocked.reason) == ("blocked", "no_consent")
    run_dispatcher(engine, mail_settings, at=WEDNESDAY_10H)
    delivered = {m.recipient: m.status for m in flow_messages(engine)}
    assert delivered["lea@example.fr"] == "delivered"
