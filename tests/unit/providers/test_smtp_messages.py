"""The SMTP provider's pure parts: the MIME email, and SMTP replies mapped to outcomes."""

from __future__ import annotations

import pytest

from textopt.errors import ConfigError
from textopt.providers.base import OutboundMessage, SubmitOutcome, build_provider
from textopt.providers.smtp import _failure, build_email


def _message(**changes: object) -> OutboundMessage:
    values: dict[str, object] = {
        "message_id": 1,
        "idempotency_key": "c3-4-email",
        "recipient": "lea@example.fr",
        "body": "Bonjour Léa",
        "channel": "email",
        "subject": "La lettre",
        "html": "<p>Bonjour Léa</p>",
        "headers": {
            "From": "Boutique Lumière <news@shop.example>",
            "List-Unsubscribe": "<https://shop.example/u/t>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Other": "dropped",
        },
    }
    values.update(changes)
    return OutboundMessage(**values)  # type: ignore[arg-type]


def test_the_email_is_multipart_alternative_with_the_stored_headers() -> None:
    email = build_email(_message(), default_from="fallback@shop.example")
    assert email["Message-ID"] == "<c3-4-email@shop.example>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["X-Other"] is None  # only the known headers are written
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    wire = email.as_bytes()
    assert b"From: Boutique =?utf-8?q?Lumi=C3=A8re?= <news@shop.example>\r\n" in wire


def test_an_email_without_html_is_plain_text_from_the_default_address() -> None:
    email = build_email(_message(html=None, headers=None), default_from="shop@shop.example")
    assert email.get_content_type() == "text/plain"
    assert email["From"] == "shop@shop.example"


def test_a_header_with_a_line_break_cannot_be_written() -> None:
    with pytest.raises(ValueError, match=r"linefeed|carriage"):
        build_email(_message(subject="Hi\r\nBcc: everyone@example.com"), default_from="a@b.c")


@pytest.mark.parametrize(
    ("code", "text", "outcome", "throttled"),
    [
        (550, "5.1.1 no such user", SubmitOutcome.PERMANENT, False),
        (554, "5.7.1 rejected", SubmitOutcome.PERMANENT, False),
        (451, "4.3.0 try later", SubmitOutcome.TEMPORARY, False),
        (421, "4.7.0 too many connections", SubmitOutcome.TEMPORARY, True),
        (451, "4.7.1 rate limited", SubmitOutcome.TEMPORARY, True),
    ],
)
def test_replies_map_to_outcomes(
    code: int, text: str, outcome: SubmitOutcome, throttled: bool
) -> None:
    result = _failure(9, code, text)
    assert (result.outcome, result.error_code, result.throttled) == (outcome, str(code), throttled)


def test_a_bad_security_option_or_missing_password_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="security must be"):
        build_provider("mail", {"kind": "smtp", "security": "ssl"})
    with pytest.raises(ConfigError, match="TEXTOPT_NO_SUCH_VARIABLE is not set"):
        build_provider("mail", {"kind": "smtp", "password_env": "TEXTOPT_NO_SUCH_VARIABLE"})
