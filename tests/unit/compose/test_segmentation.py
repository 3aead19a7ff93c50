"""Encoding choice, segment counts at every boundary, and the parts given to providers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.compose import Encoding, analyze, concat_udh, count_segments, measure, split_parts
from textopt.compose.gsm import GSM_CHARS, GSM_EXTENSION
from textopt.errors import ValidationError

EXTENSION = sorted(GSM_EXTENSION)
any_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=700
)  # no lone surrogates
gsm_text = st.text(alphabet=sorted(GSM_CHARS), max_size=700)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", Encoding.GSM7, 0, 0),
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("é" * 70, Encoding.GSM7, 70, 1),
        ("ê" * 70, Encoding.UCS2, 70, 1),
        ("ê" * 71, Encoding.UCS2, 71, 2),
        ("ê" * 134, Encoding.UCS2, 134, 2),
        ("ê" * 135, Encoding.UCS2, 135, 3),
        ("a\r\nb", Encoding.GSM7, 4, 1),
    ],
)
def test_plain_boundaries(text: str, encoding: Encoding, units: int, segments: int) -> None:
    result = analyze(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, segments)
    assert measure(text) == (encoding, units, segments)


@pytest.mark.parametrize("char", EXTENSION)
def test_extension_character_at_the_single_message_limit(char: str) -> None:
    assert analyze("a" * 158 + char).segments == 1  # 160 septets
    assert analyze("a" * 159 + char).segments == 2  # 161 septets


@pytest.mark.parametrize("char", EXTENSION)
def test_extension_character_is_never_split_across_parts(char: str) -> None:
    # 152 septets then an escape pair: the pair would straddle septet 153, so it moves.
    text = "a" * 152 + char + "b" * 10
    parts = split_parts(text)
    assert [p.text for p in parts] == ["a" * 152, char + "b" * 10]
    assert [p.units for p in parts] == [152, 12]
    # With 151 before it, the pair ends exactly on the limit and stays in part one.
    parts = split_parts("a" * 151 + char + "b" * 10)
    assert parts[0].text == "a" * 151 + char
    assert parts[0].units == 153


def test_euro_signs_fill_76_pairs_per_part() -> None:
    result = analyze("€" * 153)
    assert result.units == 306
    assert result.segments == 3  # 76 + 76 + 1 pairs
    assert [p.units for p in result.parts] == [152, 152, 2]


@pytest.mark.parametrize("emoji", ["😀", "👍🏽", "🇫🇷"])
def test_emoji_outside_the_bmp_cost_two_units_and_are_never_split(emoji: str) -> None:
    assert analyze("😀").units == 2
    text = "x" * 66 + emoji + "y" * 5
    result = analyze(text)
    assert result.encoding is Encoding.UCS2
    assert result.segments == 2
    assert "".join(p.text for p in result.parts) == text
    assert result.parts[0].text == "x" * 66  # the pair at units 67-68 moves to part 2
    assert all(p.units <= 67 for p in result.parts)


def test_ucs2_single_message_limit_with_surrogate_pairs() -> None:
    assert analyze("😀" * 35).segments == 1  # 70 units
    assert analyze("😀" * 35 + "a").segments == 2


@pytest.mark.parametrize(
    ("text", "characters", "units"),
    [
        ("👩‍👩‍👧", 1, 8),  # ZWJ family: 3 emoji + 2 joiners
        ("🇫🇷🇩🇪", 2, 8),  # two flags
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 1, 14),  # Scotland: tag sequence
        ("e\u0301", 1, 2),  # combining acute: UCS-2 because U+0301 is not GSM
        ("1️⃣", 1, 3),  # keycap
        ("\r\n", 1, 2),  # a Windows line break is one character, two septets
        ("한국어", 3, 3),
    ],
)
def test_user_perceived_characters(text: str, characters: int, units: int) -> None:
    result = analyze(text)
    assert result.characters == characters
    assert result.units == units


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Votre colis est arrivé à 9h, très bien, où ? Çà et là, É!", Encoding.GSM7),
        ("Fête", Encoding.UCS2),
        ("Pâques", Encoding.UCS2),
        ("cœur", Encoding.UCS2),
        ("C’est", Encoding.UCS2),
        ("reçu", Encoding.UCS2),
        ("ïle", Encoding.UCS2),
    ],
)
def test_french_accents(text: str, encoding: Encoding) -> None:
    assert analyze(text).encoding is encoding


def test_non_gsm_lists_each_culprit_with_positions_and_look_alike() -> None:
    result = analyze("C’est l’été, tête-à-tête")
    [quote, e_circ] = result.non_gsm
    assert (quote.char, quote.positions, quote.replacement, quote.accent_folding) == (
        "’",
        (1, 7),
        "'",
        False,
    )
    assert (e_circ.char, e_circ.positions, e_circ.replacement, e_circ.accent_folding) == (
        "ê",
        (14, 21),
        "e",
        True,
    )
    assert quote.codepoint == "U+2019"
    assert quote.name == "RIGHT SINGLE QUOTATION MARK"


def test_gsm_text_has_no_culprits() -> None:
    assert analyze("Bonjour €").non_gsm == ()


def test_empty_text() -> None:
    result = analyze("")
    assert (result.segments, result.units, result.characters, result.parts) == (0, 0, 0, ())
    assert result.per_segment == 160


def test_two_thousand_character_message() -> None:
    text = ("Bonjour, voici nos offres de la semaine. " * 50)[:2000]
    result = analyze(text)
    assert result.units == 2000
    assert result.segments == 14  # ceil(2000 / 153)
    assert result.per_segment == 153
    assert "".join(p.text for p in result.parts) == text
    assert [p.index for p in result.parts] == list(range(1, 15))
    assert {p.total for p in result.parts} == {14}


def test_two_thousand_characters_in_ucs2() -> None:
    text = "ê" * 2000
    result = analyze(text)
    assert result.segments == 30  # ceil(2000 / 67)
    assert "".join(p.text for p in result.parts) == text


@pytest.mark.parametrize("text", ["a\ud800", "\udfff", "ok \ud83d then"])
def test_lone_surrogates_are_a_clear_error(text: str) -> None:
    with pytest.raises(ValidationError, match=r"lone surrogate U\+D[89A-F][0-9A-F]{2} at position"):
        analyze(text)


def test_undecodable_bytes_are_reported_as_invalid_utf8() -> None:
    broken = b"caf\xe9".decode("utf-8", "surrogateescape")
    with pytest.raises(ValidationError, match="byte 0xE9 at position 3 is not valid UTF-8"):
        analyze(broken)


def test_udh_bytes() -> None:
    assert concat_udh(reference=0x2A, total=3, index=2) == bytes([5, 0, 3, 0x2A, 3, 2])
    with pytest.raises(ValidationError):
        concat_udh(reference=256, total=2, index=1)
    with pytest.raises(ValidationError):
        concat_udh(reference=1, total=2, index=3)


def test_parts_carry_reference_udh_and_payload() -> None:
    parts = analyze("é" * 200, reference=7).parts
    assert [p.udh() for p in parts] == [bytes([5, 0, 3, 7, 2, 1]), bytes([5, 0, 3, 7, 2, 2])]
    assert parts[0].payload() == b"\x05" * 153
    single = analyze("hi").parts[0]
    assert single.udh() == b""
    assert analyze("ê").parts[0].payload() == "ê".encode("utf-16-be")


@given(any_text)
def test_concatenated_parts_equal_the_text(text: str) -> None:
    assert "".join(p.text for p in split_parts(text)) == text


@given(any_text)
def test_no_part_exceeds_its_limit(text: str) -> None:
    result = analyze(text)
    limit = result.per_segment
    assert all(0 < p.units <= limit for p in result.parts)
    assert len(result.parts) == result.segments == count_segments(text)
    assert sum(p.units for p in result.parts) == result.units


@given(st.lists(st.sampled_from(["a", "€", "é", "{"]), max_size=600).map("".join))
def test_gsm_parts_are_greedy(text: str) -> None:
    # Each part but the last is full, or the next character could not fit in it.
    parts = split_parts(text)
    for part, following in itertools.pairwise(parts):
        cost = 2 if following.text[0] in GSM_EXTENSION else 1
        assert part.units + cost > 153
