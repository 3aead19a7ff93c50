"""Keyword replies: their language, the HELP contents, and one GSM-7 segment each."""

from __future__ import annotations

import pytest

from textopt.compose import analyze
from textopt.inbound.keywords import KeywordKind
from textopt.inbound.replies import REPLIES, ReplyContext, reply_language, reply_text

KINDS = (KeywordKind.STOP, KeywordKind.START, KeywordKind.HELP, KeywordKind.CONFIRM)


@pytest.mark.parametrize("language", sorted(REPLIES))
@pytest.mark.parametrize("kind", KINDS)
def test_every_reply_names_the_brand_and_fits_one_gsm_segment(
    language: str, kind: KeywordKind
) -> None:
    context = ReplyContext(brand="Boutique Lumiere", per_30_days=4, country="FR")
    text = reply_text(kind, language, context)
    assert "Boutique Lumiere" in text
    analysis = analyze(text)
    assert str(analysis.encoding) == "GSM-7", text
    assert analysis.segments == 1, text


def test_the_french_stop_confirmation_says_how_to_come_back() -> None:
    text = reply_text(KeywordKind.STOP, "fr", ReplyContext(brand="Boutique"))
    assert text == "Vous ne recevrez plus de SMS de Boutique. START pour vous réabonner."


def test_help_names_contact_frequency_and_stop_and_rates_for_us_numbers() -> None:
    us = ReplyContext(brand="Shop", contact="help@shop.example", per_30_days=4, country="US")
    text = reply_text(KeywordKind.HELP, "en", us)
    assert text == (
        "Shop: help@shop.example, up to 4 msgs/month. Msg & data rates may apply. "
        "Reply STOP to opt out."
    )
    fr = reply_text(KeywordKind.HELP, "fr", ReplyContext(brand="Shop", country="FR"))
    assert "rates" not in fr
    assert "coût" not in fr
    assert fr == "Shop : fréquence variable. STOP pour vous désabonner."


def test_a_workspace_help_text_is_used_as_it_is() -> None:
    context = ReplyContext(brand="Shop", help_text="Shop: call 01 23 45 67 89. STOP to end.")
    assert reply_text(KeywordKind.HELP, "de", context) == "Shop: call 01 23 45 67 89. STOP to end."


@pytest.mark.parametrize(
    ("keyword_language", "contact_language", "country", "expected"),
    [
        ("es", "fr", "FR", "es"),  # the keyword's own language wins
        (None, "de", "FR", "de"),  # a shared keyword (STOP): the contact's language
        (None, "DE-at", "FR", "de"),
        (None, None, "FR", "fr"),  # else the number's country
        (None, None, "BE", "fr"),
        (None, None, "MX", "es"),
        (None, None, "AT", "de"),
        (None, "it", "IT", "en"),  # a language without replies: English
        (None, None, None, "en"),
    ],
)
def test_reply_language(
    keyword_language: str | None, contact_language: str | None, country: str | None, expected: str
) -> None:
    assert reply_language(keyword_language, contact_language, country) == expected
