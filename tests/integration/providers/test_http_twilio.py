"""The Twilio-compatible adapter against a real HTTP peer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from tests.servers.http_peer import Answer, Peer, closed_port, http_peer, submit_all

from textopt.errors import ConfigError
from textopt.providers import build_provider
from textopt.providers.base import OutboundMessage, SubmitOutcome, SubmitResult
from textopt.providers.codes import CONNECT_FAILED, NO_ANSWER
from textopt.providers.http_transport import HttpOptions, post_with_retries
from textopt.providers.http_twilio import TwilioProvider


@pytest.fixture
def peer() -> Iterator[Peer]:
    with http_peer() as running:
        yield running


def _options(peer_url: str, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "kind": "twilio",
        "account_sid": "AC123",
        "auth_token": "tok",
        "from": "+33700000001",
        "status_callback": "https://textopt.example/hooks/twilio/status",
        "base_url": peer_url,
        "backoff": 0.001,
        "timeout": 2.0,
    }
    options.update(extra)
    return options


def _message(n: int = 1, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": n,
        "idempotency_key": f"key-{n}",
        "recipient": "+33612345678",
        "body": f"Votre RDV n°{n} est confirmé",
    }
    values.update(fields)
    return OutboundMessage(**values)


def _send(options: dict[str, Any], messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
    return submit_all("twilio-main", options, messages)


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


def test_a_message_is_one_form_post_with_basic_auth_callback_and_idempotency_key(
    peer: Peer,
) -> None:
    [result] = _send(_options(peer.url), [_message()])
    assert result.outcome == SubmitOutcome.ACCEPTED
    assert result.provider_message_id == "SM" + "0" * 31 + "1"
    [seen] = peer.seen
    assert seen.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert seen.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert seen.headers["I-Twilio-Idempotency-Token"] == "key-1"
    assert _form(seen.body) == {
        "To": "+33612345678",
        "From": "+33700000001",
        "Body": "Votre RDV n°1 est confirmé",
        "StatusCallback": "https://textopt.example/hooks/twilio/status",
    }


def test_a_messaging_service_replaces_from_unless_the_message_names_a_sender(peer: Peer) -> None:
    options = _options(peer.url, messaging_service_sid="MG9", status_callback=None)
    del options["from"]
    _send(options, [_message(1), _message(2, sender="BOUTIQUE")])
    forms = sorted((_form(s.body) for s in peer.seen), key=lambda f: f["Body"])
    assert forms[0] == {
        "To": "+33612345678",
        "Body": forms[0]["Body"],
        "MessagingServiceSid": "MG9",
    }
    assert forms[1]["From"] == "BOUTIQUE"
    assert forms[1]["MessagingServiceSid"] == "MG9"


def test_429_and_5xx_are_retried_with_the_same_idempotency_key(peer: Peer) -> None:
    peer.script(Answer(429), Answer(500), Answer(503))
    [result] = _send(_options(peer.url), [_message()])
    assert result.outcome == SubmitOutcome.ACCEPTED
    assert len(peer.seen) == 4
    assert {s.headers["I-Twilio-Idempotency-Token"] for s in peer.seen} == {"key-1"}


def test_throttling_past_the_retries_is_temporary_and_says_slow_down(peer: Peer) -> None:
    peer.script(*[Answer(429, {"code": 20429, "message": "Too Many Requests"})] * 3)
    [result] = _send(_options(peer.url, max_retries=2), [_message()])
    assert (result.outcome, result.throttled, result.error_code) == (
        SubmitOutcome.TEMPORARY,
        True,
        "20429",
    )
    assert len(peer.seen) == 3


def test_a_server_error_past_the_retries_is_temporary(peer: Peer) -> None:
    peer.script(*[Answer(502)] * 2)
    [result] = _send(_options(peer.url, max_retries=1), [_message()])
    assert (result.outcome, result.throttled, result.error_code) == (
        SubmitOutcome.TEMPORARY,
        False,
        "502",
    )


def test_a_4xx_refusal_is_permanent_and_never_retried(peer: Peer) -> None:
    peer.script(Answer(400, {"code": 21211, "message": "The 'To' number is not valid."}))
    [result] = _send(_options(peer.url), [_message()])
    assert result.outcome == SubmitOutcome.PERMANENT
    assert (result.error_code, result.error_text) == ("21211", "The 'To' number is not valid.")
    assert len(peer.seen) == 1


def test_no_answer_in_time_is_ambiguous_and_not_retried(peer: Peer) -> None:
    peer.script(Answer(201, {"sid": "SMlate"}, delay=0.5))
    [result] = _send(_options(peer.url, timeout=0.1), [_message()])
    assert (result.outcome, result.error_code) == (SubmitOutcome.TEMPORARY, NO_ANSWER)
    assert len(peer.seen) == 1


def test_a_connection_cut_before_the_answer_is_ambiguous_and_not_retried(peer: Peer) -> None:
    peer.script(Answer(cut=True))
    [result] = _send(_options(peer.url), [_message()])
    assert (result.outcome, result.error_code) == (SubmitOutcome.TEMPORARY, NO_ANSWER)
    assert len(peer.seen) == 1


def test_a_refused_connection_is_a_connection_failure() -> None:
    options = _options(f"http://127.0.0.1:{closed_port()}", max_retries=1)
    [result] = _send(options, [_message()])
    assert (result.outcome, result.error_code) == (SubmitOutcome.TEMPORARY, CONNECT_FAILED)


def test_a_batch_is_sent_concurrently_and_answered_in_order(peer: Peer) -> None:
    messages = [_message(n) for n in range(1, 21)]
    results = _send(_options(peer.url, concurrency=4), messages)
    assert [r.message_id for r in results] == list(range(1, 21))
    assert all(r.outcome == SubmitOutcome.ACCEPTED for r in results)
    assert len({r.provider_message_id for r in results}) == 20
    assert len(peer.seen) == 20


def test_backoff_doubles_and_honours_retry_after(peer: Peer) -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async def run() -> int:
        options = HttpOptions(backoff=0.5, max_backoff=4.0, max_retries=5)
        async with httpx.AsyncClient() as client:
            answer = await post_with_retries(
                client, peer.url + "/x", options=options, content=b"{}", sleep=sleep
            )
        assert answer.response is not None
        return answer.response.status_code

    peer.script(Answer(500), Answer(503), Answer(429, headers={"Retry-After": "3"}), Answer(500))
    assert asyncio.run(run()) == 201
    assert pauses == [0.5, 1.0, 3.0, 4.0]  # doubled, the server's wish, then the cap


@pytest.mark.parametrize(
    ("missing", "message"),
    [("account_sid", "set account_sid"), ("auth_token", "set auth_token"), ("from", "set `from`")],
)
def test_an_incomplete_account_is_refused_naming_the_option(missing: str, message: str) -> None:
    options = _options("http://127.0.0.1:9")
    del options[missing]
    with pytest.raises(ConfigError, match=message):
        build_provider("twilio-main", options)


def test_the_kind_twilio_is_registered() -> None:
    assert isinstance(build_provider("t", _options("http://127.0.0.1:9")), TwilioProvider)
