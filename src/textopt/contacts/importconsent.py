"""Reading the consent a spreadsheet row claims (pure: no database, no files).

A file may say SMS consent and email consent in separate columns; the date, source, text
version and IP columns are shared. What people write in the source column is free text
("magasin", "formulaire boutique", "salon 2024"): it maps to the closest known source and is
kept word for word as the proof's description, so nothing the file said is lost.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass

from textopt.consent.models import ConsentSource
from textopt.contacts.csvfile import header_key
from textopt.contacts.fields import FALSY, TRUTHY

__all__ = [
    "CONSENT_NO",
    "CONSENT_YES",
    "ConsentClaim",
    "SourceReading",
    "parse_consent_at",
    "parse_consent_ip",
    "read_consent_source",
]

_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?")

#: Cells that claim or deny consent, beyond the yes/no words every flag accepts.
CONSENT_YES = TRUTHY | {"si", "sí", "ja", "j", "ok", "accepte", "accepté", "opt-in", "optin"}
CONSENT_NO = FALSY | {"nein", "opt-out", "optout", "refuse", "refusé"}

#: Words of a free-text source → the known source they mean; the first word found in the
#: text decides ("formulaire boutique" is a form, "magasin Lyon" in-store).
_SOURCE_WORDS: dict[str, ConsentSource] = {
    **dict.fromkeys(
        (
            "magasin", "boutique", "caisse", "comptoir", "agence", "store", "instore", "shop",
            "counter", "till", "tienda", "mostrador", "laden", "filiale", "geschaft", "kasse",
        ),
        ConsentSource.IN_STORE,
    ),
    **dict.fromkeys(
        (
            "form", "formulaire", "formulario", "formular", "site", "website", "web", "online",
            "internet", "landing", "checkout", "signup",
        ),
        ConsentSource.FORM,
    ),
    **dict.fromkeys(("keyword", "motcle", "palabraclave", "schlusselwort"), ConsentSource.KEYWORD),
    **dict.fromkeys(("softoptin",), ConsentSource.SOFT_OPT_IN),
}  # fmt: skip
_EXACT = {header_key(s.value).replace("_", ""): s for s in ConsentSource}


@dataclass(frozen=True, slots=True)
class ConsentClaim:
    """Marketing consent claimed by a row for one channel, complete enough to be recorded.

    `description` holds the file's own words for the source when they are not a source
    name ("magasin"), kept in the proof.
    """

    occurred_at: dt.datetime
    source: ConsentSource
    text_version: str | None
    ip: str | None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SourceReading:
    """A source cell read: the source recorded, the words kept, whether they were known."""

    source: ConsentSource
    description: str | None
    recognised: bool


def read_consent_source(raw: str) -> SourceReading:
    """The known source a source cell names or means; unknown words give `import`."""
    text = " ".join(raw.split())
    words = header_key(text).split("_")
    exact = _EXACT.get("".join(words))
    if exact is not None:
        return SourceReading(source=exact, description=None, recognised=True)
    for here, word in enumerate(words):
        # a word, or two written apart ("mot clé", "soft opt")
        pair = word + words[here + 1] if here + 1 < len(words) else word
        found = _SOURCE_WORDS.get(word) or _SOURCE_WORDS.get(pair)
        if found is not None:
            return SourceReading(source=found, description=text, recognised=True)
    # The file imported it: `import` is true of every row, and the words stay as proof.
    return SourceReading(source=ConsentSource.IMPORT, description=text, recognised=False)


def parse_consent_at(raw: str, *, tz: dt.tzinfo) -> dt.datetime:
    """An instant from ISO 8601 or `dd/mm/yyyy[ hh:mm[:ss]]`; naive times are in `tz`."""
    text = raw.strip()
    match = _FRENCH_DATE.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        value = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    else:
        value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def parse_consent_ip(raw: str) -> str | None:
    """The IP address of a cell in its canonical form, None when it is not one."""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None
