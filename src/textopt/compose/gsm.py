"""The GSM 03.38 (3GPP TS 23.038) default alphabet: tables, codec and septet counting.

Septets are handled unpacked, one septet value (0-127) per byte: that is what SMPP
`data_coding` 0 carries for most SMSCs, and it keeps the counts exact. Lower-case ç is not in
the alphabet (0x09 is capital Ç): see "Lower-case ç in GSM-7" in docs/decisions.md.
"""

from __future__ import annotations

import re
import unicodedata

from textopt.errors import ValidationError

__all__ = [
    "ESCAPE",
    "GSM_BASIC",
    "GSM_CHARS",
    "GSM_EXTENSION",
    "decode_gsm",
    "describe_char",
    "encode_gsm",
    "gsm_septets",
    "gsm_units",
    "is_gsm",
]

ESCAPE = 0x1B  # switches the next septet to the extension table

# Index = septet value; 0x1B is the escape, never a character of its own.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

GSM_BASIC: dict[str, int] = {
    char: value for value, char in enumerate(_BASIC_TABLE) if value != ESCAPE
}

# Characters reached through the escape: each costs two septets.
GSM_EXTENSION: dict[str, int] = {
    "\x0c": 0x0A,  # form feed (page break)
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

GSM_CHARS: frozenset[str] = frozenset(GSM_BASIC) | frozenset(GSM_EXTENSION)

_DECODE_BASIC = {value: char for char, value in GSM_BASIC.items()}
_DECODE_EXTENSION = {value: char for char, value in GSM_EXTENSION.items()}
# str.translate table: one pass in C instead of a Python loop per character.
_ENCODE_TABLE: dict[int, str] = {ord(c): chr(v) for c, v in GSM_BASIC.items()} | {
    ord(c): chr(ESCAPE) + chr(v) for c, v in GSM_EXTENSION.items()
}
_EXTENSION_CHARS = tuple(GSM_EXTENSION)
_NOT_BASIC = re.compile("[^" + "".join(re.escape(char) for char in sorted(GSM_BASIC)) + "]")
_EXTENSION = re.compile("[" + "".join(re.escape(char) for char in _EXTENSION_CHARS) + "]")


#: A character outside both tables: one search in C beats hashing every character.
_NOT_GSM = re.compile("[^" + "".join(re.escape(char) for char in sorted(GSM_CHARS)) + "]")


def is_gsm(text: str) -> bool:
    """Whether every character of `text` is in the GSM-7 basic or extension table."""
    return _NOT_GSM.search(text) is None


def gsm_septets(text: str) -> int:
    """The number of septets `text` takes in GSM-7 (extension characters count two)."""
    septets = len(text)
    if _EXTENSION.search(text) is None:  # most texts: one search instead of ten counts
        return septets
    for char in _EXTENSION_CHARS:
        # str.count runs in C; ten passes beat one Python-level loop by far.
        septets += text.count(char)
    return septets


def gsm_units(text: str) -> int | None:
    """The septets of `text` when it is all GSM-7, else None: one search for a text of the
    basic table alone (most texts), where `is_gsm` then `gsm_septets` take two."""
    if _NOT_BASIC.search(text) is None:
        return len(text)
    return gsm_septets(text) if is_gsm(text) else None


def encode_gsm(text: str) -> bytes:
    """Encode `text` to unpacked GSM-7 septets, one per byte; raise if a character is not GSM."""
    if not is_gsm(text):
        position, char = next((i, c) for i, c in enumerate(text) if c not in GSM_CHARS)
        raise ValidationError(
            f"{describe_char(char)} at position {position} is not in the GSM 03.38 alphabet",
            field="text",
        )
    return text.translate(_ENCODE_TABLE).encode("latin-1")


def decode_gsm(septets: bytes) -> str:
    """Decode unpacked GSM-7 septets (one per byte) to text, following TS 23.038 6.2.1.1."""
    chars: list[str] = []
    escaped = False
    for position, value in enumerate(septets):
        if value > 0x7F:
            raise ValidationError(
                f"byte 0x{value:02X} at position {position} is not a septet", field="septets"
            )
        if escaped:
            escaped = False
            if value in _DECODE_EXTENSION:
                chars.append(_DECODE_EXTENSION[value])
            elif value == ESCAPE:
                # Reserved for a further extension table: the spec says show a space.
                chars.append(" ")
            else:
                # Undefined extension code: the spec says show the basic-table character.
                chars.append(_DECODE_BASIC[value])
        elif value == ESCAPE:
            escaped = True
        else:
            chars.append(_DECODE_BASIC[value])
    if escaped:
        raise ValidationError("the septets end with a lone escape (0x1B)", field="septets")
    return "".join(chars)


def describe_char(char: str) -> str:
    """A readable name for one character: the character itself when printable, and U+XXXX NAME."""
    name = unicodedata.name(char, "")
    shown = char if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF else ""
    label = f"U+{ord(char):04X}" + (f" {name}" if name else "")
    return f"{shown!r} ({label})" if shown else label
