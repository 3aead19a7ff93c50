"""Which link addresses recipients can open: loopback, private and local names are dead."""

from __future__ import annotations

import pytest

from textopt.config import Settings
from textopt.links.reach import Unreachable, unreachable_bases, why_not_public


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://go.boutique-lumiere.fr/l/", None),
        ("http://93.184.215.14:8800/", None),
        ("http://[2606:4700::1111]/", None),
        ("http://127.0.0.1:8000/l/", Unreachable.LOOPBACK),
        ("http://127.8.9.1/", Unreachable.LOOPBACK),
        ("http://[::1]:8800/", Unreachable.LOOPBACK),
        ("http://0.0.0.0:8000/", Unreachable.LOOPBACK),
        ("http://LOCALHOST:8800/", Unreachable.LOOPBACK),
        ("http://app.localhost/", Unreachable.LOOPBACK),
        ("http://192.168.1.10/", Unreachable.PRIVATE),
        ("http://10.0.4.2:8000/", Unreachable.PRIVATE),
        ("http://172.16.0.9/", Unreachable.PRIVATE),
        ("http://100.64.1.1/", Unreachable.PRIVATE),
        ("http://169.254.169.254/", Unreachable.PRIVATE),
        ("http://[fd00::1]/", Unreachable.PRIVATE),
        ("http://[::ffff:10.1.2.3]/", Unreachable.PRIVATE),
        ("http://shop.local/", Unreachable.LOCAL_NAME),
        ("http://intranet/", Unreachable.LOCAL_NAME),
        ("http://crm.home.arpa/", Unreachable.LOCAL_NAME),
        ("https://boutique.example/", Unreachable.RESERVED_NAME),
        ("https://shop.test/", Unreachable.RESERVED_NAME),
        ("/l/", Unreachable.NO_HOST),
        ("http://[::1/", Unreachable.NO_HOST),
    ],
)
def test_an_address_recipients_cannot_reach_is_named_with_why(
    url: str, expected: Unreachable | None
) -> None:
    assert why_not_public(url) == expected


def test_without_a_public_address_links_point_at_the_default_loopback_port() -> None:
    settings = Settings()
    assert settings.public_base_url is None
    assert settings.base_url() == "http://127.0.0.1:8000"
    assert unreachable_bases(settings) == [("http://127.0.0.1:8000/", Unreachable.LOOPBACK)]


def test_a_public_link_domain_still_leaves_a_private_unsubscribe_address_named() -> None:
    settings = Settings(public_base_url="http://10.0.0.5:8800/", link_domain="go.shop.fr")
    assert unreachable_bases(settings) == [("http://10.0.0.5:8800/", Unreachable.PRIVATE)]


def test_a_public_address_and_domain_raise_nothing() -> None:
    settings = Settings(public_base_url="https://sms.shop.fr", link_domain="go.shop.fr")
    assert unreachable_bases(settings) == []


def test_a_private_link_domain_is_named_beside_a_public_address() -> None:
    settings = Settings(public_base_url="https://sms.shop.fr", link_domain="go.shop.lan")
    assert unreachable_bases(settings) == [("https://go.shop.lan/", Unreachable.LOCAL_NAME)]
