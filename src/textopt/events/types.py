"""Event types: short slugs compared in lower case (pure, shared by the service and the
audience language)."""

from __future__ import annotations

import re

from textopt.errors import ValidationError

__all__ = ["TYPE_RULE", "normalise_type"]

_TYPE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
#: What a type may be, as the error messages say it.
TYPE_RULE = '1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit'


def normalise_type(raw: str, *, field: str = "type") -> str:
    """An event type as stored: trimmed, lower case (`Order_Shipped` is `order_shipped`)."""
    text = raw.strip().lower()
    if not _TYPE.fullmatch(text):
        raise ValidationError(
            f'{field}: "{raw.strip()[:80]}" is not an event type: {TYPE_RULE} (e.g. order_shipped)',
            field=field,
        )
    return text
