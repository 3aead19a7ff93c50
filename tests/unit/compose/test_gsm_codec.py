"""The GSM 03.38 tables and codec: exact septet counts and a lossless round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.compose.gsm import (
    ESCAPE,
    GSM_BASIC,
    GSM_CHARS,
    GSM_EXTENSION,
    decode_gsm,
    encode_gsm,
    gsm_septets,
    gsm_units,
    is_gsm,
)
from textopt.errors import ValidationError

EXTENSION = "\x0c^{}\\[~]|€"
gsm_text = st.text(alphabet=sorted(GSM_CHARS), max_size=400)


def test_basic_table_has_127_characters_around_the_escape() -> None:
    assert len(GSM_BASIC) == 127
    assert sorted(GSM_BASIC.values()) == [v for v in range(128) if v != ESCAPE]


def test_extension_table_is_the_ten_escaped_characters() -> None:
    assert set(GSM_EXTENSION) == set(EXTENSION)
    assert not set(GSM_EXTENSION) & set(GSM_BASIC)


@pytest.mark.parametrize(
    ("char", "value"),
    [
        ("@", 0x00),
        ("£", 0x01),
        ("$", 0x02),
        ("è", 0x04),
        ("é", 0x05),
        ("Ç", 0x09),
        ("\n", 0x0A),
        ("\r", 0x0D),
        ("Δ", 0x10),
        ("_", 0x11),
        ("É", 0x1F),
        ("¤", 0x24),
        ("¡", 0x40),
        ("§", 0x5F),
        ("¿", 0x60),
        ("à", 0x7F),
    ],
)
def test_basic_table_positions(char: str, value: int) -> None:
    assert encode_gsm(char) == bytes([value])


@pytest.mark.parametrize(
    ("char", "value"),
    [
        ("\x0c", 0x0A),
        ("^", 0x14),
        ("{", 0x28),
        ("}", 0x29),
        ("\\", 0x2F),
        ("[", 0x3C),
        ("~", 0x3D),
        ("]", 0x3E),
        ("|", 0x40),
        ("€", 0x65),
    ],
)
def test_extension_characters_encode_as_escape_pairs(char: str, value: int) -> None:
    assert encode_gsm(char) == bytes([ESCAPE, value])
    assert gsm_septets(char) == 2


def test_septets_count_extension_characters_twice() -> None:
    assert gsm_septets("Prix: 10€ [promo]") == 17 + 3


def test_lower_case_c_cedilla_is_not_gsm_and_0x09_decodes_to_capital() -> None:
    # Decision recorded in docs/decisions.md, "Lower-case ç in GSM-7".
    assert is_gsm("Ç")
    assert not is_gsm("ç")
    assert decode_gsm(b"\x09") == "Ç"
    with pytest.raises(ValidationError, match="U\\+00E7"):
        encode_gsm("reçu")


@pytest.mark.parametrize("text", ["`", "â", "ê", "œ", "’", "\t", "ç"])
def test_characters_outside_the_alphabet_are_refused_by_the_encoder(text: str) -> None:
    assert not is_gsm(text)
    with pytest.raises(ValidationError, match="position 0"):
        encode_gsm(text)


@pytest.mark.parametrize(
    ("septets", "text"),
    [
        (b"\x1b\x65", "€"),
        (b"\x1b\x1b", " "),  # reserved for another extension table: shown as a space
        (b"\x1b\x41", "A"),  # undefined extension code: the basic character
    ],
)
def test_decoder_follows_the_escape_rules_of_the_spec(septets: bytes, text: str) -> None:
    assert decode_gsm(septets) == text


@pytest.mark.parametrize("septets", [b"\x80", b"abc\x1b"])
def test_decoder_refuses_non_septets_and_a_trailing_escape(septets: bytes) -> None:
    with pytest.raises(ValidationError):
        decode_gsm(septets)


@given(gsm_text)
def test_decode_encode_round_trip(text: str) -> None:
    assert decode_gsm(encode_gsm(text)) == text


@given(gsm_text)
def test_septets_equal_encoded_length(text: str) -> None:
    assert gsm_septets(text) == len(encode_gsm(text))


@given(st.text() | st.text(alphabet=[*sorted(GSM_CHARS), "ç", "\ud800", "€", "😀", "\\"]))
def test_is_gsm_is_every_character_in_a_table(text: str) -> None:
    assert is_gsm(text) == all(char in GSM_CHARS for char in text)


@given(st.text() | st.text(alphabet=[*sorted(GSM_CHARS), "ç", "\ud800", "€", "😀", "\\"]))
def test_gsm_units_are_the_septets_of_a_gsm_text_only(text: str) -> None:
    assert gsm_units(text) == (gsm_septets(text) if is_gsm(text) else None)
