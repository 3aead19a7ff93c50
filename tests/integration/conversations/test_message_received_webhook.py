"""`message.received` end to end: a person's message stored, its event POSTed signed to a
real local receiver, with the versioned body the API schema publishes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.integration.webhooks.test_webhook_delivery import Receiver

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.webhooks import service
from textopt.webhooks.delivery import WebhookDeliverer
from textopt.webhooks.schemas import MessageReceivedEvent
from textopt.webhooks.signing import verify_signature
from textopt.webhooks.targets import TargetGuard


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local receiver, stopped after the test."""
    r = Receiver()
    yield r
    r.close()


def test_a_message_received_is_delivered_signed_with_its_conversation(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    settings = campaign_settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})
    with session_scope(engine) as s:
        _, secret = service.create_endpoint(
            s,
            url=receiver.url,
            events=["message.received"],
            workspace_key=settings.resolved_secret_key(),
            guard=TargetGuard.from_networks(settings.webhook_allowed_networks),
        )
        contact_id = add_contact(s, "+33612345678").id
    now = utcnow()
    with session_scope(engine) as s:
        stored = text_in(s, settings, sender="+33612345678", text="STOP", message_id="m1", at=now)
        inbound_id = stored.message.id
    deliverer = WebhookDeliverer(engine, settings, clock=lambda: now, poll_interval=0.01)
    asyncio.run(deliverer.run(once=True))
    assert deliverer.delivered == 1
    [(headers, body)] = receiver.requests
    assert headers["X-Textopt-Event"] == "message.received"
    assert verify_signature(
        secret=secret, header=headers["X-Textopt-Signature"], body=body, now=now.timestamp()
    )
    event = MessageReceivedEvent.model_validate_json(body)  # the published body
    assert (event.data.inbound_id, event.data.contact_id) == (inbound_id, contact_id)
    assert (event.data.text, event.data.keyword) == ("STOP", "stop")
    assert event.data.conversation_id is not None
    assert json.loads(body)["data"]["from"] == "+33612345678"
