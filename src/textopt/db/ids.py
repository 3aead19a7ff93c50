"""Row ids as they come from outside (a URL, a form, a CLI argument): ASCII digits in range.

`str.isdigit` and `str.isdecimal` accept more than `int` does (`"²"`, `"0\\x1f"` once
stripped) and `int` accepts more than an id is (`"٣"`, `" 7 "`, `"1_000"`), while a number
past 32 bits makes PostgreSQL refuse the query: every face reads ids through `parse_id`.
"""

from __future__ import annotations

import re

__all__ = ["MAX_ID", "parse_id"]

#: Ids are 32-bit on PostgreSQL: a larger one cannot exist.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,12}")


def parse_id(text: str) -> int | None:
    """The id `text` spells (ASCII digits, 1 to MAX_ID), or None when it spells no id."""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
