"""Webhook signatures: what a receiver verifies."""

from __future__ import annotations

from textopt.webhooks.signing import endpoint_secret, sign, verify_signature


def test_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    header = sign(secret="whsec_a", body=b'{"x":1}', timestamp=1_000_000)
    assert header.startswith("t=1000000,v1=")
    assert verify_signature(secret="whsec_a", header=header, body=b'{"x":1}', now=1_000_100)
    assert not verify_signature(secret="whsec_b", header=header, body=b'{"x":1}', now=1_000_100)
    assert not verify_signature(secret="whsec_a", header=header, body=b'{"x":2}', now=1_000_100)
    assert not verify_signature(secret="whsec_a", header=header, body=b'{"x":1}', now=1_000_301)
    assert not verify_signature(secret="whsec_a", header="v1=abc", body=b"", now=0)


def test_an_endpoint_secret_depends_on_the_workspace_key_and_the_salt() -> None:
    one = endpoint_secret(workspace_key=b"k1", salt="s")
    assert one == endpoint_secret(workspace_key=b"k1", salt="s")
    assert one != endpoint_secret(workspace_key=b"k2", salt="s")
    assert one != endpoint_secret(workspace_key=b"k1", salt="t")
