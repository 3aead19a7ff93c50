"""Counting user-perceived characters (extended grapheme clusters, UAX #29, simplified).

The standard library has no grapheme segmentation. This follows the rules that matter for
messages: CR LF, combining marks, spacing marks, Hangul syllables, emoji modifiers and ZWJ
sequences, keycaps, tag sequences (subdivision flags) and regional-indicator pairs (flags).
Prepend characters (a few Indic and Arabic marks) are not treated specially.
"""

from __future__ import annotations

import unicodedata

__all__ = ["count_graphemes"]

_ZWJ = 0x200D
_CONTROL = frozenset({"Cc", "Zl", "Zp"})


def _is_extend(code: int, category: str) -> bool:
    return (
        category in ("Mn", "Me", "Mc")
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tags of subdivision flags
        or code == 0x200C  # zero-width non-joiner
    )


def _is_pictographic(code: int) -> bool:
    if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicators pair up by their own rule
        return False
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x1FC00 <= code <= 0x1FFFD
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
        or 0x2190 <= code <= 0x21FF
        or code in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _hangul(code: int) -> str:
    if 0x1100 <= code <= 0x115F or 0xA960 <= code <= 0xA97C:
        return "L"
    if 0x1160 <= code <= 0x11A7 or 0xD7B0 <= code <= 0xD7C6:
        return "V"
    if 0x11A8 <= code <= 0x11FF or 0xD7CB <= code <= 0xD7FB:
        return "T"
    if 0xAC00 <= code <= 0xD7A3:
        return "LV" if (code - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_JOINS = {
    "L": frozenset({"L", "V", "LV", "LVT"}),
    "V": frozenset({"V", "T"}),
    "LV": frozenset({"V", "T"}),
    "T": frozenset({"T"}),
    "LVT": frozenset({"T"}),
}


def count_graphemes(text: str) -> int:
    """The number of user-perceived characters in `text` (a flag or 👩‍👩‍👧 counts one)."""
    if text.isascii():
        # In ASCII only CR LF joins.
        return len(text) - text.count("\r\n")
    count = 0
    previous = ""
    previous_control = True
    previous_hangul = ""
    pictographic_run = False  # the cluster so far is ExtPict Extend*
    after_pictographic_zwj = False  # ... followed by a ZWJ
    regional_run = 0  # regional indicators in a row, to pair them into flags
    for char in text:
        code = ord(char)
        category = unicodedata.category(char)
        control = category in _CONTROL
        hangul = _hangul(code)
        regional = 0x1F1E6 <= code <= 0x1F1FF
        pictographic = _is_pictographic(code)
        if count and not (previous_control or control):
            joins = (
                code == _ZWJ
                or _is_extend(code, category)  # GB9, GB9a
                or (after_pictographic_zwj and pictographic)  # GB11: emoji ZWJ sequences
                or (regional and regional_run % 2 == 1)  # GB12/13: flags are pairs
                or bool(previous_hangul and hangul in _HANGUL_JOINS[previous_hangul])  # GB6-8
            )
        else:
            joins = previous == "\r" and char == "\n"  # GB3; otherwise break at controls
        if not joins:
            count += 1
            pictographic_run = pictographic
            after_pictographic_zwj = False
        elif code == _ZWJ:
            after_pictographic_zwj = pictographic_run
            pictographic_run = False
        elif pictographic:
            pictographic_run = True
            after_pictographic_zwj = False
        elif not _is_extend(code, category):
            after_pictographic_zwj = False
        regional_run = regional_run + 1 if regional else 0
        previous, previous_control, previous_hangul = char, control, hangul
    return count
