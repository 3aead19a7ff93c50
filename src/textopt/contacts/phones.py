"""Phone numbers: parse any common notation into E.164 with its country and time zones.

Pure functions over `phonenumbers` (Google's libphonenumber metadata).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as pn_timezone

from textopt.errors import InvalidPhoneNumber

__all__ = ["SMS_REFUSED_TYPES", "PhoneInfo", "parse_phone"]

# Characters people put in numbers that carry no meaning.
_SEPARATORS = re.compile(r"[\s\u00a0\u202f.\-()/]")
_UNKNOWN_ZONE = "Etc/Unknown"

_TYPE_NAMES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


#: Number types that cannot receive an SMS: refused for SMS (reason `not_mobile`), kept for
#: email. "fixed_line_or_mobile" (North America...) and VoIP numbers may receive SMS.
SMS_REFUSED_TYPES = frozenset({"fixed_line", "premium_rate", "shared_cost"})


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """What a valid number tells us."""

    e164: str
    country: str  # ISO 3166-1 alpha-2 region of the number, e.g. "FR", "RE", "US"
    timezones: tuple[str, ...]  # candidate IANA zones; several for large countries
    number_type: str  # "mobile", "fixed_line", ...

    @property
    def receives_sms(self) -> bool:
        """Whether an SMS can reach this number (not a fixed line, premium-rate...)."""
        return self.number_type not in SMS_REFUSED_TYPES


def parse_phone(raw: str, default_region: str = "FR") -> PhoneInfo:
    """Parse `raw` (national, +CC or 00CC notation) into a valid number, or raise.

    National notations use `default_region`. The error names the input and why it is
    refused.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        raise InvalidPhoneNumber(f'"{raw}" is not a valid number: it contains letters or symbols')
    try:
        number = phonenumbers.parse(compact, default_region.upper())
    except NumberParseException as exc:
        raise InvalidPhoneNumber(f'"{raw}" is not a valid number: {_parse_reason(exc)}') from exc
    if not phonenumbers.is_possible_number(number):
        reason = _length_reason(number)
        raise InvalidPhoneNumber(f'"{raw}" is not a valid number: {reason}')
    # The type lookup (dozens of regular expressions) is the cost of parsing: do it once.
    # A number is valid exactly when its type is known (what is_valid_number computes).
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.UNKNOWN:
        raise InvalidPhoneNumber(f'"{raw}" is not a valid number: no such number range')
    return _info(number, number_type)


def _info(number: phonenumbers.PhoneNumber, number_type: int) -> PhoneInfo:
    region = phonenumbers.region_code_for_number(number) or "ZZ"
    # As pn_timezone.time_zones_for_number, without looking the type up again.
    if phonenumbers.is_number_type_geographical(number_type, number.country_code or 0):
        found = pn_timezone.time_zones_for_geographical_number(number)
    else:
        found = _country_zones(number)
    zones = [z for z in found if z != _UNKNOWN_ZONE]
    # A shared country code (+262 Réunion and Mayotte) lists every zone of the code; keep
    # those of the number's own region when the zone table names any.
    own = [z for z in zones if z in _zones_of_region(region)]
    zones = own or zones
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=region,
        timezones=tuple(sorted(zones)),
        number_type=_TYPE_NAMES.get(number_type, "unknown"),
    )


# Zones of non-geographic numbers (mobiles...) by country calling code: they depend on the
# code only, so the first valid number of each code answers for all.
_COUNTRY_ZONES: dict[int, tuple[str, ...]] = {}


def _country_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    code = number.country_code or 0
    zones = _COUNTRY_ZONES.get(code)
    if zones is None:
        zones = _COUNTRY_ZONES[code] = tuple(pn_timezone.time_zones_for_number(number))
    return zones


@lru_cache(maxsize=512)
def _zones_of_region(region: str) -> frozenset[str]:
    """IANA zones the tz database lists for an ISO country code (zone.tab)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    return frozenset(
        fields[2]
        for line in table.splitlines()
        if line and not line.startswith("#")
        for fields in [line.split("\t")]
        if fields[0] == region
    )


def _parse_reason(exc: NumberParseException) -> str:
    reasons = {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, str(exc))


def _length_reason(number: phonenumbers.PhoneNumber) -> str:
    result = phonenumbers.is_possible_number_with_reason(number)
    reasons = {
        phonenumbers.ValidationResult.TOO_SHORT: "too short",
        phonenumbers.ValidationResult.TOO_LONG: "too long",
        phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length",
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    }
    return reasons.get(result, "wrong length")
