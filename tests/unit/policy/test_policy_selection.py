"""Pack selection: country first, then the state (US/CA) or department (FR)."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from textopt.policy import area_code_region, select_pack
from textopt.policy.windows import Calendar, holiday_name


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+13055550123", ("US", "FL")),  # Miami
        ("+18505550123", ("US", "FL")),  # Florida panhandle
        ("+14055550123", ("US", "OK")),
        ("+19185550123", ("US", "OK")),
        ("+14105550123", ("US", "MD")),
        ("+12405550123", ("US", "MD")),
        ("+12125550123", ("US", "NY")),
        ("+17185550123", ("US", "NY")),  # only city-level entries in the source data
        ("+14165550123", ("CA", "ON")),
        ("+15145550123", ("CA", "QC")),
        ("+18005550123", None),  # toll-free: no state
        ("+33612345678", None),  # not +1
        (None, None),
    ],
)
def test_area_code_gives_the_state_or_province(
    e164: str | None, expected: tuple[str, str] | None
) -> None:
    assert area_code_region(e164) == expected


@pytest.mark.parametrize(
    ("country", "region", "e164", "pack", "region_in_force", "subdivision"),
    [
        ("FR", None, "+33612345678", "FR", None, None),
        ("FR", "67", "+33612345678", "FR", "67", "6AE"),  # Bas-Rhin: Alsace holidays
        ("FR", "68", "+33612345678", "FR", "68", "6AE"),  # Haut-Rhin
        ("FR", "57", "+33612345678", "FR", "57", "57"),  # Moselle
        ("FR", "FR-67", "+33612345678", "FR", "67", "6AE"),  # ISO 3166-2 form
        ("FR", "75", "+33612345678", "FR", "75", None),  # Paris: national holidays
        ("RE", None, "+262692123456", "FR", "974", "974"),  # Réunion: FR pack, local holidays
        ("GP", None, "+590690123456", "FR", "971", "971"),
        ("US", None, "+13055550123", "US-FL", "FL", "FL"),  # from the area code
        ("US", None, "+14055550123", "US-OK", "OK", "OK"),
        ("US", None, "+14105550123", "US-MD", "MD", "MD"),
        ("US", None, "+12125550123", "US", "NY", "NY"),
        ("US", "NY", "+13055550123", "US", "NY", "NY"),  # the address wins
        ("US", "fl", "+12125550123", "US-FL", "FL", "FL"),  # case-insensitive
        ("US", None, "+18005550123", "US", None, None),  # toll-free: federal rules
        ("PR", None, "+17875550123", "US", None, None),  # Puerto Rico: TCPA applies
        ("CA", None, "+14165550123", "CA", "ON", "ON"),
        ("GB", None, "+447400123456", "UK", None, None),
        ("UK", None, "+447400123456", "UK", None, None),  # a common alias of GB
        ("GG", None, "+447911123456", "DEFAULT", None, None),  # Guernsey is not the UK
        ("DE", None, "+4915112345678", "DE", None, None),
        ("ES", None, "+34612345678", "ES", None, None),
        ("BE", None, "+32470123456", "BE", None, None),
        ("JP", None, "+819012345678", "DEFAULT", None, None),
        (None, None, None, "DEFAULT", None, None),
    ],
)
def test_pack_is_chosen_from_country_then_region_or_area_code(
    country: str | None,
    region: str | None,
    e164: str | None,
    pack: str,
    region_in_force: str | None,
    subdivision: str | None,
) -> None:
    selection = select_pack(country, region, e164)
    assert (selection.pack, selection.region, selection.holiday_subdivision) == (
        pack,
        region_in_force,
        subdivision,
    )


@pytest.mark.parametrize("subdivision", ["57", "6AE"])
def test_the_holidays_package_knows_the_alsace_moselle_subdivisions(subdivision: str) -> None:
    # Guards against the `holidays` package renaming its subdivisions.
    assert subdivision in holidays.country_holidays("FR").subdivisions
    calendar = Calendar(frozenset(range(7)), 480, 1200, "FR", subdivision)
    assert holiday_name(calendar, dt.date(2026, 4, 3)) is not None  # Good Friday
    assert holiday_name(calendar, dt.date(2026, 12, 26)) is not None  # St Stephen


def test_metropolitan_france_has_neither_alsace_holiday() -> None:
    calendar = Calendar(frozenset(range(7)), 480, 1200, "FR", None)
    assert holiday_name(calendar, dt.date(2026, 4, 3)) is None
    assert holiday_name(calendar, dt.date(2026, 12, 26)) is None
    assert holiday_name(calendar, dt.date(2026, 7, 14)) is not None
