"""What a message costs: segments x the price of one segment for its country and encoding.

Default prices live in the packaged `prices.toml`; a caller passes its contract's prices as
overrides. Money is `Decimal` throughout: a float cannot hold 0.045 exactly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from textopt.errors import ConfigError

__all__ = [
    "ENCODINGS",
    "Cost",
    "PriceTable",
    "default_price_table",
    "estimate_cost",
    "normalise_country",
    "price_table",
]

ENCODINGS = ("GSM-7", "UCS-2")
DEFAULT_KEY = "default"  # the row used for a country the table does not name

# ISO 3166 says GB; people and the policy packs also say UK.
_COUNTRY_ALIASES = {"UK": "GB"}

PriceInput = Decimal | str | int


def normalise_country(country: str) -> str:
    """The ISO 3166 alpha-2 code for `country` (upper case; UK becomes GB)."""
    code = country.strip().upper()
    return _COUNTRY_ALIASES.get(code, code)


@dataclass(frozen=True)
class Cost:
    """The price of a message: `segments` x `unit_price`, in `currency`."""

    amount: Decimal
    currency: str
    unit_price: Decimal
    segments: int
    country: str
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        """The cost as JSON-ready values (decimals as strings, so nothing is rounded)."""
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "unit_price": str(self.unit_price),
            "segments": self.segments,
            "country": self.country,
            "encoding": self.encoding,
        }


@dataclass(frozen=True)
class PriceTable:
    """Price of one segment per country and encoding, with a default row."""

    currency: str
    default: Mapping[str, Decimal]
    countries: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    # prices already looked up: planning asks once per message
    _known: dict[tuple[str, str], Decimal] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def unit_price(self, *, country: str, encoding: str) -> Decimal:
        """The price of one segment to `country` in `encoding`."""
        price = self._known.get((country, encoding))
        if price is None:
            if encoding not in ENCODINGS:
                raise ConfigError(f"unknown encoding {encoding!r}: expected one of {ENCODINGS}")
            row = self.countries.get(normalise_country(country), {})
            price = self._known[(country, encoding)] = row.get(encoding, self.default[encoding])
        return price


def _price(value: object, *, where: str) -> Decimal:
    if isinstance(value, float | bool):
        # A float has already lost the exact price; a bool is a mistake.
        raise ConfigError(f"price {where} must be a decimal string or an integer, not {value!r}")
    try:
        price = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"price {where} is not a number: {value!r}") from exc
    if not price.is_finite() or price < 0:
        raise ConfigError(f"price {where} must be a finite amount >= 0, not {value!r}")
    return price


def _row(values: Mapping[str, Any], *, where: str) -> dict[str, Decimal]:
    unknown = set(values) - set(ENCODINGS)
    if unknown:
        raise ConfigError(f"prices {where}: unknown encoding(s) {sorted(unknown)}")
    return {enc: _price(values[enc], where=f"{where} {enc}") for enc in ENCODINGS if enc in values}


@lru_cache(maxsize=1)
def default_price_table() -> PriceTable:
    """The packaged default prices (`compose/prices.toml`)."""
    data = tomllib.loads(
        resources.files("textopt.compose").joinpath("prices.toml").read_text("utf-8")
    )
    default = _row(data[DEFAULT_KEY], where=DEFAULT_KEY)
    countries = {
        normalise_country(code): _row(row, where=code)
        for code, row in data.get("countries", {}).items()
    }
    return PriceTable(currency=data["currency"], default=default, countries=countries)


def price_table(
    *,
    overrides: Mapping[str, Mapping[str, PriceInput]] | None = None,
    currency: str | None = None,
) -> PriceTable:
    """The default prices with `overrides` ({"FR": {"GSM-7": "0.04"}, "default": {...}}) applied."""
    base = default_price_table()
    overrides = overrides or {}
    rows = {normalise_country(k) if k != DEFAULT_KEY else k: v for k, v in overrides.items()}
    if currency is not None and currency != base.currency:
        # Default prices are in another currency: every price must then come from the caller.
        given_default = _row(rows.get(DEFAULT_KEY, {}), where=DEFAULT_KEY)
        if set(given_default) != set(ENCODINGS):
            raise ConfigError(
                f"prices in {currency} need a complete 'default' row: the packaged defaults "
                f"are in {base.currency}"
            )
        default = given_default
        countries: dict[str, dict[str, Decimal]] = {}
    else:
        default = {**base.default, **_row(rows.get(DEFAULT_KEY, {}), where=DEFAULT_KEY)}
        countries = {code: dict(row) for code, row in base.countries.items()}
    for code, values in rows.items():
        if code != DEFAULT_KEY:
            countries[code] = {**countries.get(code, {}), **_row(values, where=code)}
    return PriceTable(currency=currency or base.currency, default=default, countries=countries)


def estimate_cost(
    *, segments: int, encoding: str, country: str, prices: PriceTable | None = None
) -> Cost:
    """The cost of `segments` segments to `country` in `encoding` (default prices if none)."""
    table = prices or default_price_table()
    unit = table.unit_price(country=country, encoding=encoding)
    return Cost(
        amount=unit * segments,
        currency=table.currency,
        unit_price=unit,
        segments=segments,
        country=normalise_country(country),
        encoding=str(encoding),
    )
