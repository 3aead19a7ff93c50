"""What a message template may use about one contact: one definition for every sender."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textopt.compose.templates import LANGUAGE_KEY

__all__ = ["template_context"]


def template_context(
    contact: Any, *, tags: Sequence[str] = (), attributes: bool = True
) -> dict[str, Any]:
    """The template variables of `contact` (a Contact or a row); None gives empty values.

    `attributes=False` skips decoding them when the template does not use them.
    """
    if contact is None:
        return {"first_name": "", "last_name": "", "attributes": {}, "tags": [], LANGUAGE_KEY: ""}
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "country": contact.country,
        "region": contact.region,
        "attributes": (contact.attributes or {}) if attributes else {},
        "tags": list(tags),
        LANGUAGE_KEY: contact.language or "",
    }
