"""Provider callbacks: signed ones are applied, unsigned or wrongly signed ones never are."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST, feedback_for

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings, get_settings
from textopt.consent import service as consent
from textopt.errors import ConfigError, SignatureError
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.inbound.webhooks import (
    callback_secret,
    handle_twilio_inbound,
    handle_twilio_status,
    handle_webhook_inbound,
    handle_webhook_status,
)
from textopt.outbox.models import Message
from textopt.providers.http_signatures import twilio_signature
from textopt.webhooks.signing import sign

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
STATUS_URL = "https://textopt.example/hooks/twilio-main/status"
INBOUND_URL = "https://textopt.example/hooks/twilio-main/inbound"
TOKEN = "twilio-auth-token"
SECRET = "hook-secret"


@pytest.fixture
def hook_settings(campaign_settings: Settings) -> Settings:
    providers: dict[str, dict[str, Any]] = {
        **campaign_settings.providers,
        "twilio-main": {
            "kind": "twilio",
            "account_sid": "AC1",
            "auth_token": TOKEN,
            "from": "+33700000001",
        },
        "hook": {"kind": "webhook", "url": "http://127.0.0.1:9/send", "secret": SECRET},
    }
    return campaign_settings.model_copy(update={"providers": providers})


def _submitted(session: Session, settings: Settings, *, account: str, provider_id: str) -> int:
    message, _ = enqueue_message(
        session, settings=settings, to="+33612345678", text="RDV demain", provider=account, now=NOW
    )
    message.status, message.provider_message_id = "submitted", provider_id
    session.flush()
    return message.id


def _status(session: Session, message_id: int) -> str:
    return session.get_one(Message, message_id, populate_existing=True).status


def _twilio(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return twilio_signature(auth_token=token, url=url, params=params)


def _twilio_status(session: Session, params: dict[str, str], signature: str | None = "sign") -> int:
    """Deliver a status callback to account twilio-main, signed unless told otherwise."""
    return handle_twilio_status(
        session,
        feedback=feedback_for(get_settings()),  # the test's provider accounts
        account="twilio-main",
        url=STATUS_URL,
        params=params,
        signature=_twilio(STATUS_URL, params) if signature == "sign" else signature,
        auth_token=TOKEN,
        now=NOW,
    )


def test_a_signed_twilio_status_callback_delivers_the_message(
    session: Session, hook_settings: Settings
) -> None:
    message_id = _submitted(session, hook_settings, account="twilio-main", provider_id="SM1")
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    assert _twilio_status(session, params) == 1
    assert _status(session, message_id) == "delivered"


def test_an_undelivered_twilio_status_fails_the_message_with_its_error_code(
    session: Session, hook_settings: Settings
) -> None:
    message_id = _submitted(session, hook_settings, account="twilio-main", provider_id="SM2")
    params = {"MessageSid": "SM2", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    _twilio_status(session, params)
    message = session.get_one(Message, message_id, populate_existing=True)
    assert (message.status, message.error_code) == ("failed", "30003")


def test_an_intermediate_twilio_status_changes_nothing(
    session: Session, hook_settings: Settings
) -> None:
    message_id = _submitted(session, hook_settings, account="twilio-main", provider_id="SM3")
    params = {"MessageSid": "SM3", "MessageStatus": "sent"}
    assert _twilio_status(session, params) == 0
    assert _status(session, message_id) == "submitted"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "not-a-signature",
        twilio_signature(
            auth_token="other-token",
            url=STATUS_URL,
            params={"MessageSid": "SM4", "MessageStatus": "failed"},
        ),
        # signed for another status: the body was changed on the way
        twilio_signature(
            auth_token=TOKEN,
            url=STATUS_URL,
            params={"MessageSid": "SM4", "MessageStatus": "delivered"},
        ),
    ],
)
def test_an_unsigned_or_wrongly_signed_twilio_status_is_rejected_logged_and_not_applied(
    session: Session,
    hook_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    signature: str | None,
) -> None:
    message_id = _submitted(session, hook_settings, account="twilio-main", provider_id="SM4")
    caplog.set_level(logging.WARNING, logger="textopt.inbound.webhooks")
    with pytest.raises(SignatureError, match="status callback for account 'twilio-main'"):
        _twilio_status(session, {"MessageSid": "SM4", "MessageStatus": "failed"}, signature)
    assert _status(session, message_id) == "submitted"
    assert "rejected status callback for account twilio-main" in caplog.text


def test_a_signed_twilio_inbound_stop_is_applied_once_even_when_retried(
    session: Session, hook_settings: Settings
) -> None:
    add_contact(session, "+33612345678")
    params = {"MessageSid": "SMmo1", "From": "+33612345678", "To": "+33700000001", "Body": "STOP"}
    results = [
        handle_twilio_inbound(
            session,
            account="twilio-main",
            url=INBOUND_URL,
            params=params,
            signature=_twilio(INBOUND_URL, params),
            auth_token=TOKEN,
            settings=hook_settings,
            now=NOW,
        )
        for _ in range(2)
    ]
    assert [r.created for r in results] == [True, False]
    assert results[0].action == InboundAction.STOPPED
    assert results[0].reply is not None
    assert results[0].reply.provider == "twilio-main"  # answered on the account it came in on
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert consent.suppression_reasons(
        session, digest=TEST_DIGEST, phone="+33612345678", channel="sms"
    ) == ["keyword"]


def test_a_wrongly_signed_twilio_inbound_stores_nothing(
    session: Session, hook_settings: Settings
) -> None:
    params = {"MessageSid": "SMmo2", "From": "+33612345678", "To": "+33700000001", "Body": "STOP"}
    forged = {**params, "Body": "hello"}
    with pytest.raises(SignatureError):
        handle_twilio_inbound(
            session,
            account="twilio-main",
            url=INBOUND_URL,
            params=params,
            signature=_twilio(INBOUND_URL, forged),
            auth_token=TOKEN,
            settings=hook_settings,
        )
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert (
        consent.suppression_reasons(
            session, digest=TEST_DIGEST, phone="+33612345678", channel="sms"
        )
        == []
    )


def _signed(
    body: dict[str, Any] | list[dict[str, Any]], at: dt.datetime = NOW
) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, sign(secret=SECRET, body=raw, timestamp=int(at.timestamp()))


def test_a_signed_generic_status_callback_is_applied(
    session: Session,
    hook_settings: Settings,
    settings: Settings,
) -> None:
    message_id = _submitted(session, hook_settings, account="hook", provider_id="wh-1")
    body, header = _signed({"id": "wh-1", "status": "delivered"})
    changed = handle_webhook_status(
        session,
        feedback=feedback_for(settings),
        account="hook",
        body=body,
        signature_header=header,
        secret=SECRET,
        now=NOW,
    )
    assert changed == 1
    assert _status(session, message_id) == "delivered"


def test_a_replayed_or_unsigned_generic_callback_is_rejected(
    session: Session,
    hook_settings: Settings,
    settings: Settings,
) -> None:
    message_id = _submitted(session, hook_settings, account="hook", provider_id="wh-2")
    body, old = _signed({"id": "wh-2", "status": "failed"}, at=NOW - dt.timedelta(minutes=10))
    for header in (old, None, old.replace("v1=", "v1=0")):
        with pytest.raises(SignatureError):
            handle_webhook_status(
                session,
                feedback=feedback_for(settings),
                account="hook",
                body=body,
                signature_header=header,
                secret=SECRET,
                now=NOW,
            )
    assert _status(session, message_id) == "submitted"


def test_a_signed_generic_inbound_message_is_stored_on_the_contact(
    session: Session, hook_settings: Settings
) -> None:
    alice = add_contact(session, "+33612345678")
    body, header = _signed({"id": "mo-9", "from": "+33612345678", "to": "36111", "text": "Merci"})
    result = handle_webhook_inbound(
        session,
        account="hook",
        body=body,
        signature_header=header,
        secret=SECRET,
        settings=hook_settings,
        now=NOW,
    )
    assert (result.action, result.message.contact_id) == (InboundAction.STORED, alice.id)
    with pytest.raises(SignatureError):
        handle_webhook_inbound(
            session,
            account="hook",
            body=body + b" ",
            signature_header=header,
            secret=SECRET,
            settings=hook_settings,
            now=NOW,
        )


def test_callback_secret_comes_from_the_account_configuration(hook_settings: Settings) -> None:
    assert callback_secret(hook_settings, account="twilio-main") == TOKEN
    assert callback_secret(hook_settings, account="hook") == SECRET
    with pytest.raises(ConfigError, match="no callback secret"):
        callback_secret(hook_settings, account="sandbox")
    with pytest.raises(ConfigError, match="not configured"):
        callback_secret(hook_settings, account="nope")
