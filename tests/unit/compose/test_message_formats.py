"""Dates, times and money in the contact's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from textopt.compose.formats import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_time,
)
from textopt.errors import ValidationError

DAY = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("language", "short", "long", "full"),
    [
        ("fr", "05/03/2026", "5 mars 2026", "jeudi 5 mars 2026"),
        ("en", "3/5/2026", "March 5, 2026", "Thursday, March 5, 2026"),
        ("en-GB", "05/03/2026", "5 March 2026", "Thursday 5 March 2026"),
        ("es", "05/03/2026", "5 de marzo de 2026", "jueves, 5 de marzo de 2026"),
        ("de", "05.03.2026", "5. März 2026", "Donnerstag, 5. März 2026"),
    ],
)
def test_dates(language: str, short: str, long: str, full: str) -> None:
    assert format_date(DAY, language=language, style="short") == short
    assert format_date(DAY, language=language) == long
    assert format_date(DAY, language=language, style="full") == full


def test_french_first_of_the_month_and_iso_text() -> None:
    assert format_date("2026-08-01", language="fr_FR") == "1er août 2026"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "5 mars 2026 à 14:30"),
        ("en", "March 5, 2026 at 2:30 PM"),
        ("de", "5. März 2026 um 14:30"),
        ("es", "5 de marzo de 2026, 14:30"),
    ],
)
def test_datetimes(language: str, expected: str) -> None:
    assert format_datetime(datetime(2026, 3, 5, 14, 30), language=language) == expected


def test_midnight_in_english() -> None:
    assert format_time("00:05", language="en-US") == "12:05 AM"


@pytest.mark.parametrize(
    ("value", "currency", "language", "expected"),
    [
        ("12.5", "EUR", "fr", "12,50 €"),
        ("12.5", "EUR", "en", "€12.50"),
        (Decimal("1234.5"), "EUR", "fr", "1 234,50 €"),
        (Decimal("1234.5"), "EUR", "de", "1.234,50 €"),
        (Decimal("1234.5"), "EUR", "es", "1234,50 €"),
        (Decimal("12345.5"), "EUR", "es", "12.345,50 €"),
        (1234567, "USD", "en", "$1,234,567.00"),
        (-12.5, "GBP", "en-GB", "-£12.50"),
        ("0.005", "EUR", "fr", "0,01 €"),  # half up, never banker's rounding on display
        (1500, "JPY", "en", "¥1,500"),
        (10, "CHF", "fr", "10,00 CHF"),
        (10, "CHF", "en", "CHF 10.00"),
    ],
)
def test_money(value: object, currency: str, language: str, expected: str) -> None:
    assert format_money(value, currency=currency, language=language) == expected


def test_money_uses_plain_spaces_to_stay_gsm() -> None:
    assert "\u202f" not in format_money(1234, currency="EUR", language="fr")
    assert "\u00a0" not in format_money(1234, currency="EUR", language="fr")


def test_numbers() -> None:
    assert format_number(Decimal("1234.5"), language="fr", decimals=2) == "1 234,50"


@pytest.mark.parametrize(
    "call",
    [
        lambda: format_money("abc", currency="EUR", language="fr"),
        lambda: format_money(True, currency="EUR", language="fr"),
        lambda: format_money(1, currency="EURO", language="fr"),
        lambda: format_date("yesterday", language="fr"),
        lambda: format_date(DAY, language="it"),
        lambda: format_date(DAY, language="fr", style="medium"),
    ],
)
def test_bad_values_are_validation_errors(call: object) -> None:
    with pytest.raises(ValidationError):
        call()  # type: ignore[operator]
