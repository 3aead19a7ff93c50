"""Prices per country and encoding; cost = segments x price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from textopt.compose import analyze, default_price_table, estimate_cost, price_table
from textopt.errors import ConfigError


def test_defaults_are_packaged_with_a_currency() -> None:
    table = default_price_table()
    assert table.currency == "EUR"
    assert table.unit_price(country="FR", encoding="GSM-7") == Decimal("0.045")
    assert table.unit_price(country="uk", encoding="UCS-2") == Decimal("0.040")
    assert table.unit_price(country="ZZ", encoding="GSM-7") == Decimal("0.080")


def test_cost_is_segments_times_price() -> None:
    result = analyze("ê" * 71, country="FR")
    assert result.cost is not None
    assert result.cost.amount == Decimal("0.090")
    assert result.cost.to_dict()["amount"] == "0.090"


def test_overrides_replace_one_price_and_keep_the_rest() -> None:
    table = price_table(overrides={"FR": {"UCS-2": "0.05"}, "default": {"GSM-7": 1}})
    assert table.unit_price(country="FR", encoding="UCS-2") == Decimal("0.05")
    assert table.unit_price(country="FR", encoding="GSM-7") == Decimal("0.045")
    assert table.unit_price(country="ZZ", encoding="GSM-7") == Decimal(1)


def test_other_currency_needs_a_complete_default_row() -> None:
    with pytest.raises(ConfigError, match="complete 'default' row"):
        price_table(currency="USD")
    table = price_table(currency="USD", overrides={"default": {"GSM-7": "0.01", "UCS-2": "0.01"}})
    cost = estimate_cost(segments=3, encoding="GSM-7", country="FR", prices=table)
    assert (cost.amount, cost.currency) == (Decimal("0.03"), "USD")


@pytest.mark.parametrize("bad", [0.05, "-1", "abc", "NaN", True])
def test_bad_prices_are_refused(bad: object) -> None:
    with pytest.raises(ConfigError):
        price_table(overrides={"FR": {"GSM-7": bad}})  # type: ignore[dict-item]


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown encoding"):
        price_table(overrides={"FR": {"GSM7": "1"}})
