"""Whether recipients can open a link: an address on loopback or a private network is dead.

Links in an SMS or an email are opened on a phone, anywhere: a tracked link or an
unsubscribe link on `127.0.0.1`, `192.168.1.10` or `shop.local` leads nowhere. The check
reads the address as written and never asks DNS (a settings page must not wait on a
resolver, and a name's public records are the operator's business).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from urllib.parse import urlsplit

from textopt.config import Settings
from textopt.links.service import link_base

__all__ = ["Unreachable", "unreachable_bases", "why_not_public"]

# Names that never resolve on the public internet (RFC 6761, RFC 8375, and common LAN usage).
_LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".intranet", ".corp")
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")


class Unreachable(StrEnum):
    """Why a link's address is not reachable from a recipient's phone."""

    # no host at all (a relative or malformed address)
    NO_HOST = "no_host"
    # this machine only: 127.0.0.0/8, ::1, localhost, 0.0.0.0
    LOOPBACK = "loopback"
    # a private, shared, link-local or otherwise non-global address
    PRIVATE = "private"
    # a name only a local network resolves (shop.local, a single label)
    LOCAL_NAME = "local_name"
    # a name reserved for documentation and tests (.example, .test, .invalid)
    RESERVED_NAME = "reserved_name"


def why_not_public(url: str) -> Unreachable | None:
    """Why recipients could not open links under `url`, or None when it looks public."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:  # an unbalanced "[" in the netloc
        return Unreachable.NO_HOST
    if not host:
        return Unreachable.NO_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _name_problem(host)
    if address.is_loopback or address.is_unspecified:
        return Unreachable.LOOPBACK
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return why_not_public(f"http://{address.ipv4_mapped}/")
    return None if address.is_global and not address.is_multicast else Unreachable.PRIVATE


def _name_problem(host: str) -> Unreachable | None:
    if host == "localhost" or host.endswith(".localhost"):
        return Unreachable.LOOPBACK
    if host.endswith(_RESERVED_SUFFIXES) or host in {s[1:] for s in _RESERVED_SUFFIXES}:
        return Unreachable.RESERVED_NAME
    if "." not in host or host.endswith(_LOCAL_SUFFIXES):
        return Unreachable.LOCAL_NAME
    return None


def unreachable_bases(settings: Settings) -> list[tuple[str, Unreachable]]:
    """The addresses messages link to (short links, unsubscribe links) no recipient reaches."""
    bases = [f"{settings.base_url()}/"]  # unsubscribe links, and short links without a domain
    if settings.link_domain:
        bases.append(link_base(settings))
    return [(base, problem) for base in bases if (problem := why_not_public(base)) is not None]
