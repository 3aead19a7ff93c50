"""The keyed digest of numbers and addresses: one value however it is computed."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.consent.suppression import address_digest, address_digester


@pytest.mark.parametrize("key", [b"", b"k", b"x" * 32, b"y" * 64, b"z" * 65, bytes(range(200))])
@pytest.mark.parametrize("value", ["+33612345678", " +33612345678 ", "Lea@Example.ORG", ""])
def test_the_digester_gives_the_digest(key: bytes, value: str) -> None:
    expected = address_digest(value, key=key)
    assert address_digester(key)(value) == expected
    normalised = value.strip().lower() if "@" in value else value.strip()
    assert expected == hmac.new(key, normalised.encode(), "sha256").hexdigest()


@given(key=st.binary(max_size=150), value=st.text(max_size=40))
def test_the_digester_is_hmac_sha256_for_any_key(key: bytes, value: str) -> None:
    normalised = value.strip().lower() if "@" in value else value.strip()
    try:
        data = normalised.encode()
    except UnicodeEncodeError:  # a lone surrogate: never a stored number or address
        return
    assert address_digester(key)(value) == hmac.new(key, data, "sha256").hexdigest()
