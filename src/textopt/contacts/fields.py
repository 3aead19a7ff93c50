"""Normalising and checking a contact's fields (pure functions, shared by service and import).

Each function takes what a person typed and returns the stored form, or raises a
`ValidationError` subclass whose message says what is wrong.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

from textopt.errors import InvalidEmail, InvalidTimezone, ValidationError

__all__ = [
    "FALSY",
    "TRUTHY",
    "check_storable",
    "normalise_country",
    "normalise_email",
    "normalise_language",
    "normalise_region",
    "normalise_tags",
    "normalise_timezone",
    "parse_flag",
    "split_tags",
    "tag_key",
]

#: Spreadsheet spellings of yes and no (English and French), compared lower-cased and trimmed.
TRUTHY = frozenset({"yes", "y", "oui", "o", "true", "vrai", "1", "x"})
FALSY = frozenset({"no", "n", "non", "false", "faux", "0", ""})

_TAG_SEPARATORS = re.compile(r"[,;|]")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_MAX_TAG = 64
_MAX_REGION = 16


def normalise_email(raw: str | None) -> str | None:
    """A syntactically valid email address in normalised form, None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(f'"{text}" is not a valid email address: {exc}', field="email") from exc


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Every IANA zone name, keyed by its lower-case form."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def normalise_timezone(raw: str | None) -> str | None:
    """The canonical spelling of an IANA time zone name, None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    name = _zone_names().get(text.lower())
    if name is None:
        raise InvalidTimezone(
            f'unknown time zone "{text}" (expected e.g. Europe/Paris)', field="timezone"
        )
    return name


def normalise_region(raw: str | None) -> str | None:
    """A state or department code, upper-cased (`fl` → `FL`, `67`), None when empty."""
    text = (raw or "").strip().upper()
    if not text:
        return None
    if len(text) > _MAX_REGION:
        raise ValidationError(
            f'region "{text}" is longer than {_MAX_REGION} characters', field="region"
        )
    return text


def normalise_country(raw: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code, upper-cased, None when empty."""
    text = (raw or "").strip().upper()
    if not text:
        return None
    if not re.fullmatch(r"[A-Z]{2}", text):
        raise ValidationError(
            f'country "{text}" is not a two-letter ISO code (e.g. FR, US)', field="country"
        )
    return text


def normalise_language(raw: str | None) -> str | None:
    """A language tag such as `fr` or `fr-ca`, lower-cased, None when empty."""
    text = (raw or "").strip().lower().replace("_", "-")
    if not text:
        return None
    if not _LANGUAGE.fullmatch(text) or len(text) > 8:
        raise ValidationError(
            f'language "{text}" is not a language code (e.g. fr, en, fr-ca)', field="language"
        )
    return text


def check_storable(value: Any, *, field: str) -> None:
    """Refuse what no database stores and no export writes: a NUL, a lone UTF-16 surrogate
    (`"\\ud800"`, from JSON or a non-UTF-8 command line), NaN or ±Infinity; in text, in
    attribute keys and values, at any depth."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{field} holds a NUL character", field=field)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                f"{field} holds a lone UTF-16 surrogate (not a character)", field=field
            ) from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{field} is {value}: not a number JSON can carry", field=field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_storable(str(key), field=field)
            check_storable(item, field=f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_storable(item, field=f"{field}.{index}")


def tag_key(tag: str) -> str:
    """A tag as stored and compared: spaces collapsed, lower case (`VIP` and `vip` are one)."""
    return " ".join(tag.split()).lower()


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, lower-case, de-duplicated tags in first order; no separators, at most 64 chars."""
    seen: dict[str, None] = {}
    for tag in tags:
        text = tag_key(tag)
        if not text:
            continue
        check_storable(text, field="tags")
        if len(text) > _MAX_TAG:
            raise ValidationError(
                f'tag "{text}" is longer than {_MAX_TAG} characters', field="tags"
            )
        if _TAG_SEPARATORS.search(text):
            raise ValidationError(f'tag "{text}" contains a separator (, ; |)', field="tags")
        seen.setdefault(text, None)
    return list(seen)


def split_tags(raw: str | None) -> list[str]:
    """Tags written in one cell, separated by `,` `;` or `|`."""
    return normalise_tags(_TAG_SEPARATORS.split(raw or ""))


def parse_flag(raw: str | None, *, field: str) -> bool:
    """A yes/no cell (`oui`, `x`, `1`, `non`, empty...) as a boolean."""
    text = (raw or "").strip().lower()
    if text in TRUTHY:
        return True
    if text in FALSY:
        return False
    raise ValidationError(f'{field} "{raw}" is not a yes/no value', field=field)
