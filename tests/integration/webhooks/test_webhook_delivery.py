"""Outbound webhooks end to end: events written with their cause, POSTed signed to a real
local HTTP receiver, retried with backoff when it fails, every attempt logged."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme
from sqlalchemy import Engine, event, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.webhooks import service
from textopt.webhooks.delivery import NO_ANSWER, REFUSED, WebhookDeliverer
from textopt.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from textopt.webhooks.schemas import (
    BODY_VERSION,
    CampaignCompletedEvent,
    ContactOptedOutEvent,
    MessageStatusChangedEvent,
)
from textopt.webhooks.signing import verify_signature
from textopt.webhooks.targets import TargetGuard


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it gets and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answers to give in order; then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local receiver, stopped after the test."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def campaign_settings(campaign_settings: Settings) -> Settings:
    """The receivers listen on loopback: these tests opt in as an operator would."""
    return campaign_settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})


def _endpoint(engine: Engine, settings: Settings, url: str, *events: str) -> str:
    with session_scope(engine) as s:
        _, secret = service.create_endpoint(
            s,
            url=url,
            events=events,
            workspace_key=settings.resolved_secret_key(),
            guard=TargetGuard.from_networks(settings.webhook_allowed_networks),
        )
    return secret


def _deliver(engine: Engine, settings: Settings, at: dt.datetime) -> WebhookDeliverer:
    deliverer = WebhookDeliverer(engine, settings, clock=lambda: at, poll_interval=0.01)
    asyncio.run(deliverer.run(once=True))
    return deliverer


def test_an_opt_out_is_posted_signed_and_logged(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    secret = _endpoint(engine, campaign_settings, receiver.url, "contact.opted_out")
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        consent.record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="revoked",
            source="keyword", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip
    now = utcnow()  # the ledger records (and emits) at the real time
    deliverer = _deliver(engine, campaign_settings, now)
    assert deliverer.delivered == 1
    [(headers, body)] = receiver.requests
    assert headers["X-Textopt-Event"] == "contact.opted_out"
    assert verify_signature(
        secret=secret,
        header=headers["X-Textopt-Signature"],
        body=body,
        now=now.timestamp(),
    )
    assert not verify_signature(
        secret=secret,
        header=headers["X-Textopt-Signature"],
        body=body + b" ",
        now=now.timestamp(),
    )
    assert not verify_signature(
        secret="whsec_other",
        header=headers["X-Textopt-Signature"],
        body=body,
        now=WEDNESDAY_10H.timestamp(),
    )
    payload = json.loads(body)
    assert payload["type"] == "contact.opted_out"
    assert payload["data"]["contact_id"] == contact.id
    assert payload["data"]["source"] == "keyword"
    assert headers["X-Textopt-Event-Id"] == payload["id"]
    assert ContactOptedOutEvent.model_validate_json(body).version == BODY_VERSION  # as published
    with session_scope(engine) as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.DELIVERED,
            1,
            200,
        )
        assert len(s.scalars(select(WebhookAttempt)).all()) == 1


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    settings = campaign_settings.model_copy(update={"webhook_max_attempts": 3})
    _endpoint(engine, settings, receiver.url, "contact.opted_out")
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        consent.record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="revoked",
            source="api", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip
    receiver.statuses = [500, 503, 500]
    at = utcnow()
    _deliver(engine, settings, at)
    with session_scope(engine) as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.next_attempt_at == at + dt.timedelta(seconds=30)
    _deliver(engine, settings, at + dt.timedelta(seconds=10))  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    _deliver(engine, settings, at + dt.timedelta(seconds=30))
    with session_scope(engine) as s:
        assert s.scalars(select(WebhookDelivery)).one().next_attempt_at == at + dt.timedelta(
            seconds=90
        )
    _deliver(engine, settings, at + dt.timedelta(seconds=90))
    assert [h["X-Textopt-Attempt"] for h, _ in receiver.requests] == ["1", "2", "3"]
    assert len({h["X-Textopt-Event-Id"] for h, _ in receiver.requests}) == 1
    with session_scope(engine) as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.last_status_code == 500
        codes = [
            a.status_code for a in s.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id))
        ]
        assert codes == [500, 503, 500]


def test_an_unreachable_receiver_is_an_attempt_with_its_error(
    engine: Engine, campaign_settings: Settings
) -> None:
    closed = Receiver()
    url = closed.url
    closed.close()
    _endpoint(engine, campaign_settings, url, "contact.opted_out")
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        consent.record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="revoked",
            source="api", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip
    _deliver(engine, campaign_settings, utcnow())
    with session_scope(engine) as s:
        attempt = s.scalars(select(WebhookAttempt)).one()
        assert attempt.status_code is None
        assert attempt.error == NO_ANSWER  # the kind of network error is not told


def test_a_campaign_sends_status_changes_in_one_insert_per_batch_and_its_completion(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    _endpoint(
        engine, campaign_settings, receiver.url, "message.status_changed", "campaign.completed"
    )
    with session_scope(engine) as s:
        for n in range(5):
            add_contact(s, f"+336123456{n:02d}")
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    inserts: list[int] = []

    def count(conn: object, cursor: object, statement: str, params: object, *rest: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_DELIVERIES"):
            inserts.append(len(params) if isinstance(params, list) else 1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
        run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=2))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with session_scope(engine) as s:
        events = [d.event for d in s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]
    assert events.count("message.status_changed") == 10  # submitted, then delivered, x5
    assert events.count("campaign.completed") == 1
    assert sum(inserts) == 11
    assert len(inserts) < 11
    _deliver(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=3))
    statuses = [json.loads(b)["data"].get("status") for _, b in receiver.requests]
    assert sorted(s for s in statuses if s) == ["delivered"] * 5 + ["submitted"] * 5
    assert len(receiver.requests) == 11
    published: dict[str, type[MessageStatusChangedEvent | CampaignCompletedEvent]] = {
        # every body is what the schema's `webhooks` section describes
        "message.status_changed": MessageStatusChangedEvent,
        "campaign.completed": CampaignCompletedEvent,
    }
    for _, raw in receiver.requests:
        kind = json.loads(raw)["type"]
        assert published[kind].model_validate_json(raw).type == kind


def test_nothing_is_written_when_no_endpoint_subscribes(
    engine: Engine, campaign_settings: Settings
) -> None:
    _endpoint(engine, campaign_settings, "http://127.0.0.1:9/x", "campaign.completed")
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        consent.record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="revoked",
            source="api", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip
        assert s.scalars(select(WebhookDelivery)).all() == []


def _opt_out(engine: Engine) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        consent.record_consent(
            s, digest=TEST_DIGEST,
            contact_id=contact.id, channel="sms", purpose="marketing", action="revoked",
            source="api", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip


def test_an_answer_is_logged_by_its_status_never_its_body(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    _endpoint(engine, campaign_settings, receiver.url, "contact.opted_out")
    _opt_out(engine)
    receiver.statuses = [500]
    _deliver(engine, campaign_settings, utcnow())
    with session_scope(engine) as s:
        attempt = s.scalars(select(WebhookAttempt)).one()
        delivery = s.scalars(select(WebhookDelivery)).one()
    assert (attempt.status_code, attempt.error) == (500, "HTTP 500")  # the body "ok" is not kept
    assert delivery.last_error == "HTTP 500"


def test_a_name_rebound_to_an_internal_address_after_registration_is_not_posted(
    engine: Engine, settings: Settings, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    url = f"http://hooks.example:{port}/hook"
    with session_scope(engine) as s:  # at registration the name is public
        service.create_endpoint(
            s,
            url=url,
            events=["contact.opted_out"],
            workspace_key=settings.resolved_secret_key(),
            guard=TargetGuard(resolver=lambda host, port: ["93.184.215.14"]),
        )
    _opt_out(engine)
    deliverer = WebhookDeliverer(  # then DNS answers loopback; nothing allows it
        engine, settings, clock=utcnow, resolver=lambda host, port: ["127.0.0.1"]
    )
    asyncio.run(deliverer.run(once=True))
    assert receiver.requests == []
    with session_scope(engine) as s:
        attempt = s.scalars(select(WebhookAttempt)).one()
    assert (attempt.status_code, attempt.error) == (None, REFUSED)


def test_the_post_goes_to_the_address_checked_with_the_name_as_host(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    url = f"http://hooks.example:{port}/hook"  # a name no DNS knows: only the check's answer
    resolver = lambda host, port: ["127.0.0.1"]  # noqa: E731
    with session_scope(engine) as s:
        service.create_endpoint(
            s,
            url=url,
            events=["contact.opted_out"],
            workspace_key=campaign_settings.resolved_secret_key(),
            guard=TargetGuard.from_networks(["127.0.0.1/32"], resolver=resolver),
        )
    _opt_out(engine)
    deliverer = WebhookDeliverer(engine, campaign_settings, clock=utcnow, resolver=resolver)
    asyncio.run(deliverer.run(once=True))
    [(headers, _)] = receiver.requests
    assert headers["Host"] == f"hooks.example:{port}"
    assert deliverer.delivered == 1


def test_over_https_the_certificate_is_checked_for_the_name_not_the_address(
    engine: Engine, campaign_settings: Settings, receiver: Receiver
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example").configure_cert(server_context)
    receiver.server.socket = server_context.wrap_socket(receiver.server.socket, server_side=True)
    port = receiver.server.server_address[1]
    resolver = lambda host, port: ["127.0.0.1"]  # noqa: E731
    with session_scope(engine) as s:
        for url in (f"https://hooks.example:{port}/hook", f"https://other.example:{port}/hook"):
            service.create_endpoint(
                s,
                url=url,
                events=["contact.opted_out"],
                workspace_key=campaign_settings.resolved_secret_key(),
                guard=TargetGuard.from_networks(["127.0.0.1/32"], resolver=resolver),
            )
    _opt_out(engine)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    deliverer = WebhookDeliverer(
        engine,
        campaign_settings,
        clock=utcnow,
        resolver=resolver,
        transport=httpx.AsyncHTTPTransport(verify=client_context),
    )
    asyncio.run(deliverer.run(once=True))
    with session_scope(engine) as s:
        rows = s.execute(
            select(WebhookDelivery.endpoint_id, WebhookAttempt.status_code, WebhookAttempt.error)
            .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
            .order_by(WebhookDelivery.endpoint_id)
        ).all()
    # the certificate names hooks.example: the same address under another name is refused
    assert [(code, error) for _, code, error in rows] == [(200, None), (None, NO_ANSWER)]
    [(headers, _)] = receiver.requests
    assert headers["Host"] == f"hooks.example:{port}"
