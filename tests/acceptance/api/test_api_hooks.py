"""Provider callbacks and unsubscribe links over HTTP: signed or refused, then applied."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError
from tests.factories.api import BASE_URL, ApiClient, client, make_app
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.unsubscribe import unsubscribe_token
from textopt.db.engine import SNAPSHOT, session_scope
from textopt.inbound.models import InboundMessage
from textopt.outbox.models import Message
from textopt.providers.http_signatures import twilio_signature
from textopt.webhooks.signing import sign

TOKEN = "twilio-auth-token"
SECRET = "generic-callback-secret"
PUBLIC = "https://sms.boutique.example"


@pytest.fixture
def hook_settings(campaign_settings: Settings) -> Settings:
    providers = {
        **campaign_settings.providers,
        "tw": {"kind": "twilio", "account_sid": "AC1", "auth_token": TOKEN, "from": "+15005550006"},
        "gw": {"kind": "webhook", "url": "https://gw.example/send", "secret": SECRET},
    }
    return campaign_settings.model_copy(update={"providers": providers, "public_base_url": PUBLIC})


@pytest.fixture
def hooks(engine: Engine, hook_settings: Settings) -> Iterator[ApiClient]:
    app: FastAPI = make_app(engine, hook_settings)
    with client(app) as c:
        yield c


def _twilio(hooks: ApiClient, path: str, params: dict[str, str], *, token: str = TOKEN):  # type: ignore[no-untyped-def]
    signature = twilio_signature(auth_token=token, url=f"{PUBLIC}{path}", params=params)
    return hooks.post(
        path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


def _submitted(engine: Engine, provider: str, provider_id: str) -> int:
    with session_scope(engine) as s:
        message = Message(
            channel="sms",
            purpose="transactional",
            recipient="+33612345678",
            status="submitted",
            provider=provider,
            provider_message_id=provider_id,
            idempotency_key=f"k-{provider_id}",
        )
        s.add(message)
        s.flush()
        return message.id


def _status(engine: Engine, message_id: int) -> str:
    with session_scope(engine) as s:
        return s.get_one(Message, message_id).status


def test_a_signed_twilio_status_callback_delivers_and_a_forged_one_is_refused(
    engine: Engine, hooks: ApiClient
) -> None:
    message_id = _submitted(engine, "tw", "SM123")
    params = {"MessageSid": "SM123", "MessageStatus": "delivered", "AccountSid": "AC1"}
    forged = _twilio(hooks, "/hooks/twilio/status", params, token="not-the-token")
    assert forged.status_code == 401
    assert forged.json()["field"] == "signature"
    assert _status(engine, message_id) == "submitted"
    unsigned = hooks.post("/hooks/twilio/status", data=params)
    assert unsigned.status_code == 401
    assert _twilio(hooks, "/hooks/twilio/status", params).status_code == 204
    assert _status(engine, message_id) == "delivered"


def test_a_stop_through_twilio_revokes_consent_and_answers_twiml(
    engine: Engine, hooks: ApiClient
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678").id
    params = {"MessageSid": "SM9", "From": "+33612345678", "To": "36111", "Body": "Stop"}
    response = _twilio(hooks, "/hooks/twilio/inbound", params)
    assert response.status_code == 200
    assert response.text.endswith("<Response></Response>")
    with session_scope(engine) as s:
        state = consent.current_consent(s, contact_id=contact_id)[("sms", "marketing")]
        assert (state.status, state.source) == ("revoked", "keyword")
        assert s.scalars(select(InboundMessage.text)).all() == ["Stop"]


def test_a_generic_callback_needs_its_hmac(engine: Engine, hooks: ApiClient) -> None:
    message_id = _submitted(engine, "gw", "g-1")
    body = json.dumps({"id": "g-1", "status": "delivered"}).encode()
    stale = sign(secret=SECRET, body=body, timestamp=int(time.time()) - 3600)
    refused = hooks.post(
        "/hooks/generic/gw/status", content=body, headers={"X-Textopt-Signature": stale}
    )
    assert refused.status_code == 401
    fresh = sign(secret=SECRET, body=body, timestamp=int(time.time()))
    accepted = hooks.post(
        "/hooks/generic/gw/status", content=body, headers={"X-Textopt-Signature": fresh}
    )
    assert accepted.status_code == 204
    assert _status(engine, message_id) == "delivered"
    assert hooks.post("/hooks/generic/nope/status", content=body).status_code == 404


@pytest.mark.parametrize("header", [None, "t=1,v1=00", "v1=00", "t=" + "9" * 30 + ",v1=00"])
def test_a_generic_callback_without_a_fresh_signature_is_refused_unread(
    hooks: ApiClient, header: str | None
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"id": "g-1", "status": "delivered", "pad": "'
        while sent < 512 * 1024:
            sent += 2**14
            yield b"x" * 2**14
        yield b'"}'

    headers = {"X-Textopt-Signature": header} if header else {}
    answer = hooks.post("/hooks/generic/gw/status", content=body(), headers=headers)
    assert answer.status_code == 401
    assert sent <= 2**14  # refused on its header, not after reading half a megabyte


def test_one_click_unsubscribe_revokes_email_consent_once(
    engine: Engine, hooks: ApiClient, hook_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678", email="alice@example.org", consent_at=None)
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            channel="email",
            purpose="marketing",
            action="granted",
            source="form",
        )
        contact_id = contact.id
    token = unsubscribe_token(
        contact_id=contact_id,
        channel="email",
        campaign_id=None,
        key=hook_settings.resolved_secret_key(),
    )
    page = hooks.get(f"/u/{token}")
    assert page.status_code == 200
    assert 'method="post"' in page.text
    with session_scope(engine) as s:  # opening the page (a mail scanner) changes nothing
        state = consent.current_consent(s, contact_id=contact_id)[("email", "marketing")]
        assert state.status == "granted"
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    done = hooks.post(f"/u/{token}", content="List-Unsubscribe=One-Click", headers=one_click)
    assert done.status_code == 200
    again = hooks.post(f"/u/{token}", content="List-Unsubscribe=One-Click", headers=one_click)
    assert "Already done" in again.text
    with session_scope(engine) as s:
        state = consent.current_consent(s, contact_id=contact_id)[("email", "marketing")]
        assert (state.status, state.source) == ("revoked", "unsubscribe-link")
        revocations = [
            e for e, _ in consent.history(s, contact_id=contact_id) if e.action == "revoked"
        ]
        assert len(revocations) == 1
    assert hooks.get(f"/u/{token[:-2]}xx").status_code == 422


def test_a_value_the_database_cannot_store_is_a_422_not_a_500(
    engine: Engine, campaign_settings: Settings
) -> None:
    from tests.factories.api import make_key

    from textopt.accounts.models import Scope

    app = make_app(engine, campaign_settings)
    with client(app, make_key(engine, list(Scope))) as admin:
        response = admin.post("/v1/consent/texts", json={"body": "0", "version": "v\u0000"})
    assert response.status_code == 422


# --- acknowledged only once committed ----------------------------------------------------


def _committed_status(engine: Engine, message_id: int) -> str:
    """The message's status as another connection sees it (committed data only, no lock)."""
    with engine.connect().execution_options(**{SNAPSHOT: True}) as connection:
        return connection.execute(
            select(Message.status).where(Message.id == message_id)
        ).scalar_one()


@contextlib.contextmanager
def _commits_fail(engine: Engine) -> Iterator[None]:
    """Every COMMIT on `engine` fails like a database that went away, until the block ends."""

    def refuse(connection: object) -> None:
        raise OperationalError("COMMIT", None, Exception("disk I/O error"))

    event.listen(engine, "commit", refuse)
    try:
        yield
    finally:
        event.remove(engine, "commit", refuse)


def _generic_post(hooks: ApiClient, path: str, payload: dict[str, str]) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = sign(secret=SECRET, body=body, timestamp=int(time.time()))
    return hooks.post(path, content=body, headers={"X-Textopt-Signature": signature})


def test_a_status_callback_whose_commit_fails_is_a_503_to_retry_and_the_retry_applies(
    engine: Engine, hooks: ApiClient
) -> None:
    message_id = _submitted(engine, "tw", "SM500")
    params = {"MessageSid": "SM500", "MessageStatus": "delivered", "AccountSid": "AC1"}
    with _commits_fail(engine):
        refused = _twilio(hooks, "/hooks/twilio/status", params)
    assert refused.status_code == 503  # never a 2xx for a receipt that was not stored
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"].isdigit()
    assert refused.json()["code"] == "database_unavailable"
    assert "disk I/O" not in refused.text  # the driver's words stay in the log
    assert _status(engine, message_id) == "submitted"
    assert _twilio(hooks, "/hooks/twilio/status", params).status_code == 204
    assert _status(engine, message_id) == "delivered"


def test_an_inbound_stop_whose_commit_fails_is_not_acknowledged_and_nothing_is_stored(
    engine: Engine, hooks: ApiClient
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678").id
    payload = {"id": "mo-7", "from": "+33612345678", "to": "36111", "text": "STOP"}
    with _commits_fail(engine):
        refused = _generic_post(hooks, "/hooks/generic/gw/inbound", payload)
        twiml = _twilio(
            hooks,
            "/hooks/twilio/inbound",
            {"MessageSid": "SM8", "From": "+33612345678", "To": "36111", "Body": "Stop"},
        )
    assert (refused.status_code, twiml.status_code) == (503, 503)
    with session_scope(engine) as s:
        assert s.scalars(select(InboundMessage.id)).all() == []
        state = consent.current_consent(s, contact_id=contact_id)[("sms", "marketing")]
        assert state.status == "granted"


def test_an_unsubscribe_whose_commit_fails_does_not_say_done(
    engine: Engine, hooks: ApiClient, hook_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678", email="bob@example.org").id
    token = unsubscribe_token(
        contact_id=contact_id,
        channel="email",
        campaign_id=None,
        key=hook_settings.resolved_secret_key(),
    )
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    with _commits_fail(engine):
        refused = hooks.post(f"/u/{token}", content="List-Unsubscribe=One-Click", headers=one_click)
    assert refused.status_code == 503
    assert "Done" not in refused.text
    done = hooks.post(f"/u/{token}", content="List-Unsubscribe=One-Click", headers=one_click)
    assert "Done" in done.text
    with session_scope(engine) as s:
        state = consent.current_consent(s, contact_id=contact_id)[("email", "marketing")]
        assert state.status == "revoked"


def test_a_callback_is_answered_only_once_its_change_is_committed(
    engine: Engine, hook_settings: Settings
) -> None:
    message_id = _submitted(engine, "gw", "g-2")
    seen_at_answer: list[tuple[int, str]] = []
    app = make_app(engine, hook_settings)

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        async def send_watched(message: Any) -> None:
            if message["type"] == "http.response.start":  # the provider learns the outcome
                seen_at_answer.append((message["status"], _committed_status(engine, message_id)))
            await send(message)

        await app(scope, receive, send_watched)

    body = json.dumps({"id": "g-2", "status": "delivered"}).encode()
    headers = {"X-Textopt-Signature": sign(secret=SECRET, body=body, timestamp=int(time.time()))}

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=watched)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            return await http.post("/hooks/generic/gw/status", content=body, headers=headers)

    assert asyncio.run(scenario()).status_code == 204
    assert seen_at_answer == [(204, "delivered")]
