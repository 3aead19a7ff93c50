"""Reading contact spreadsheets: encoding and delimiter sniffing, header mapping, line numbers.

Spreadsheets arrive as UTF-8 (with or without a BOM), Windows-1252/Latin-1 from older
Excel versions, separated by `,`, `;` (French Excel) or tabs. Headers are matched case-,
accent-, space- and punctuation-insensitively against the aliases below (English, French,
Spanish, German); any other column becomes an attribute, and one that looks like consent is
reported as unread.

Every CSV textopt writes (exports, rejects files) goes through `spreadsheet_cell`, and
every CSV it reads through `restore_cell`, so that a contact named `=HYPERLINK(...)` is
never a formula in a spreadsheet and an exported file still imports unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from textopt.errors import ValidationError

__all__ = [
    "ATTRIBUTE",
    "CONSENT_CLAIMS",
    "FIELDS",
    "FORMULA_STARTS",
    "IGNORED",
    "MAPPING_TARGETS",
    "REJECTS_COLUMNS",
    "ColumnMap",
    "CsvFormat",
    "header_key",
    "looks_like_consent",
    "map_columns",
    "named_target",
    "open_rows",
    "parse_mapping",
    "restore_cell",
    "sniff_delimiter",
    "sniff_encoding",
    "sniff_format",
    "spreadsheet_cell",
    "suggested_targets",
]

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t")

#: Field → the header spellings that name it, in English, French, Spanish and German
#: (compared through `_lookup_key`: case, accents, spaces and punctuation do not matter).
_ALIASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone", "phone number", "phone no", "mobile", "mobile phone", "mobile number", "mobil",
        "cell", "cellphone", "cell number", "msisdn", "gsm", "tel", "telephone",
        "telephone mobile", "telephone portable", "portable", "numero", "numero de telephone",
        "numero de portable", "numero portable", "numero mobile", "num tel", "n de telephone",
        "no de telephone", "no portable", "telefono", "telefono movil", "movil", "celular",
        "numero de movil", "numero de telefono", "handy", "handynummer", "mobilnummer",
        "mobiltelefon", "telefon", "telefonnummer",
    ),
    "email": (
        "email", "mail", "email address", "adresse email", "adresse mail",
        "adresse electronique", "courriel", "adresse courriel", "correo", "correo electronico",
        "emailadresse", "e mail adresse",
    ),
    "first_name": ("first name", "first", "given name", "prenom", "nombre", "vorname"),
    "last_name": (
        "last name", "last", "surname", "family name", "nom", "nom de famille", "apellido",
        "apellidos", "nachname", "familienname",
    ),
    "language": ("language", "lang", "langue", "locale", "idioma", "sprache"),
    "country": ("country", "country code", "pays", "code pays", "pais", "land"),
    "region": (
        "region", "state", "province", "departement", "dept", "department", "bundesland",
    ),
    "timezone": ("timezone", "time zone", "tz", "fuseau", "fuseau horaire", "zona horaria"),
    "tags": ("tags", "tag", "labels", "etiquettes", "etiquette", "segments", "etiquetas"),
    "is_customer": ("customer", "is customer", "client", "est client", "cliente", "kunde"),
    "consent_sms_marketing": (
        "consent sms marketing", "sms marketing consent", "consent sms", "sms consent",
        "consent", "opt in", "opt in sms", "sms opt in", "consentement", "consentement sms",
        "consentement sms marketing", "accord sms", "consentimiento", "consentimiento sms",
        "einwilligung", "einwilligung sms", "sms einwilligung",
    ),
    "consent_email_marketing": (
        "consent email marketing", "email marketing consent", "consent email", "email consent",
        "opt in email", "email opt in", "newsletter", "consentement email",
        "consentement courriel", "consentement email marketing", "accord email",
        "consentimiento email", "consentimiento correo", "einwilligung email",
        "email einwilligung",
    ),
    "consent_at": (
        "consent at", "consent date", "consented at", "date consent", "opt in date",
        "date opt in", "date consentement", "date du consentement", "date de consentement",
        "fecha consentimiento", "fecha de consentimiento", "fecha del consentimiento",
        "einwilligungsdatum", "datum einwilligung", "datum der einwilligung",
    ),
    "consent_source": (
        "consent source", "source consentement", "source du consentement", "source",
        "origine", "origine du consentement", "opt in source", "fuente", "origen",
        "fuente del consentimiento", "origen del consentimiento", "quelle", "herkunft",
        "einwilligungsquelle",
    ),
    "consent_text_version": (
        "consent text version", "consent text", "consent version", "text version",
        "version texte", "version du texte", "version consentement", "version du consentement",
        "version del texto", "textversion", "version",
    ),
    "consent_ip": (
        "consent ip", "consent ip address", "ip", "ip address", "adresse ip", "ip consentement",
        "ip du consentement", "direccion ip", "ip adresse",
    ),
}  # fmt: skip

#: The fields a column may give, in the order a form lists them.
FIELDS: tuple[str, ...] = tuple(_ALIASES)
#: What a column is read as when it gives no field: an attribute named after its header...
ATTRIBUTE = "attribute"
#: ...or nothing at all.
IGNORED = "ignore"
#: Everything an explicit mapping may name for a column.
MAPPING_TARGETS: tuple[str, ...] = (*FIELDS, ATTRIBUTE, IGNORED)
_TARGET_SPELLINGS = {
    "attr": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "ignored": IGNORED,
    "skip": IGNORED,
}

#: Words of a header that speak of consent: such a column, when it names no field, is
#: reported (a consent that silently became an attribute would be lost proof).
_CONSENT_WORDS = (
    "consent", "optin", "optout", "rgpd", "gdpr", "dsgvo", "einwillig", "accord", "autoris",
    "permission", "abonn", "subscri", "inscri", "stop",
)  # fmt: skip

#: The columns saying whether a person consented, by the channel they consented to.
CONSENT_CLAIMS = {"sms": "consent_sms_marketing", "email": "consent_email_marketing"}


#: A cell a spreadsheet would run as a formula starts with one of these (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number in E.164 (`+33612345678`) starts with `+` but holds no function to call: it is
# written as is, so that other programs read the phone column unchanged.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def spreadsheet_cell(value: str) -> str:
    """A cell as written to any CSV we produce: a would-be formula gets a leading `'`.

    `=HYPERLINK(...)` is written `'=HYPERLINK(...)`, which spreadsheets show as text;
    `restore_cell` removes the quote again when the file is imported.
    """
    if value.startswith(FORMULA_STARTS) and not _E164.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """A cell as read from a CSV: the quote `spreadsheet_cell` added is removed."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def header_key(name: str) -> str:
    """A header reduced to lower-case ASCII words joined by `_` (`Téléphone ` → `telephone`)."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _lookup_key(name: str) -> str:
    """`header_key` without separators: `E-mail`, `e_mail` and `EMail` are one spelling."""
    return header_key(name).replace("_", "")


# Every field's own name is one of its spellings (`consent_text_version`, `is_customer`).
_BY_KEY = {
    _lookup_key(alias): name for name, aliases in _ALIASES.items() for alias in (name, *aliases)
}


def looks_like_consent(name: str) -> bool:
    """Whether a header speaks of consent (`Consentement WhatsApp`, `RGPD`, `Opt-out`)."""
    key = _lookup_key(name)
    return any(word in key for word in _CONSENT_WORDS)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each known field is in a row, and which other columns become attributes."""

    headers: tuple[str, ...]
    fields: dict[str, int]
    attributes: tuple[tuple[int, str], ...] = field(default=())
    #: Columns that look like consent but name no field (kept as attributes, reported).
    unread_consent: tuple[str, ...] = field(default=())

    def has(self, name: str) -> bool:
        """Whether the file has a column for field `name`."""
        return name in self.fields

    def header(self, name: str) -> str:
        """The file's own header of field `name` (`Courriel` for email), for messages."""
        index = self.fields.get(name)
        return self.headers[index].replace("\ufeff", "").strip() if index is not None else name

    def targets(self) -> list[str]:
        """What each column is read as, in file order: a field, `attribute` or `ignore`."""
        read = {index: name for name, index in self.fields.items()}
        read.update((index, ATTRIBUTE) for index, _ in self.attributes)
        return [read.get(index, IGNORED) for index in range(len(self.headers))]


#: The first columns of a rejects file: skipped, so a corrected rejects file imports as is.
REJECTS_COLUMNS = ("line", "kind", "reason")


def named_target(header: str) -> str:
    """What a column is read as by its name alone: its field, else `attribute` (`ignore`
    when it has no name)."""
    name = _clean(header)
    return _BY_KEY.get(_lookup_key(name), ATTRIBUTE) if name else IGNORED


def suggested_targets(headers: list[str]) -> list[str]:
    """What each column would be read as without a mapping, for a form to start from.

    Unlike `map_columns` it never refuses a file: a second column naming a field already
    given is suggested as an attribute, and a rejects file's first columns as ignored.
    """
    start = len(REJECTS_COLUMNS) if tuple(headers[:3]) == REJECTS_COLUMNS else 0
    given: set[str] = set()
    targets: list[str] = []
    for index, header in enumerate(headers):
        target = IGNORED if index < start else named_target(header)
        if target in given:
            target = ATTRIBUTE
        elif target not in (ATTRIBUTE, IGNORED):
            given.add(target)
        targets.append(target)
    return targets


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """`Column=field` pairs (the CLI's `--map`) as a mapping; the last `=` splits."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, equals, target = pair.rpartition("=")
        if not equals or not column.strip():
            raise ValidationError(
                f'"{pair}" is not a mapping: write the column, "=" and the field, '
                'e.g. "Numéro client=phone"',
                field="map",
            )
        mapping[column.strip()] = target.strip()
    return mapping


def _clean(header: str) -> str:
    return header.replace("\ufeff", "").strip()


def _mapped_columns(
    headers: list[str], mapping: Mapping[str, str], *, source: str
) -> dict[int, str]:
    """The column index and target of each entry of an explicit mapping, checked."""
    names = [_clean(h) for h in headers]
    listed = ", ".join(f'"{n}"' for n in names if n) or "none"
    chosen: dict[int, str] = {}
    for column, wanted in mapping.items():
        name = _clean(column)
        found = [i for i, n in enumerate(names) if n == name] or [
            i for i, n in enumerate(names) if n and _lookup_key(n) == _lookup_key(name)
        ]
        if not found:
            raise ValidationError(
                f'{source}: the mapping names a column "{name}" the file does not have '
                f"(columns: {listed})",
                field="mapping",
            )
        if len(found) > 1:
            raise ValidationError(
                f'{source}: {len(found)} columns are named "{name}": rename one to map it',
                field="mapping",
            )
        key = _lookup_key(wanted)
        target = _TARGET_SPELLINGS.get(key) or (
            key if key in (ATTRIBUTE, IGNORED) else _BY_KEY.get(key)
        )
        if target is None:
            raise ValidationError(
                f'{source}: column "{name}" cannot be read as "{wanted.strip()}" '
                f"(expected one of {', '.join(MAPPING_TARGETS)})",
                field="mapping",
            )
        chosen[found[0]] = target
    return chosen


def map_columns(
    headers: list[str], *, source: str = "the file", mapping: Mapping[str, str] | None = None
) -> ColumnMap:
    """Map header names to fields; a file with neither a phone nor an email column is
    refused here.

    `mapping` (column header → a field, `attribute` or `ignore`) overrides what the
    headers' names say for the columns it names; an unknown column or target is refused
    with the column's name. A column mapped explicitly is never reported as unread consent.
    """
    chosen = _mapped_columns(headers, mapping, source=source) if mapping else {}
    fields: dict[str, int] = {}
    attributes: list[tuple[int, str]] = []
    unread: list[str] = []
    start = len(REJECTS_COLUMNS) if tuple(headers[:3]) == REJECTS_COLUMNS else 0
    for index, raw in enumerate(headers):
        if index < start and index not in chosen:
            continue
        name = _clean(raw)
        known = chosen.get(index) or _BY_KEY.get(_lookup_key(name))
        if known == IGNORED:
            continue
        if known is None or known == ATTRIBUTE:
            if name:
                attributes.append((index, name))
                if known is None and looks_like_consent(name):
                    unread.append(name)
            continue
        if known in fields:
            first = _clean(headers[fields[known]])
            raise ValidationError(
                f'{source}: columns "{first}" and "{name}" both give the {known} field; '
                + ("map one of them to another field" if mapping else "rename or remove one"),
                field="mapping" if mapping else known,
            )
        fields[known] = index
    if "phone" not in fields and "email" not in fields:
        found = ", ".join(f'"{h.strip()}"' for h in headers if h.strip()) or "none"
        raise ValidationError(
            f"{source} has neither a phone nor an email column (expected a header such as "
            f"phone, mobile, portable, téléphone, email or courriel; columns found: {found})",
            field="phone",
        )
    return ColumnMap(
        headers=tuple(headers),
        fields=fields,
        attributes=tuple(attributes),
        unread_consent=tuple(unread),
    )


@dataclass(frozen=True, slots=True)
class CsvFormat:
    """How a file is written, and roughly how many lines it has (for progress)."""

    encoding: str
    delimiter: str
    lines: int


def sniff_encoding(path: Path) -> tuple[str, int]:
    """The file's encoding and its count of line feeds, in one bounded-memory pass.

    A BOM decides; otherwise the whole file must decode as UTF-8, else as Windows-1252,
    else it is read as Latin-1 (which decodes any byte).
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _count_lines(path, "utf-8-sig")[1]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _count_lines(path, "utf-16")[1]
    for encoding in ("utf-8", "cp1252"):
        ok, lines = _count_lines(path, encoding)
        if ok:
            return encoding, lines
    return "latin-1", _count_lines(path, "latin-1")[1]


def _count_lines(path: Path, encoding: str) -> tuple[bool, int]:
    """Whether the file decodes in `encoding`, and how many line feeds it holds."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                lines += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, 0
    return True, lines


def sniff_delimiter(sample: str) -> str:
    """The delimiter among `,` `;` and tab: csv.Sniffer's guess checked against the header.

    The candidate that splits the header line into the most known fields wins (then the most
    columns); the sniffer's guess breaks ties, then the order `,` `;` tab.
    """
    if "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # no half line at the end of the sample
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    candidates = ([sniffed] if sniffed else []) + [d for d in DELIMITERS if d != sniffed]

    def score(delimiter: str) -> tuple[int, int]:
        # newline="": the reader itself splits lines, a lone carriage return included
        try:
            header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), [])
        except csv.Error:  # not CSV with this delimiter (a field over the size limit...)
            return 0, 0
        known = {_BY_KEY.get(_lookup_key(h)) for h in header} - {None}
        return len(known), len(header)

    return max(candidates, key=score)  # max keeps the first of equal scores


def sniff_format(path: Path) -> CsvFormat:
    """Sniff the encoding, then the delimiter on the first 64 KiB."""
    encoding, lines = sniff_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(_SAMPLE)
    return CsvFormat(encoding=encoding, delimiter=sniff_delimiter(sample), lines=lines)


def open_rows(
    handle: TextIO, *, delimiter: str
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (physical line where the row starts, cells).

    The header is line 1; a quoted cell spanning lines moves later rows down accordingly.
    Blank lines are skipped.
    """
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = [restore_cell(cell) for cell in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise _not_csv(max(reader.line_num, 1), exc) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        last = reader.line_num
        try:
            for row in reader:
                start, last = last + 1, reader.line_num
                if any(cell.strip() for cell in row):
                    yield start, [restore_cell(cell) for cell in row]
        except csv.Error as exc:
            raise _not_csv(max(reader.line_num, 1), exc) from None

    return header, rows()


def _not_csv(line: int, exc: csv.Error) -> ValidationError:
    return ValidationError(f"line {line}: not readable as CSV ({exc})", field="file")
