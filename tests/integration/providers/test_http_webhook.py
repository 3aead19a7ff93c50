"""The generic JSON webhook adapter against a real HTTP peer on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from tests.servers.http_peer import Answer, Peer, http_peer, submit_all

from textopt.errors import ConfigError, ValidationError
from textopt.providers import build_provider
from textopt.providers.base import OutboundMessage, ReceiptStatus, SubmitOutcome, SubmitResult
from textopt.providers.codes import NO_ANSWER
from textopt.providers.http_webhook import WebhookProvider, webhook_inbound, webhook_receipts
from textopt.webhooks.signing import verify_signature


@pytest.fixture
def peer() -> Iterator[Peer]:
    with http_peer() as running:
        yield running


def _options(url: str, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"kind": "webhook", "url": url + "/send", "backoff": 0.001}
    options.update(extra)
    return options


def _message(n: int = 1, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": n,
        "idempotency_key": f"key-{n}",
        "recipient": "+33612345678",
        "body": 'Soldes "-20%" chez Boutique',
        "sender": "BOUTIQUE",
    }
    values.update(fields)
    return OutboundMessage(**values)


def _send(options: dict[str, Any], messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
    return submit_all("hook", options, messages)


def test_a_message_is_posted_as_the_default_json_body_with_its_idempotency_key(
    peer: Peer,
) -> None:
    [result] = _send(_options(peer.url, headers={"Authorization": "Bearer abc"}), [_message()])
    assert (result.outcome, result.provider_message_id) == (SubmitOutcome.ACCEPTED, "wh-1")
    [seen] = peer.seen
    assert seen.path == "/send"
    assert seen.headers["Authorization"] == "Bearer abc"
    assert seen.headers["Idempotency-Key"] == "key-1"
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {
        "to": "+33612345678",
        "from": "BOUTIQUE",
        "text": 'Soldes "-20%" chez Boutique',
        "reference": "key-1",
    }
    assert "X-Textopt-Signature" not in seen.headers


def test_the_body_template_is_filled_value_by_value(peer: Peer) -> None:
    template = {"msg": {"dest": ["{to}"], "content": "{body}"}, "ref": "id-{message_id}", "n": 1}
    _send(_options(peer.url, body=template), [_message(7, body='"}, "evil": {"x": "')])
    assert json.loads(peer.seen[0].body) == {
        "msg": {"dest": ["+33612345678"], "content": '"}, "evil": {"x": "'},
        "ref": "id-7",
        "n": 1,
    }


def test_a_template_naming_an_unknown_field_is_refused_at_configuration() -> None:
    with pytest.raises(ConfigError, match=r"\{recipient\}"):
        build_provider("hook", _options("http://127.0.0.1:9", body={"to": "{recipient}"}))


def test_with_a_secret_each_request_is_signed(peer: Peer) -> None:
    _send(_options(peer.url, secret="s3cret"), [_message()])
    [seen] = peer.seen
    header = seen.headers["X-Textopt-Signature"]
    assert verify_signature(
        secret="s3cret", header=header, body=seen.body, now=float(header[2:12]), tolerance=300
    )


def test_the_provider_id_is_read_at_the_configured_path_else_the_key_is_used(peer: Peer) -> None:
    peer.script(Answer(200, {"data": {"message": {"uuid": "u-1"}}}), Answer(202, {}))
    results = _send(
        _options(peer.url, id_field="data.message.uuid", concurrency=1), [_message(1), _message(2)]
    )
    assert [r.provider_message_id for r in results] == ["u-1", "key-2"]


def test_5xx_is_retried_and_4xx_is_final(peer: Peer) -> None:
    peer.script(Answer(503), Answer(201, {"id": "ok"}))
    [accepted] = _send(_options(peer.url), [_message()])
    assert accepted.outcome == SubmitOutcome.ACCEPTED
    assert len(peer.seen) == 2
    peer.script(Answer(422, {"error": "bad number", "code": "E42"}))
    [refused] = _send(_options(peer.url), [_message(2)])
    assert (refused.outcome, refused.error_code, refused.error_text) == (
        SubmitOutcome.PERMANENT,
        "E42",
        "bad number",
    )
    assert len(peer.seen) == 3


def test_a_timeout_is_ambiguous(peer: Peer) -> None:
    peer.script(Answer(201, {"id": "late"}, delay=0.5))
    [result] = _send(_options(peer.url, timeout=0.1), [_message()])
    assert (result.outcome, result.error_code) == (SubmitOutcome.TEMPORARY, NO_ANSWER)


def test_status_callbacks_become_receipts_and_intermediate_ones_are_skipped() -> None:
    body = json.dumps(
        [
            {"id": "wh-1", "status": "delivered", "at": "2026-11-25T09:00:00+00:00"},
            {"id": "wh-2", "status": "failed", "error_code": "001", "error_text": "unknown"},
            {"id": "wh-3", "status": "sent"},
        ]
    ).encode()
    receipts = webhook_receipts("hook", body)
    assert [(r.provider_message_id, r.status) for r in receipts] == [
        ("wh-1", ReceiptStatus.DELIVERED),
        ("wh-2", ReceiptStatus.FAILED),
    ]
    assert receipts[1].error_code == "001"


def test_inbound_callbacks_need_id_from_and_text() -> None:
    body = b'{"id": "mo-1", "from": "+33612345678", "to": "36111", "text": "STOP"}'
    sms = webhook_inbound("hook", body)
    assert (sms.provider, sms.provider_message_id, sms.sender, sms.text) == (
        "hook",
        "mo-1",
        "+33612345678",
        "STOP",
    )
    with pytest.raises(ValidationError, match="lacks from"):
        webhook_inbound("hook", b'{"id": "mo-1", "text": "STOP"}')
    with pytest.raises(ValidationError, match="not JSON"):
        webhook_inbound("hook", b"STOP")


def test_the_kind_webhook_is_registered() -> None:
    assert isinstance(build_provider("h", _options("http://127.0.0.1:9")), WebhookProvider)
