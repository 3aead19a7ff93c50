"""Country codes and language tags as words: the table first, then the geocoder data, and
the code itself when neither knows it."""

from __future__ import annotations

import pytest

from textopt.web.places import country_name, language_name


@pytest.mark.parametrize(
    ("code", "lang", "name"),
    [
        ("US", "fr", "États-Unis"),
        ("US", "en", "United States"),
        ("BE", "fr", "Belgique"),
        ("GB", "fr", "Royaume-Uni"),
        ("JP", "fr", "Japon"),
        ("ZZ", "en", None),
    ],
)
def test_country_names_come_from_the_table_then_the_geocoder_data(
    code: str, lang: str, name: str | None
) -> None:
    # an unknown code is shown as stored, never guessed
    assert country_name(code, lang) == (name or code.upper())


def test_language_tags_with_a_region_and_unknown_tags() -> None:
    assert language_name("en-gb", "fr") == "anglais (Royaume-Uni)"
    assert language_name("es", "en") == "Spanish"
    assert language_name("xx", "fr") == "xx"
    assert language_name(None, "fr") == ""
