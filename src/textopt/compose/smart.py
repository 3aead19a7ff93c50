"""Smart encoding: replace characters that force UCS-2 by faithful GSM-7 look-alikes.

Only look-alikes a reader would not notice are applied by default (typographic quotes,
dashes, the ellipsis, unusual spaces, invisible characters, the œ and fi ligatures, and
combining accents that compose to a GSM letter such as e + U+0301 -> é). Dropping accents
(ê -> e, ç -> c) changes the spelling, so it only happens when the caller opts into it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from textopt.compose.gsm import GSM_CHARS, is_gsm

__all__ = ["Replacement", "suggest_replacement", "transliterate", "transliteration_replacements"]

_SPACES = (
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
)
_INVISIBLE = "\u00ad\u200b\u2060\ufeff"  # soft hyphen, zero-width space, word joiner, BOM

FAITHFUL: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
    **dict.fromkeys(_SPACES, " "),
    **dict.fromkeys(_INVISIBLE, ""),
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    # Ligatures: French spelling accepts "oe" where the ligature is unavailable.
    "œ": "oe",
    "Œ": "OE",
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
}


def _accent_folds() -> dict[str, str]:
    """Latin letters outside GSM-7 mapped to their base letter (ê -> e, ç -> c, È -> E)."""
    folds: dict[str, str] = {}
    for code in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)):
        char = chr(code)
        if char in GSM_CHARS or char in FAITHFUL:
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        if base and base != char and GSM_CHARS.issuperset(base):
            folds[char] = base
    # Letters with a stroke have no decomposition but an obvious base letter.
    folds.update({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H"})
    return folds


ACCENT_FOLDS: dict[str, str] = _accent_folds()

_FAITHFUL_TABLE = str.maketrans(FAITHFUL)
_FOLDING_TABLE = str.maketrans({**ACCENT_FOLDS, **FAITHFUL})


def _any_of(chars: Iterable[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(char) for char in sorted(chars)) + "]")


# A text with none of a table's characters is left as it is: one search in C is much
# cheaper than `str.translate` looking up every character of a text that is not ASCII.
_FAITHFUL_CHARS = _any_of(FAITHFUL)
_FOLDING_CHARS = _any_of({**ACCENT_FOLDS, **FAITHFUL})


@dataclass(frozen=True, slots=True)
class Replacement:
    """One change smart encoding makes: `source` at `position` (code points) becomes `target`."""

    position: int
    source: str
    target: str
    accent_folding: bool  # True when only made with accent folding switched on


def suggest_replacement(char: str, *, fold_accents: bool = True) -> tuple[str, bool] | None:
    """The GSM look-alike of one character and whether it needs accent folding, or None."""
    if char in FAITHFUL:
        return FAITHFUL[char], False
    if fold_accents and char in ACCENT_FOLDS:
        return ACCENT_FOLDS[char], True
    return None


def transliterate(text: str, *, fold_accents: bool = False) -> str:
    """`text` with every character that has a faithful GSM look-alike replaced by it."""
    if is_gsm(text):
        return text
    if (_FOLDING_CHARS if fold_accents else _FAITHFUL_CHARS).search(text) is None:
        result = text  # nothing to replace: what translating gives
    else:
        result = text.translate(_FOLDING_TABLE if fold_accents else _FAITHFUL_TABLE)
        if is_gsm(result):
            return result
    # Combining marks depend on their neighbour, which str.translate cannot see.
    if any(unicodedata.combining(c) for c in set(result) - GSM_CHARS):
        return _walk(text, fold_accents=fold_accents)[0]
    return result


def transliteration_replacements(
    text: str, *, fold_accents: bool = False
) -> tuple[Replacement, ...]:
    """Every change `transliterate` makes to `text`, with its position in `text`."""
    if is_gsm(text):
        return ()
    return tuple(_walk(text, fold_accents=fold_accents)[1])


def _walk(text: str, *, fold_accents: bool) -> tuple[str, list[Replacement]]:
    out: list[str] = []
    replacements: list[Replacement] = []
    kept_previous = False  # the previous input character was copied unchanged
    for position, char in enumerate(text):
        if char in GSM_CHARS:
            out.append(char)
            kept_previous = True
            continue
        if unicodedata.combining(char):
            if kept_previous:
                base = text[position - 1]
                composed = unicodedata.normalize("NFC", base + char)
                if len(composed) == 1 and composed in GSM_CHARS:
                    # e + U+0301 is canonically é: same text, one GSM character.
                    out[-1] = composed
                    replacements.append(
                        Replacement(position - 1, base + char, composed, accent_folding=False)
                    )
                    kept_previous = False
                    continue
            if fold_accents:
                replacements.append(Replacement(position, char, "", accent_folding=True))
                kept_previous = False
                continue
            out.append(char)
            kept_previous = False
            continue
        suggestion = suggest_replacement(char, fold_accents=fold_accents)
        if suggestion is None:
            out.append(char)
        else:
            target, folding = suggestion
            out.append(target)
            replacements.append(Replacement(position, char, target, accent_folding=folding))
        kept_previous = False
    return "".join(out), replacements
