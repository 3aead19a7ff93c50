"""Encoding choice, segment counting and splitting into concatenated parts.

A message is GSM-7 when every character is in the GSM 03.38 tables, otherwise UCS-2 (sent as
UTF-16, so a character outside the BMP costs two units). Single messages hold 160 septets or
70 units; concatenated parts lose 6 octets to the UDH and hold 153 or 67. Parts are cut
greedily and never between the two septets of an escape or the two halves of a surrogate pair.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from textopt.compose.cost import Cost, PriceTable, estimate_cost
from textopt.compose.graphemes import count_graphemes
from textopt.compose.gsm import (
    GSM_CHARS,
    GSM_EXTENSION,
    encode_gsm,
    gsm_septets,
    gsm_units,
)
from textopt.compose.smart import (
    Replacement,
    suggest_replacement,
    transliterate,
    transliteration_replacements,
)
from textopt.errors import ValidationError

__all__ = [
    "LIMITS",
    "MAX_PARTS",
    "Analysis",
    "Encoding",
    "Limits",
    "Measure",
    "NonGsmChar",
    "Part",
    "SmartReport",
    "analyze",
    "check_segment_limit",
    "concat_udh",
    "count_segments",
    "measure",
    "split_parts",
]

MAX_PARTS = 255  # the concatenation UDH counts parts in one octet


def check_segment_limit(segments: int, *, limit: int, field: str = "text") -> None:
    """Refuse a message longer than the workspace allows (`max_segments_per_message`).

    One message of hundreds of segments would use an account's whole rate for minutes and
    cost as much as hundreds of messages: the workspace sets how long one may be.
    """
    if segments > limit:
        raise ValidationError(
            f"the message is {segments} segments long: at most {limit} are allowed "
            "(max_segments_per_message)",
            field=field,
        )


class Encoding(StrEnum):
    """How the text of an SMS is carried."""

    GSM7 = "GSM-7"  # 7-bit default alphabet, SMPP data_coding 0
    UCS2 = "UCS-2"  # 16-bit units (UTF-16 in practice), SMPP data_coding 8


@dataclass(frozen=True, slots=True)
class Limits:
    """How many units fit in one SMS alone and in each part of a concatenated one."""

    single: int
    per_part: int


LIMITS: dict[Encoding, Limits] = {
    Encoding.GSM7: Limits(single=160, per_part=153),
    Encoding.UCS2: Limits(single=70, per_part=67),
}


class Measure(NamedTuple):
    """The three numbers planning needs about a text."""

    encoding: Encoding
    units: int
    segments: int


def _encoding_and_units(text: str, gsm: bool | None = None) -> tuple[Encoding, int]:
    if gsm is None:
        septets = gsm_units(text)
        if septets is not None:
            return Encoding.GSM7, septets
    elif gsm:
        return Encoding.GSM7, gsm_septets(text)
    try:
        encoded = text.encode("utf-16-le")
    except UnicodeEncodeError as exc:
        raise _surrogate_error(text, exc.start) from None
    return Encoding.UCS2, len(encoded) // 2


def measure(text: str, *, gsm: bool | None = None, septets: int | None = None) -> Measure:
    """Encoding, units and segments of `text`, without the details: the planning fast path.

    `gsm`: whether `text` is all GSM-7 (`is_gsm`), when the caller knows already;
    `septets`: its septets when the caller knows it is (`gsm_units`)."""
    if septets is not None:
        return Measure(Encoding.GSM7, septets, _segments(text, Encoding.GSM7, septets))
    encoding, units = _encoding_and_units(text, gsm)
    return Measure(encoding, units, _segments(text, encoding, units))


def count_segments(text: str) -> int:
    """How many SMS segments `text` takes (0 for empty text)."""
    return measure(text).segments


def _segments(text: str, encoding: Encoding, units: int) -> int:
    limits = LIMITS[encoding]
    if units <= limits.single:
        return 1 if units else 0
    if units == len(text):
        # Every character costs one unit: nothing can straddle a boundary.
        return -(-units // limits.per_part)
    return len(_cuts(text, encoding))


def _unit_cost(char: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _units(text: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return gsm_septets(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cuts(text: str, encoding: Encoding) -> list[tuple[int, int]]:
    """(start, end) code-point ranges of each part, each as long as its limit allows."""
    limit = LIMITS[encoding].per_part
    cuts: list[tuple[int, int]] = []
    start, length = 0, len(text)
    while start < length:
        # Every character costs at least one unit, so a part never holds more than `limit`.
        end = min(start + limit, length)
        units = _units(text[start:end], encoding)
        while units > limit:
            end -= 1
            units -= _unit_cost(text[end], encoding)
        cuts.append((start, end))
        start = end
    return cuts


def concat_udh(*, reference: int, total: int, index: int) -> bytes:
    """The 6-octet concatenation UDH (IEI 0x00, 8-bit reference) for part `index` of `total`."""
    if not 0 <= reference <= 0xFF:
        raise ValidationError(f"UDH reference {reference} is not 0-255", field="reference")
    if not 1 <= total <= MAX_PARTS:
        raise ValidationError(f"a message has 1-{MAX_PARTS} parts, not {total}", field="total")
    if not 1 <= index <= total:
        raise ValidationError(f"part {index} is not between 1 and {total}", field="index")
    return bytes((0x05, 0x00, 0x03, reference, total, index))


@dataclass(frozen=True, slots=True)
class Part:
    """One SMS of a message: its text, its place and the units it holds."""

    index: int  # 1-based
    total: int
    reference: int  # concatenation reference shared by the parts of one message
    text: str
    units: int
    encoding: Encoding

    def udh(self) -> bytes:
        """The concatenation header for this part; empty for a message sent as one SMS."""
        if self.total == 1:
            return b""
        return concat_udh(reference=self.reference, total=self.total, index=self.index)

    def payload(self) -> bytes:
        """The part's text encoded: unpacked GSM-7 septets, or UTF-16 big-endian."""
        if self.encoding is Encoding.GSM7:
            return encode_gsm(self.text)
        return self.text.encode("utf-16-be")

    def to_dict(self) -> dict[str, Any]:
        """The part as JSON-ready values."""
        return {
            "index": self.index,
            "total": self.total,
            "reference": self.reference,
            "text": self.text,
            "units": self.units,
        }


def split_parts(text: str, *, reference: int = 0) -> tuple[Part, ...]:
    """`text` cut into the SMS parts a provider sends (one part when it fits in one SMS)."""
    if not 0 <= reference <= 0xFF:
        raise ValidationError(f"UDH reference {reference} is not 0-255", field="reference")
    encoding, units = _encoding_and_units(text)
    if not text:
        return ()
    if units <= LIMITS[encoding].single:
        return (Part(1, 1, reference, text, units, encoding),)
    cuts = _cuts(text, encoding)
    total = len(cuts)
    return tuple(
        Part(i, total, reference, text[a:b], _units(text[a:b], encoding), encoding)
        for i, (a, b) in enumerate(cuts, start=1)
    )


@dataclass(frozen=True, slots=True)
class NonGsmChar:
    """A character that forces UCS-2, where it occurs and its GSM look-alike if any."""

    char: str
    positions: tuple[int, ...]  # code-point offsets in the text
    units: int  # UTF-16 units of one occurrence
    replacement: str | None  # what smart encoding would write instead
    accent_folding: bool  # the replacement needs accent folding switched on

    @property
    def codepoint(self) -> str:
        """U+XXXX."""
        return f"U+{ord(self.char):04X}"

    @property
    def name(self) -> str:
        """The Unicode name, or the code point for unnamed characters."""
        return unicodedata.name(self.char, self.codepoint)

    def to_dict(self) -> dict[str, Any]:
        """The character as JSON-ready values."""
        return {
            "char": self.char,
            "codepoint": self.codepoint,
            "name": self.name,
            "positions": list(self.positions),
            "count": len(self.positions),
            "units": self.units,
            "replacement": self.replacement,
            "accent_folding": self.accent_folding,
        }


@dataclass(frozen=True, slots=True)
class SmartReport:
    """The same message with smart encoding applied: what it would cost."""

    text: str
    encoding: Encoding
    units: int
    segments: int
    fold_accents: bool
    replacements: tuple[Replacement, ...]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "text": self.text,
            "encoding": str(self.encoding),
            "units": self.units,
            "segments": self.segments,
            "fold_accents": self.fold_accents,
            "replacements": [
                {
                    "position": r.position,
                    "source": r.source,
                    "target": r.target,
                    "accent_folding": r.accent_folding,
                }
                for r in self.replacements
            ],
        }


@dataclass(frozen=True)
class Analysis:
    """How a text travels as SMS: encoding, units, segments, parts and what forces UCS-2.

    The cheap fields are computed by `analyze`; the detailed ones on first access, so the
    planning hot path pays only for what it reads.
    """

    text: str
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 units for UCS-2
    segments: int
    per_segment: int  # the limit that applies: 160/70 alone, 153/67 per part
    fold_accents: bool = False
    reference: int = 0
    cost: Cost | None = None

    @cached_property
    def characters(self) -> int:
        """User-perceived characters (grapheme clusters)."""
        return count_graphemes(self.text)

    @cached_property
    def parts(self) -> tuple[Part, ...]:
        """The SMS parts with their text and UDH reference."""
        return split_parts(self.text, reference=self.reference)

    @cached_property
    def non_gsm(self) -> tuple[NonGsmChar, ...]:
        """The characters that force UCS-2, in order of first appearance."""
        if self.encoding is Encoding.GSM7:
            return ()
        positions: dict[str, list[int]] = {}
        for position, char in enumerate(self.text):
            if char not in GSM_CHARS:
                positions.setdefault(char, []).append(position)
        result = []
        for char, found in positions.items():
            suggestion = suggest_replacement(char, fold_accents=True)
            if suggestion is None and unicodedata.combining(char):
                suggestion = self._mark_replacement(found[0])
            result.append(
                NonGsmChar(
                    char=char,
                    positions=tuple(found),
                    units=2 if ord(char) > 0xFFFF else 1,
                    replacement=None if suggestion is None else suggestion[0],
                    accent_folding=False if suggestion is None else suggestion[1],
                )
            )
        return tuple(result)

    def _mark_replacement(self, position: int) -> tuple[str, bool]:
        # A combining mark may compose with the letter before it (e + U+0301 -> é).
        for r in transliteration_replacements(self.text, fold_accents=True):
            if r.position in (position - 1, position) and r.source.endswith(self.text[position]):
                return r.target, r.accent_folding
        return "", True

    @cached_property
    def smart(self) -> SmartReport:
        """What smart encoding (with this analysis's accent folding choice) would give."""
        fold = self.fold_accents
        if self.encoding is Encoding.GSM7:
            return SmartReport(self.text, self.encoding, self.units, self.segments, fold, ())
        text = transliterate(self.text, fold_accents=fold)
        encoding, units, segments = measure(text)
        return SmartReport(
            text=text,
            encoding=encoding,
            units=units,
            segments=segments,
            fold_accents=fold,
            replacements=transliteration_replacements(self.text, fold_accents=fold),
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values."""
        return {
            "text": self.text,
            "encoding": str(self.encoding),
            "segments": self.segments,
            "units": self.units,
            "per_segment": self.per_segment,
            "characters": self.characters,
            "non_gsm": [c.to_dict() for c in self.non_gsm],
            "parts": [p.to_dict() for p in self.parts],
            "smart": self.smart.to_dict(),
            "cost": None if self.cost is None else self.cost.to_dict(),
        }


def analyze(
    text: str,
    *,
    fold_accents: bool = False,
    reference: int = 0,
    country: str | None = None,
    prices: PriceTable | None = None,
) -> Analysis:
    """Analyse `text` as an SMS; with `country`, also its cost (default prices unless given)."""
    if not 0 <= reference <= 0xFF:
        raise ValidationError(f"UDH reference {reference} is not 0-255", field="reference")
    encoding, units, segments = measure(text)
    limits = LIMITS[encoding]
    cost = None
    if country is not None:
        cost = estimate_cost(segments=segments, encoding=encoding, country=country, prices=prices)
    return Analysis(
        text=text,
        encoding=encoding,
        units=units,
        segments=segments,
        per_segment=limits.single if segments <= 1 else limits.per_part,
        fold_accents=fold_accents,
        reference=reference,
        cost=cost,
    )


def _surrogate_error(text: str, position: int) -> ValidationError:
    code = ord(text[position])
    if 0xDC80 <= code <= 0xDCFF:
        # Python's surrogateescape: how undecodable bytes of argv or a file arrive.
        return ValidationError(
            f"invalid text: byte 0x{code - 0xDC00:02X} at position {position} is not valid UTF-8",
            field="text",
        )
    return ValidationError(
        f"invalid text: lone surrogate U+{code:04X} at position {position} "
        "(the input was not valid Unicode; was it decoded from broken UTF-8 or UTF-16?)",
        field="text",
    )
