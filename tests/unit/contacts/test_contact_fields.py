"""Normalising contact fields: emails, zones, regions, countries, languages, tags, flags."""

from __future__ import annotations

import pytest

from textopt.contacts.fields import (
    normalise_country,
    normalise_email,
    normalise_language,
    normalise_region,
    normalise_tags,
    normalise_timezone,
    parse_flag,
    split_tags,
)
from textopt.errors import InvalidEmail, InvalidTimezone, ValidationError


def test_email_is_normalised_and_empty_is_none() -> None:
    assert normalise_email("  Jean.Dupont@Example.FR ") == "Jean.Dupont@example.fr"
    assert normalise_email("") is None
    assert normalise_email(None) is None


@pytest.mark.parametrize("raw", ["pas-un-email", "a@b", "jean@@example.fr", "jean dupont@x.fr"])
def test_bad_email_is_refused_with_the_address(raw: str) -> None:
    with pytest.raises(InvalidEmail, match="is not a valid email address"):
        normalise_email(raw)


def test_timezone_gets_its_canonical_spelling() -> None:
    assert normalise_timezone("europe/paris") == "Europe/Paris"
    assert normalise_timezone(" America/New_York ") == "America/New_York"
    assert normalise_timezone("") is None


@pytest.mark.parametrize("raw", ["Europe/Lyon", "CET+1", "Mars/Olympus"])
def test_unknown_timezone_is_refused(raw: str) -> None:
    with pytest.raises(InvalidTimezone, match="unknown time zone"):
        normalise_timezone(raw)


def test_region_country_and_language_are_normalised() -> None:
    assert normalise_region(" fl ") == "FL"
    assert normalise_region("67") == "67"
    assert normalise_country("fr") == "FR"
    assert normalise_language("FR_ca") == "fr-ca"
    assert (normalise_region(""), normalise_country(None), normalise_language(" ")) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("check", "raw"),
    [
        (normalise_country, "France"),
        (normalise_country, "F1"),
        (normalise_language, "français"),
        (normalise_region, "X" * 17),
    ],
)
def test_bad_region_country_or_language_is_refused(check: object, raw: str) -> None:
    assert callable(check)
    with pytest.raises(ValidationError):
        check(raw)


def test_tags_are_trimmed_and_deduplicated_in_order() -> None:
    assert normalise_tags([" vip ", "new  client", "vip", ""]) == ["vip", "new client"]
    assert split_tags("vip, paris;  noël|vip") == ["vip", "paris", "noël"]
    assert split_tags("") == []


@pytest.mark.parametrize("tag", ["a,b", "x" * 65])
def test_tag_with_separator_or_too_long_is_refused(tag: str) -> None:
    with pytest.raises(ValidationError, match="tag"):
        normalise_tags([tag])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("oui", True), ("X", True), ("1", True), ("Non", False), ("", False), ("false", False)],
)
def test_flags_read_spreadsheet_yes_and_no(raw: str, expected: bool) -> None:
    assert parse_flag(raw, field="customer") is expected


def test_unclear_flag_is_refused() -> None:
    with pytest.raises(ValidationError, match='customer "maybe" is not a yes/no value'):
        parse_flag("maybe", field="customer")
