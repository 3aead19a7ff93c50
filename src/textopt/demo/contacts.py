"""The demo shop's customer file: a French spreadsheet of a few thousand plausible contacts.

Deterministic (seeded): the same call writes the same bytes. Written as French Excel saves
a CSV (`;`, UTF-8 with BOM, French headers, `dd/mm/yyyy hh:mm` dates). Contacts live in
mainland France (a few in Alsace, departments 67 and 68), Réunion (+262), Guadeloupe (+590),
Belgium, the United States (area codes that match their state; 555-01xx numbers, which are
reserved for fiction) and the United Kingdom. Most gave SMS marketing consent on the
signup form; some did not; some rows claim consent without time or source (import
warnings), and about 1% are broken (short numbers, letters, duplicates, bad emails,
unknown time zones) to show the rejects report.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textopt.contacts.phones import parse_phone
from textopt.errors import InvalidPhoneNumber

__all__ = ["DEMO_HEADER", "FEATURED_FR_NUMBER", "FEATURED_US_NUMBER", "write_demo_csv"]

DEMO_HEADER = [
    "Téléphone", "Prénom", "Nom", "E-mail", "Langue", "Département", "Fuseau horaire",
    "Étiquettes", "Client", "Ville", "consent_sms_marketing", "consent_at", "consent_source",
    "consent_text_version", "consent_ip",
]  # fmt: skip

#: A Florida customer with consent, the example of `textopt campaign why` in the demo.
FEATURED_US_NUMBER = "+1 305 555 0142"
#: A Parisian VIP who gave consent on the form at 10:12 Paris time: the README tour's
#: `consent history`, `policy check` and `send` use her number, written as people write it.
FEATURED_FR_NUMBER = "06 12 34 56 78"

_FR_FIRST = [
    "Léa", "Manon", "Chloé", "Camille", "Inès", "Jade", "Louise", "Zoé", "Alice", "Emma",
    "Hugo", "Louis", "Gabriel", "Jules", "Arthur", "Lucas", "Noé", "Théo", "Raphaël", "Maël",
    "Élodie", "Françoise", "Hélène", "Jérôme", "François", "Stéphane", "Cédric", "Anaïs",
]  # fmt: skip
_FR_LAST = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Mercier",
]  # fmt: skip
_ALSACE_LAST = ["Muller", "Schmitt", "Meyer", "Weber", "Klein", "Wagner", "Fischer", "Koehler"]
_CREOLE_LAST = ["Payet", "Hoarau", "Grondin", "Fontaine", "Técher", "Boyer", "Jacoby", "Nativel"]
_BE_FIRST = ["Lotte", "Lucas", "Emma", "Noah", "Louise", "Arthur", "Elise", "Wout", "Marie"]
_BE_LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Dubois"]
_EN_FIRST = [
    "Olivia", "Emma", "Amelia", "Sophia", "James", "Oliver", "Liam", "Noah", "Ethan", "Mia",
    "Harper", "Jack", "George", "Isla", "Charlotte", "Henry", "Grace", "Lucas", "Ava",
]  # fmt: skip
_EN_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Clark", "Lewis", "Walker", "Hall", "Evans", "Wright",
]  # fmt: skip

_FR_CITIES = [
    ("75", "Paris"), ("69", "Lyon"), ("13", "Marseille"), ("31", "Toulouse"), ("33", "Bordeaux"),
    ("44", "Nantes"), ("59", "Lille"), ("06", "Nice"), ("35", "Rennes"), ("34", "Montpellier"),
]  # fmt: skip
_ALSACE_CITIES = [("67", "Strasbourg"), ("67", "Haguenau"), ("68", "Colmar"), ("68", "Mulhouse")]
_US_AREAS = [
    ("FL", "305", "Miami"), ("FL", "786", "Miami"), ("FL", "407", "Orlando"),
    ("FL", "813", "Tampa"), ("NY", "212", "New York"), ("NY", "646", "New York"),
    ("NY", "718", "Brooklyn"), ("NY", "917", "New York"), ("CA", "415", "San Francisco"),
    ("CA", "213", "Los Angeles"), ("TX", "512", "Austin"), ("TX", "214", "Dallas"),
    ("IL", "312", "Chicago"), ("WA", "206", "Seattle"),
]  # fmt: skip
_UK_CITIES = ["London", "Manchester", "Bristol", "Leeds", "Edinburgh"]
_TAGS = ["vip", "newsletter", "rdv", "soldes", "carte-fidelite"]


@dataclass(frozen=True, slots=True)
class _Person:
    phone: str  # as written in the file
    e164: str
    first: str
    last: str
    language: str
    region: str
    city: str
    domain: str


class _Numbers:
    """Distinct valid mobile numbers, drawn until phonenumbers accepts one."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self, make: Callable[[], tuple[str, str]], country: str) -> tuple[str, str]:
        """(number as written, E.164) from `make() -> (written, international)` in `country`."""
        for _ in range(1000):
            written, international = make()
            try:
                info = parse_phone(international, "FR")
            except InvalidPhoneNumber:
                continue
            mobile = info.number_type in ("mobile", "fixed_line_or_mobile")
            if info.e164 in self.used or not mobile or info.country != country:
                continue  # e.g. +44 7781 is Jersey, not Great Britain
            self.used.add(info.e164)
            return written, info.e164
        raise RuntimeError("could not draw a valid number")  # pragma: no cover

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(n))


def _pairs(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _french(numbers: _Numbers, rng: random.Random, alsace: bool) -> _Person:
    def make() -> tuple[str, str]:
        national = rng.choice("67") + numbers.digits(8)
        style = rng.random()
        if style < 0.7:
            written = _pairs("0" + national)
        elif style < 0.8:
            written = "+33 " + national[0] + " " + _pairs(national[1:])
        elif style < 0.9:
            written = ".".join(_pairs("0" + national).split())
        else:
            written = "0033" + national
        return written, "+33" + national

    phone, e164 = numbers.draw(make, "FR")
    region, city = rng.choice(_ALSACE_CITIES if alsace else _FR_CITIES)
    last = rng.choice(_ALSACE_LAST if alsace else _FR_LAST)
    return _Person(phone, e164, rng.choice(_FR_FIRST), last, "fr", region, city, "example.fr")


def _overseas(numbers: _Numbers, rng: random.Random, code: str, prefix: str, city: str) -> _Person:
    def make() -> tuple[str, str]:
        rest = numbers.digits(6)
        return f"+{code} {prefix} {_pairs(rest)}", f"+{code}{prefix}{rest}"

    phone, e164 = numbers.draw(make, "RE" if code == "262" else "GP")
    region = "974" if code == "262" else "971"
    first, last = rng.choice(_FR_FIRST), rng.choice(_CREOLE_LAST)
    return _Person(phone, e164, first, last, "fr", region, city, "example.fr")


def _belgian(numbers: _Numbers, rng: random.Random) -> _Person:
    def make() -> tuple[str, str]:
        national = rng.choice(["470", "471", "472", "475", "476", "477", "478", "479", "485"])
        rest = numbers.digits(6)
        return f"+32 {national} {_pairs(rest)}", f"+32{national}{rest}"

    phone, e164 = numbers.draw(make, "BE")
    flemish = rng.random() < 0.5
    city = rng.choice(["Antwerpen", "Gent", "Leuven"] if flemish else ["Bruxelles", "Liège"])
    first, last = rng.choice(_BE_FIRST), rng.choice(_BE_LAST)
    return _Person(phone, e164, first, last, "nl" if flemish else "fr", "", city, "example.be")


def _american(numbers: _Numbers, rng: random.Random, featured: bool) -> _Person:
    state, area, city = ("FL", "305", "Miami") if featured else rng.choice(_US_AREAS)

    def make() -> tuple[str, str]:
        if featured:
            return FEATURED_US_NUMBER, FEATURED_US_NUMBER
        line = f"01{numbers.digits(2)}"  # 555-0100..0199: reserved for fiction
        return f"+1 {area} 555 {line}", f"+1{area}555{line}"

    phone, e164 = numbers.draw(make, "US")
    first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
    return _Person(phone, e164, first, last, "en", state, city, "example.com")


def _british(numbers: _Numbers, rng: random.Random) -> _Person:
    def make() -> tuple[str, str]:
        block = rng.choice(["7400", "7500", "7700", "7800", "7900"])
        rest = numbers.digits(6)
        return f"+44 {block} {rest}", f"+44{block}{rest}"

    phone, e164 = numbers.draw(make, "GB")
    first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
    return _Person(phone, e164, first, last, "en", "", rng.choice(_UK_CITIES), "example.co.uk")


def _featured_french(numbers: _Numbers) -> _Person:
    phone, e164 = numbers.draw(lambda: (FEATURED_FR_NUMBER, "+33612345678"), "FR")
    return _Person(phone, e164, "Léa", "Martin", "fr", "75", "Paris", "example.fr")


def _person(numbers: _Numbers, rng: random.Random, index: int) -> _Person:
    if index == 0:
        return _american(numbers, rng, featured=True)
    if index == 1:
        return _featured_french(numbers)
    draw = rng.random()
    if draw < 0.58:
        return _french(numbers, rng, alsace=False)
    if draw < 0.62:
        return _french(numbers, rng, alsace=True)
    if draw < 0.65:
        return _overseas(numbers, rng, "262", rng.choice(["692", "693"]), "Saint-Denis")
    if draw < 0.67:
        return _overseas(numbers, rng, "590", "690", "Pointe-à-Pitre")
    if draw < 0.77:
        return _belgian(numbers, rng)
    if draw < 0.92:
        return _american(numbers, rng, featured=False)
    return _british(numbers, rng)


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâäîïôöûüùçÉ", "eeeeaaaiioouuucE")
    return text.translate(table).lower().replace(" ", "")


def _consent(rng: random.Random, index: int) -> list[str]:
    if index == 0:
        return ["oui", "12/09/2025 18:42", "form", "sms-fr-v1", "203.0.113.42"]
    if index == 1:
        return ["oui", "14/11/2025 10:12", "form", "sms-fr-v1", "198.51.100.23"]
    draw = rng.random()
    if draw < 0.12:
        return [rng.choice(["non", ""]), "", "", "", ""]
    if draw < 0.17:  # claimed, but the spreadsheet lost when and how: a warning
        return ["oui", "", rng.choice(["", "form"]), "", ""]
    when = dt.datetime(2024, 1, 1, 8, 0) + dt.timedelta(minutes=rng.randrange(60 * 24 * 640))
    ip = f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randrange(1, 255)}"
    written = when.strftime("%d/%m/%Y %H:%M") if rng.random() < 0.8 else when.isoformat()
    return ["oui", written, "form", "sms-fr-v1", ip]


def _row(person: _Person, rng: random.Random, index: int) -> list[str]:
    tags = sorted(set(rng.sample(_TAGS, k=rng.choice([0, 1, 1, 2]))))
    if index == 1:
        tags = ["vip"]
    email = f"{_ascii(person.first)}.{_ascii(person.last)}{index}@{person.domain}"
    return [
        person.phone,
        person.first,
        person.last,
        email if rng.random() < 0.85 else "",
        person.language,
        person.region,
        "",
        ",".join(tags),
        "oui" if index in (0, 1) or rng.random() < 0.6 else "non",
        person.city,
        *_consent(rng, index),
    ]


_BROKEN = ("short", "letters", "duplicate", "email", "timezone")


def _break(row: list[str], kind: str, earlier: list[str], rng: random.Random) -> list[str]:
    """A copy of `row` with one realistic mistake of `kind`."""
    broken = list(row)
    if kind == "short":
        broken[0] = f"06 {rng.randrange(10, 99)}"
    elif kind == "letters":
        broken[0] = f"06 {rng.randrange(10, 99)} AB {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
    elif kind == "duplicate":  # the same number as an earlier row, written another way
        broken[0] = parse_phone(earlier[0], "FR").e164
    elif kind == "email":
        broken[3] = broken[3].split("@")[0] + "@"
    else:
        broken[6] = rng.choice(["Europe/Lyon", "Paris", "GMT+25"])
    return broken


def write_demo_csv(path: Path | str, *, count: int = 3000, seed: int = 2026, first: int = 0) -> int:
    """Write `count` data rows (about 1% of them broken) and return that count.

    Rows are numbered from `first` (the featured customers are rows 0 and 1, e-mail
    addresses carry the number): a second file with a later `first` adds new customers.
    """
    rng = random.Random(seed)
    numbers = _Numbers(rng)
    written: list[list[str]] = []
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(DEMO_HEADER)
        for index in range(first, first + count):
            row = _row(_person(numbers, rng, index), rng, index)
            if index % 100 == 57 and written:  # about 1%
                row = _break(row, _BROKEN[(index // 100) % len(_BROKEN)], rng.choice(written), rng)
            elif len(written) < 500:
                written.append(row)  # candidates for duplicates, kept few
            writer.writerow(row)
    return count
