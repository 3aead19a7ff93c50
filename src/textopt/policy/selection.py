"""Which pack applies to a recipient: from the number's country, then its state or department.

For +1 numbers the state (US) or province (CA) comes from the contact's region when known,
else from the area code (`packs/_area_codes.toml`). A state with an overlay pack (`US-FL`)
gets the overlay. For France the department picks the regional holidays (Alsace-Moselle:
57, 67, 68) and an overseas number its own department's holidays.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from textopt.policy.packs import load_packs

__all__ = ["Selection", "area_code_region", "select_pack"]

DEFAULT_PACK = "DEFAULT"

# Overseas departments and collectivities dialled with their own country code; the
# `holidays` package lists their holidays as subdivisions of FR.
_FR_OVERSEAS = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "YT": "976",
    "BL": "BL",
    "MF": "MF",
    "PM": "PM",
}
# Departments of metropolitan France with their own holidays (Alsace is "6AE" in `holidays`).
_FR_DEPARTMENTS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    **{code: code for code in ("971", "972", "973", "974", "976")},
}
_COUNTRY_ALIASES = {"UK": "GB"}


@dataclass(frozen=True, slots=True)
class Selection:
    """The pack chosen for a recipient and the facts that chose it."""

    pack: str
    country: str | None
    region: str | None  # US state, CA province or FR department in force
    region_source: str  # "contact", "area code" or "none"
    holiday_subdivision: str | None  # subdivision code for the `holidays` package

    def describe(self) -> str:
        """One line for the decision trace."""
        where = self.country or "unknown country"
        if self.region:
            where += f", region {self.region} (from {self.region_source})"
        return f"pack {self.pack} for {where}"


@cache
def _area_codes() -> dict[str, dict[str, str]]:
    text = resources.files("textopt.policy").joinpath("packs", "_area_codes.toml").read_text()
    data = tomllib.loads(text)
    return {"US": dict(data["US"]), "CA": dict(data["CA"])}


def area_code_region(e164: str | None) -> tuple[str, str] | None:
    """(country, state or province) for a +1 number's area code, or None if unknown."""
    if not e164 or not e164.startswith("+1") or len(e164) < 5:
        return None
    npa = e164[2:5]
    for country, table in _area_codes().items():
        if npa in table:
            return country, table[npa]
    return None


def _normalise_region(region: str | None, country: str) -> str | None:
    if region is None:
        return None
    text = region.strip().upper()
    prefix = f"{country}-"
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text or None


@cache
def _base_packs() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Country → pack, and (base pack, region) → overlay pack."""
    by_country: dict[str, str] = {}
    overlays: dict[tuple[str, str], str] = {}
    for pack in load_packs().values():
        for country in pack.countries:
            by_country[country] = pack.name
        if pack.inherits:
            for region in pack.regions:
                overlays[(pack.inherits, region)] = pack.name
    return by_country, overlays


@lru_cache(maxsize=4096)
def _select(country: str | None, region: str | None, npa_key: str | None) -> Selection:
    by_country, overlays = _base_packs()
    code = _COUNTRY_ALIASES.get((country or "").upper(), (country or "").upper()) or None
    if code is None:
        return Selection(DEFAULT_PACK, None, None, "none", None)
    base = by_country.get(code, DEFAULT_PACK)
    if code in _FR_OVERSEAS:
        return Selection(base, code, _FR_OVERSEAS[code], "number", _FR_OVERSEAS[code])
    own = _normalise_region(region, code)
    source = "contact" if own else "none"
    if code in ("US", "CA") and own is None and npa_key is not None:
        found = area_code_region(npa_key)
        if found is not None and found[0] == code:
            own, source = found[1], "area code"
    if code == "FR":
        return Selection(base, code, own, source, _FR_DEPARTMENTS.get(own or ""))
    pack = overlays.get((base, own), base) if own else base
    subdivision = own if code in ("US", "CA") else None
    return Selection(pack, code, own, source, subdivision)


def select_pack(
    country: str | None, region: str | None = None, e164: str | None = None
) -> Selection:
    """The pack for a recipient in `country` (ISO code of the number), `region`, `e164`."""
    npa_key = e164[:5] if e164 and e164.startswith("+1") else None
    return _select(country, region, npa_key)
