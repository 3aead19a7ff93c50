"""The integrator's path through a client generated from the live `/openapi.json`.

`openapi-python-client` generates a Python client from the running server's schema (offline,
from a file); the test then does what a shop's booking system does with it: a contact, its
consent, a transactional message sent with an idempotency key and retried, its status read
until delivered (sandbox), today's messages listed, and the signed `message.status_changed`
webhook received on a local endpoint. It also checks that no generated operation returns an
untyped dict.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import queue
import subprocess
import sys
import threading
import time
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import make_key
from tests.servers.web import LiveServer

from textopt.accounts.models import Scope
from textopt.config import Settings
from textopt.webhooks.schemas import MessageStatusChangedEvent
from textopt.webhooks.signing import verify_signature

PACKAGE = "textopt_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def _generate(schema: dict[str, Any], folder: Path) -> ModuleType:
    """Generate the client package from `schema` into `folder` and import it afresh."""
    schema_file = folder / "openapi.json"
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    config = folder / "generator.json"
    config.write_text(json.dumps({"post_hooks": [], "package_name_override": PACKAGE}))
    subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]  # the other database's run generated its own copy
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


def _operation(client: ModuleType, tag: str, operation_id: str) -> Any:
    """The generated module of one operation (`api/<tag>/<operation_id>.py`)."""
    return importlib.import_module(f"{client.__name__}.api.{tag}.{operation_id}")


class _Receiver(BaseHTTPRequestHandler):
    """A customer's webhook endpoint: records each POST (headers, raw body), answers 204."""

    received: queue.Queue[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    """A local webhook endpoint: its URL and what it received."""
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="receiver", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/textopt", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closing() -> Iterator[contextlib.ExitStack]:
    """Closes the generated clients (their connections) at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def live(engine: Engine, campaign_settings: Settings) -> Iterator[LiveServer]:
    """`textopt serve` on the test database: the API, the dispatcher (sandbox), webhooks
    (the local receiver is allowed as an operator allows an internal one)."""
    allowed = campaign_settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})
    with LiveServer(engine, allowed) as server:
        yield server


def _untyped_operations(client: ModuleType, schema: dict[str, Any]) -> list[str]:
    """Operations whose success body the generated client does not type."""
    untyped = []
    for path in schema["paths"].values():
        for operation in path.values():
            successes = [c for c in operation["responses"] if c.startswith("2")]
            if successes == ["204"]:
                continue  # no body to type
            module = _operation(client, operation["tags"][0], operation["operationId"])
            hints = typing.get_type_hints(module.sync_detailed)
            (result,) = typing.get_args(hints["return"])
            for kind in typing.get_args(result) or (result,):
                fields = getattr(kind, "__attrs_attrs__", None)
                bare = fields is not None and [f.name for f in fields] == ["additional_properties"]
                if kind is Any or kind is dict or bare:
                    untyped.append(f"{operation['operationId']}: {kind}")
    return untyped


def _wait_for(
    what: str, check: typing.Callable[[], Any], *, timeout: float = 30, step: float = 0.1
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


def test_generated_client_sends_follows_and_lists_a_message_and_receives_its_signed_webhook(
    live: LiveServer,
    engine: Engine,
    tmp_path: Path,
    receiver: tuple[str, queue.Queue[tuple[dict[str, str], bytes]]],
    closing: contextlib.ExitStack,
) -> None:
    schema = httpx.get(f"{live.url}/openapi.json", timeout=10).json()
    client_package = _generate(schema, tmp_path)
    assert _untyped_operations(client_package, schema) == []

    models = importlib.import_module(f"{PACKAGE}.models")
    admin = closing.enter_context(
        client_package.AuthenticatedClient(
            base_url=live.url, token=make_key(engine, list(Scope), name="admin")
        )
    )
    shop = closing.enter_context(
        client_package.AuthenticatedClient(
            base_url=live.url, token=make_key(engine, [Scope.READ, Scope.WRITE, Scope.SEND])
        )
    )

    # The shop registers its endpoint for message statuses; the secret is given once.
    url, received = receiver
    endpoint = _operation(client_package, "webhooks", "webhooks_create").sync(
        client=admin,
        body=models.EndpointCreate(url=url, events=[models.WebhookEvent.MESSAGE_STATUS_CHANGED]),
    )
    assert isinstance(endpoint, models.EndpointCreated), endpoint
    secret = endpoint.secret

    contact = _operation(client_package, "contacts", "contacts_create").sync(
        client=shop, body=models.ContactCreate(phone="06 12 34 56 78", first_name="Alice")
    )
    assert isinstance(contact, models.ContactDetail), contact
    granted = _operation(client_package, "consent", "consent_grant").sync(
        contact.id,
        client=shop,
        body=models.ConsentRequest(channel=models.Channel.SMS, purpose=models.Purpose.MARKETING),
    )
    assert isinstance(granted, models.ConsentEventRead), granted
    assert granted.action == "granted"

    send = _operation(client_package, "messages", "messages_send")
    body = models.MessageCreate(
        to="+33612345678", text="Bonjour {{ first_name }}, votre rendez-vous est confirmé."
    )
    first = send.sync_detailed(client=shop, body=body, idempotency_key="booking-4711")
    assert first.status_code == 201
    message = first.parsed
    assert isinstance(message, models.MessageSent)
    assert message.created is True
    assert message.contact == contact.id
    assert message.purpose == "transactional"

    again = send.sync_detailed(client=shop, body=body, idempotency_key="booking-4711")
    assert again.status_code == 200
    assert isinstance(again.parsed, models.MessageSent)
    assert (again.parsed.id, again.parsed.created) == (message.id, False)

    other = models.MessageCreate(to="+33612345678", text="Un autre texte")
    conflict = send.sync_detailed(client=shop, body=other, idempotency_key="booking-4711")
    assert conflict.status_code == 409
    assert isinstance(conflict.parsed, models.Problem)
    assert conflict.parsed.field == "Idempotency-Key"

    get = _operation(client_package, "messages", "messages_get")

    def delivered() -> Any:
        found = get.sync(message.id, client=shop)
        assert isinstance(found, models.MessageDetail), found
        return found if found.status == "delivered" else None

    final = _wait_for("the delivery receipt", delivered)
    assert [e.status for e in final.events][-1] == "delivered"
    assert final.body.startswith("Bonjour Alice")

    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    page = _operation(client_package, "messages", "messages_list").sync(
        client=shop, created_since=today, purpose=models.Purpose.TRANSACTIONAL, one_off=True
    )
    assert isinstance(page, models.PageMessageRead), page
    assert [m.id for m in page.items] == [message.id]
    assert page.items[0].status == "delivered"
    assert page.next_ is None  # the last page

    def status_webhook() -> Any:
        while True:
            try:
                headers, raw = received.get(timeout=0.2)
            except queue.Empty:
                return None
            event = json.loads(raw)
            if event["data"]["status"] == "delivered":
                return headers, raw

    headers, raw = _wait_for("the delivered webhook", status_webhook)
    assert headers["x-textopt-event"] == "message.status_changed"
    assert verify_signature(
        secret=secret, header=headers["x-textopt-signature"], body=raw, now=time.time()
    )
    event = MessageStatusChangedEvent.model_validate_json(raw)  # the body the schema describes
    assert event.version == 1
    assert event.id == headers["x-textopt-event-id"]
    assert (event.data.message_id, event.data.campaign_id) == (message.id, None)
