"""Webhook targets: public addresses only, in any notation, unless a network is allowed."""

from __future__ import annotations

import pytest

from textopt.errors import ValidationError
from textopt.webhooks.targets import TargetGuard


def _resolving_to(*addresses: str) -> TargetGuard:
    return TargetGuard(resolver=lambda host, port: list(addresses))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://[::1]:8000/",
        "http://0x7f000001/",  # 127.0.0.1 in hexadecimal
        "http://2130706433/",  # ... and as one decimal number
        "http://017700000001/",  # ... and in octal
        "http://localhost:6379/",
        "http://0.0.0.0:8000/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # shared address space (carrier NAT)
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",  # IPv6 metadata (unique local)
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:7f00:1]/",
        "http://[2002:7f00:1::1]/",  # 6to4 around 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 around 10.0.0.1
    ],
)
def test_internal_addresses_are_refused_in_any_notation(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TargetGuard().resolve(url)
    assert caught.value.field == "url"


def test_a_name_is_refused_when_any_of_its_addresses_is_internal() -> None:
    with pytest.raises(ValidationError, match=r"10\.0\.0\.7"):
        _resolving_to("93.184.215.14", "10.0.0.7").resolve("https://hooks.example/x")


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(ValidationError, match="does not resolve"):
        TargetGuard(resolver=fail).resolve("https://nowhere.example/x")


def test_a_public_name_resolves_to_the_address_checked() -> None:
    target = _resolving_to("93.184.215.14").resolve("https://hooks.example:8443/x")
    assert (target.host, target.port, target.address) == ("hooks.example", 8443, "93.184.215.14")
    public_v6 = _resolving_to("2606:4700::1111").resolve("http://hooks.example/x")
    assert public_v6.address == "2606:4700::1111"


def test_allowed_networks_opt_internal_receivers_in() -> None:
    guard = TargetGuard.from_networks(["127.0.0.1/32", "10.0.4.0/24"])
    assert guard.resolve("http://127.0.0.1:8080/hook").address == "127.0.0.1"
    assert guard.resolve("http://10.0.4.9/hook").address == "10.0.4.9"
    with pytest.raises(ValidationError):
        guard.resolve("http://10.0.5.9/hook")
    with pytest.raises(ValidationError):
        guard.resolve("http://127.0.0.2/hook")
