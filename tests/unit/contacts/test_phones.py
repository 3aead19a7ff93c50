"""Parsing phone numbers: every notation people type, and the reasons a number is refused."""

from __future__ import annotations

import pytest

from textopt.contacts.phones import parse_phone
from textopt.errors import InvalidPhoneNumber

PARIS = ("Europe/Paris",)

VALID = [
    # raw, default region, E.164, country, zones, type
    ("06 12 34 56 78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("0612345678", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("06.12.34.56.78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("06-12-34-56-78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("+33 6 12 34 56 78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("+33612345678", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("0033 6 12 34 56 78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("+33 (0)6 12 34 56 78", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("\u00a006\u00a012 34 56 78 ", "FR", "+33612345678", "FR", PARIS, "mobile"),
    ("07 52 34 56 78", "FR", "+33752345678", "FR", PARIS, "mobile"),
    ("01 42 68 53 00", "FR", "+33142685300", "FR", PARIS, "fixed_line"),
    # French overseas departments have their own country codes and zones
    ("+262 692 12 34 56", "FR", "+262692123456", "RE", ("Indian/Reunion",), "mobile"),
    ("00262 693 12 34 56", "FR", "+262693123456", "RE", ("Indian/Reunion",), "mobile"),
    ("+590 690 12 34 56", "FR", "+590690123456", "GP", ("America/Guadeloupe",), "mobile"),
    ("0692 12 34 56", "RE", "+262692123456", "RE", ("Indian/Reunion",), "mobile"),
    # another default region reads national numbers differently
    ("0470 12 34 56", "BE", "+32470123456", "BE", ("Europe/Brussels",), "mobile"),
    ("(212) 555-0123", "US", "+12125550123", "US", ("America/New_York",), "fixed_line_or_mobile"),
    ("415 555 2671", "us", "+14155552671", "US", ("America/Los_Angeles",), "fixed_line_or_mobile"),
    ("07400 123456", "GB", "+447400123456", "GB", ("Europe/London",), "mobile"),
    # international notation ignores the default region
    ("+1 305 555 1234", "FR", "+13055551234", "US", ("America/New_York",), "fixed_line_or_mobile"),
    ("+32 470 12 34 56", "US", "+32470123456", "BE", ("Europe/Brussels",), "mobile"),
]


@pytest.mark.parametrize(("raw", "region", "e164", "country", "zones", "kind"), VALID)
def test_parse_phone_accepts_common_notations(
    raw: str, region: str, e164: str, country: str, zones: tuple[str, ...], kind: str
) -> None:
    info = parse_phone(raw, region)
    assert (info.e164, info.country, info.timezones, info.number_type) == (
        e164,
        country,
        zones,
        kind,
    )


def test_us_toll_free_number_has_every_us_zone_as_candidate() -> None:
    info = parse_phone("+1 800 555 0100", "FR")
    assert info.number_type == "toll_free"
    assert {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"} <= set(
        info.timezones
    )
    assert len(info.timezones) > 4


INVALID = [
    # raw, default region, reason at the end of the message
    ("06 12", "FR", "too short"),
    ("+33 6 12", "FR", "too short"),
    ("06123456789012", "FR", "too long"),
    ("+33 6 12 34 56 78 9", "FR", "too long"),
    ("06 12 AB 56 78", "FR", "it contains letters or symbols"),
    ("O6 12 34 56 78", "FR", "it contains letters or symbols"),
    ("++33612345678", "FR", "it contains letters or symbols"),
    ("+999 1234 5678", "FR", "unknown country code"),
    ("+44 7700 900123", "FR", "no such number range"),  # Ofcom drama range, not a real number
    ("+262 639 12 34 56", "FR", "no such number range"),
    # a Réunion mobile in national notation is read as a French number, which does not exist
    ("0692 12 34 56", "FR", "no such number range"),
    ("0612345678", "US", "no such number range"),
]


@pytest.mark.parametrize(("raw", "region", "reason"), INVALID)
def test_parse_phone_rejects_with_reason(raw: str, region: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_phone(raw, region)
    assert caught.value.message == f'"{raw}" is not a valid number: {reason}'


@pytest.mark.parametrize("raw", ["", "   "])
def test_parse_phone_rejects_empty_input(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="empty phone number"):
        parse_phone(raw, "FR")
