"""Where webhooks may go: public addresses only, unless the operator allows a network.

A webhook URL is typed by an admin, and the delivery log shows what came back, so an
unchecked URL lets the API reach services that only the server can reach (the database on
127.0.0.1:5432, a cloud metadata service on 169.254.169.254, an intranet). Every address a
host name resolves to is checked, at registration and again at each delivery, and the
delivery connects to the address it checked (not to a second lookup that DNS could
rebind). Loopback, private, shared, link-local, multicast, reserved and unspecified
addresses are refused, also when written in another notation (`0x7f000001`, `[::1]`,
`::ffff:127.0.0.1`) or embedded in IPv6 (6to4, Teredo, NAT64). `webhook_allowed_networks`
opts chosen networks back in, e.g. an internal receiver on `10.0.4.0/24`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from textopt.errors import ValidationError

__all__ = [
    "IPAddress",
    "IPNetwork",
    "ResolvedTarget",
    "Resolver",
    "TargetGuard",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (host, port) → the addresses it resolves to (text); raises OSError when it does not.
Resolver = Callable[[str, int], Sequence[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address of `host` from the system resolver (numeric notations included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded(address)
        if inner is not None and not _public(inner):
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A checked URL: its host and port, and the address to connect to."""

    url: str
    host: str
    port: int
    address: str


@dataclass(frozen=True, slots=True)
class TargetGuard:
    """Checks webhook URLs against the address policy (see the module docstring)."""

    allowed: tuple[IPNetwork, ...] = ()
    resolver: Resolver = system_resolver

    @classmethod
    def from_networks(
        cls, networks: Sequence[str], *, resolver: Resolver = system_resolver
    ) -> TargetGuard:
        """A guard allowing these networks (CIDR text) besides public addresses."""
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks), resolver)

    def permitted(self, address: IPAddress) -> bool:
        """Whether webhooks may connect to `address`."""
        return _public(address) or any(
            address.version == net.version and address in net for net in self.allowed
        )

    def resolve(self, url: str) -> ResolvedTarget:
        """Resolve the URL's host and check every address; ValidationError names the field."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValidationError(f"{url!r} has an invalid port", field="url") from exc
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise ValidationError(f"the host {host!r} does not resolve", field="url") from exc
        if not found:
            raise ValidationError(f"the host {host!r} does not resolve", field="url")
        refused = [a for a in found if not self.permitted(a)]
        if refused:
            raise ValidationError(
                f"the host {host!r} is a loopback, private, link-local, multicast or reserved "
                f"address ({refused[0]}); webhooks go to public addresses unless "
                "webhook_allowed_networks allows it",
                field="url",
            )
        return ResolvedTarget(url=url, host=host, port=port, address=str(found[0]))
