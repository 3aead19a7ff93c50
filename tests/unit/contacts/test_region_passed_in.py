"""The region a national number is read in is the caller's to give: no setting is read."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from textopt import config
from textopt.contacts import service
from textopt.contacts.service import normalise_phone
from textopt.dispatch import listing
from textopt.errors import InvalidPhoneNumber


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the settings fails the test: the region comes from the caller only."""

    def refuse() -> config.Settings:
        raise AssertionError("domain code read the settings")

    monkeypatch.setattr(config, "get_settings", refuse)
    monkeypatch.setenv("TEXTOPT_DEFAULT_REGION", "DE")  # a configured region would be wrong


def test_a_national_number_is_read_in_the_region_passed() -> None:
    french = normalise_phone("06 12 34 56 78", default_region="FR")
    american = normalise_phone("(305) 555-1234", default_region="US")
    assert (french.e164, french.country) == ("+33612345678", "FR")
    assert (american.e164, american.country) == ("+13055551234", "US")


def test_the_same_digits_change_meaning_with_the_region() -> None:
    belgian = normalise_phone("0470 12 34 56", default_region="be")
    french = normalise_phone("0470 12 34 56", default_region="FR")
    assert (belgian.e164, belgian.country) == ("+32470123456", "BE")
    assert (french.e164, french.country) == ("+33470123456", "FR")


def test_a_number_foreign_to_the_region_is_refused() -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone("06 12 34 56 78", default_region="US")


def test_an_international_number_ignores_the_region() -> None:
    assert normalise_phone("+33 6 12 34 56 78", default_region="US").e164 == "+33612345678"


@pytest.mark.parametrize(
    "function",
    [
        service.normalise_phone,
        service.create_contact,
        service.update_contact,
        service.get_contact_by_phone,
        service.get_contact_by_phone_or_raise,
        service.get_contact_by_address_or_raise,
        service.find_contact_or_raise,
        listing.list_messages,
    ],
)
def test_the_region_is_a_required_keyword(function: Callable[..., Any]) -> None:
    parameter = inspect.signature(function).parameters["default_region"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty
