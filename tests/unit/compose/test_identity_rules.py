"""Sender IDs per country, the brand in the text, and the opt-out footer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.compose import (
    BrandMode,
    Encoding,
    MessageFrame,
    SenderKind,
    compose_message,
    count_segments,
    message_frame,
    names_brand,
    opt_out_footer,
    validate_sender_id,
)
from textopt.errors import ConfigError, ValidationError
from textopt.vocab import Purpose


@pytest.mark.parametrize(
    ("sender", "country", "kind"),
    [
        ("MaBoutique", "FR", SenderKind.ALPHANUMERIC),
        ("Shop24", "FR", SenderKind.ALPHANUMERIC),
        ("A", "FR", SenderKind.ALPHANUMERIC),
        ("36111", "FR", SenderKind.SHORT_CODE),
        ("38200", "FR", SenderKind.SHORT_CODE),
        ("+33612345678", "FR", SenderKind.NUMBER),
        ("My Shop", "UK", SenderKind.ALPHANUMERIC),
        ("+14155550123", "US", SenderKind.NUMBER),
        ("12345", "US", SenderKind.SHORT_CODE),
        ("+15145550123", "CA", SenderKind.NUMBER),
    ],
)
def test_accepted_senders(sender: str, country: str, kind: SenderKind) -> None:
    assert validate_sender_id(sender, country=country).kind is kind


@pytest.mark.parametrize(
    ("sender", "country", "rule"),
    [
        ("MaBoutiqueXL", "FR", "at most 11 characters"),
        ("Ma Boutique", "FR", "no spaces"),
        ("Shop-24", "FR", "no spaces or punctuation"),
        ("12345678", "FR", "all-digit sender"),
        ("40000", "FR", "36 or 38"),
        ("ALERT", "FR", "generic sender names are blocked"),
        ("colis", "FR", "generic sender names are blocked"),
        ("Banque", "FR", "generic sender names are blocked"),
        ("", "FR", "required"),
        ("Verify", "GB", "generic sender names are blocked"),
        ("MaBoutique", "US", "alphanumeric senders are not allowed in US"),
        ("MaBoutique", "CA", "alphanumeric senders are not allowed in CA"),
        ("+33612345678", "US", "valid mobile number"),
        ("5551234", "US", "a number is required"),
    ],
)
def test_refused_senders_name_the_rule(sender: str, country: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        validate_sender_id(sender, country=country)


@pytest.mark.parametrize(
    ("country", "language", "footer"),
    [
        ("FR", "", "STOP au 36111"),
        ("BE", "", "STOP au 36111"),
        ("US", "", "Reply STOP to opt out"),
        ("CA", "en", "Reply STOP to opt out"),
        ("CA", "fr-CA", "Répondez ARRET pour vous désabonner"),
        ("UK", "", "Reply STOP to opt out"),
        ("DE", "", "STOP an 36111"),
    ],
)
def test_footers(country: str, language: str, footer: str) -> None:
    assert opt_out_footer(country=country, stop_number="36111", language=language) == footer


def test_french_footer_needs_a_stop_number() -> None:
    with pytest.raises(ConfigError, match="stop_number"):
        opt_out_footer(country="FR")


def test_marketing_gets_brand_prefix_and_footer_counted_in_segments() -> None:
    message = compose_message(
        "x" * 140, purpose=Purpose.MARKETING, country="FR", brand="Boutique", stop_number="36111"
    )
    assert message.text == "Boutique: " + "x" * 140 + "\nSTOP au 36111"
    assert message.brand_prefixed
    assert message.footer == "STOP au 36111"
    assert message.analysis.segments == 2
    assert message.analysis.cost is not None
    assert message.analysis.cost.amount == 2 * message.analysis.cost.unit_price


def test_brand_already_named_is_not_prefixed() -> None:
    message = compose_message(
        "Les soldes chez BOUTIQUE commencent",
        purpose=Purpose.MARKETING,
        country="US",
        brand="Boutique",
    )
    assert message.text == "Les soldes chez BOUTIQUE commencent\nReply STOP to opt out"
    assert not message.brand_prefixed


def test_brand_must_be_a_word() -> None:
    assert names_brand("Chez Zara!", "zara")
    assert not names_brand("Zarathustra", "Zara")
    assert names_brand("Zarathustra, puis Zara.", "Zara")  # a later occurrence is a word
    assert not names_brand("chez_Zara", "Zara")


_BRAND_ALPHABET = st.sampled_from(
    ["a", "Z", "r", "S", "s", "ß", " ", ":", "_", "é", "İ", "Σ", "ς", "!", "1"]
)


@given(st.text(_BRAND_ALPHABET, max_size=12), st.text(_BRAND_ALPHABET, min_size=1, max_size=4))
def test_brand_is_found_as_a_word_of_the_folded_text(text: str, brand: str) -> None:
    pattern = re.compile(rf"(?<!\w){re.escape(brand.casefold())}(?!\w)")
    assert names_brand(text, brand) == (pattern.search(text.casefold()) is not None)


@given(st.text(_BRAND_ALPHABET, max_size=16))
def test_a_prefixed_brand_and_the_footer_are_checked_on_the_whole_text(body: str) -> None:
    frame = MessageFrame(country="FR", brand="Zar", footer="ar: SS")
    text, prefixed, footer = frame.apply(body)
    assert prefixed == (not names_brand(body, "Zar"))
    framed = f"Zar: {body}" if prefixed else body
    assert footer == ("" if "ar: ss" in framed.casefold() else "ar: SS")
    assert text == (f"{framed}\n{footer}" if footer else framed)


def test_require_mode_refuses_a_message_without_brand() -> None:
    frame = message_frame(
        purpose=Purpose.MARKETING,
        country="US",
        brand="Boutique",
        brand_mode=BrandMode.REQUIRE,
    )
    with pytest.raises(ValidationError, match="must name the brand 'Boutique'"):
        frame.apply("Soldes !")


def test_footer_typed_by_the_user_is_not_repeated() -> None:
    message = compose_message(
        "Boutique: soldes. STOP au 36111",
        purpose=Purpose.MARKETING,
        country="FR",
        brand="Boutique",
        stop_number="36111",
    )
    assert message.text == "Boutique: soldes. STOP au 36111"


def test_transactional_gets_neither_unless_asked() -> None:
    plain = compose_message("Code 1234", purpose=Purpose.TRANSACTIONAL, country="FR")
    assert plain.text == "Code 1234"
    asked = compose_message(
        "Code 1234",
        purpose=Purpose.TRANSACTIONAL,
        country="FR",
        brand="Boutique",
        add_brand=True,
        add_footer=True,
        stop_number="36111",
    )
    assert asked.text == "Boutique: Code 1234\nSTOP au 36111"


def test_marketing_without_brand_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="brand"):
        message_frame(purpose=Purpose.MARKETING, country="US")


def test_smart_encoding_applies_to_the_whole_message() -> None:
    message = compose_message(
        "C’est parti",
        purpose=Purpose.MARKETING,
        country="FR",
        brand="Boutique",
        stop_number="36111",
        smart_encoding=True,
    )
    assert message.text == "Boutique: C'est parti\nSTOP au 36111"
    assert message.analysis.encoding is Encoding.GSM7


@given(
    body=st.text(alphabet="abcé’ôœ😀€[ Boutique:\n", max_size=200),
    country=st.sampled_from(["FR", "BE", "US", "ZZ"]),
    smart_encoding=st.booleans(),
    fold_accents=st.booleans(),
    brand=st.sampled_from([None, "Boutique"]),
)
def test_planned_is_compose_reduced_to_what_planning_stores(
    body: str, country: str, smart_encoding: bool, fold_accents: bool, brand: str | None
) -> None:
    """Planning's lean composition gives the text, measure, price and smart saving that
    `compose` and its analysis give."""
    frame = message_frame(
        purpose=Purpose.MARKETING if brand else Purpose.TRANSACTIONAL,
        country=country,
        brand=brand,
        stop_number="36111",
    )
    options = {"smart_encoding": smart_encoding, "fold_accents": fold_accents}
    composed = frame.compose(body, **options)
    analysis = composed.analysis
    assert analysis.cost is not None
    if smart_encoding:
        saving = count_segments(frame.apply(body)[0]) - analysis.segments
    else:
        saving = analysis.segments - analysis.smart.segments
    planned = frame.planned(body, **options)
    assert planned == (
        composed.text,
        analysis.encoding,
        analysis.units,
        analysis.segments,
        analysis.cost.unit_price,
        analysis.cost.currency,
        max(saving, 0),
    )
    assert planned.unit_price * planned.segments == analysis.cost.amount
