"""Unsubscribe tokens: signed, checked without a database, impossible to retarget."""

from __future__ import annotations

import pytest

from textopt.consent.unsubscribe import (
    UnsubscribeLink,
    read_unsubscribe_token,
    unsubscribe_token,
    unsubscribe_url,
)
from textopt.errors import ValidationError
from textopt.vocab import Channel

KEY = b"workspace-secret"


def test_a_token_reads_back_as_the_link_it_was_made_for() -> None:
    token = unsubscribe_token(contact_id=42, channel="email", campaign_id=7, key=KEY)
    assert token.startswith("42.email.7.")
    assert read_unsubscribe_token(token, key=KEY) == UnsubscribeLink(42, Channel.EMAIL, 7)
    assert unsubscribe_url(base_url="https://x.example/", token=token) == (
        f"https://x.example/u/{token}"
    )


def test_a_token_without_campaign_reads_back_without_one() -> None:
    token = unsubscribe_token(contact_id=1, channel=Channel.SMS, campaign_id=None, key=KEY)
    assert read_unsubscribe_token(token, key=KEY).campaign_id is None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: "43" + t[2:],  # another contact
        lambda t: t.replace(".email.", ".sms."),  # another channel
        lambda t: t.replace(".7.", ".8."),  # another campaign
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
        lambda t: t.rsplit(".", 1)[0],  # no signature
        lambda t: t.replace("email", "fax"),  # not a channel
        lambda t: "",
    ],
)
def test_a_changed_token_is_refused(change: object) -> None:
    token = unsubscribe_token(contact_id=42, channel="email", campaign_id=7, key=KEY)
    with pytest.raises(ValidationError, match="not valid"):
        read_unsubscribe_token(change(token), key=KEY)  # type: ignore[operator]


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = unsubscribe_token(contact_id=42, channel="email", campaign_id=7, key=b"other")
    with pytest.raises(ValidationError):
        read_unsubscribe_token(token, key=KEY)
