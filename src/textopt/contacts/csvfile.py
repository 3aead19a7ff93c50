"""Reading contact spreadsheets: encoding and delimiter sniffing, header mapping, line numbers.

Spreadsheets arrive as UTF-8 (with or without a BOM), Windows-1252/Latin-1 from older
Excel versions, separated by `,`, `;` (French Excel) or tabs. Headers are matched case- and
accent-insensitively against the aliases below; any other column becomes an attribute.

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from textopt.errors import ValidationError

__all__ = [
    "CONSENT_FIELDS",
    "CONTACT_FIELDS",
    "FORMULA_STARTS",
    "REJECTS_COLUMNS",
    "ColumnMap",
    "CsvFormat",
    "header_key",
    "map_columns",
    "open_rows",
    "restore_cell",
    "sniff_delimiter",
    "sniff_encoding",
    "sniff_format",
    "spreadsheet_cell",
]

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t")

#: Field → the header spellings that name it (compared through `header_key`).
_ALIASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone", "phone_number", "mobile", "mobile_phone", "mobile_number", "cell", "cellphone",
        "msisdn", "gsm", "tel", "telephone", "telephone_mobile", "portable", "numero",
        "numero_de_telephone", "num_tel",
    ),
    "email": (
        "email", "e_mail", "mail", "email_address", "courriel", "adresse_email", "adresse_mail",
    ),
    "first_name": ("first_name", "firstname", "first", "given_name", "prenom"),
    "last_name": (
        "last_name", "lastname", "last", "surname", "family_name", "nom", "nom_de_famille",
    ),
    "language": ("language", "lang", "langue", "locale"),
    "country": ("country", "country_code", "pays"),
    "region": ("region", "state", "province", "departement", "dept", "department"),
    "timezone": ("timezone", "time_zone", "tz", "fuseau", "fuseau_horaire"),
    "tags": ("tags", "tag", "labels", "etiquettes", "segments"),
    "is_customer": ("customer", "is_customer", "client", "est_client"),
    "consent_sms_marketing": ("consent_sms_marketing", "sms_marketing_consent", "consent_sms"),
    "consent_at": ("consent_at", "consent_date", "consented_at", "date_consentement"),
    "consent_source": ("consent_source", "source_consentement"),
    "consent_text_version": ("consent_text_version", "consent_text", "consent_version"),
    "consent_ip": ("consent_ip", "consent_ip_address"),
}  # fmt: skip

CONTACT_FIELDS = (
    "phone", "email", "first_name", "last_name", "language", "country", "region", "timezone",
    "tags", "is_customer",
)  # fmt: skip
CONSENT_FIELDS = (
    "consent_sms_marketing", "consent_at", "consent_source", "consent_text_version", "consent_ip",
)  # fmt: skip


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


_BY_KEY = {header_key(alias): name for name, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each known field is in a row, and which other columns become attributes."""

    headers: tuple[str, ...]
    fields: dict[str, int]
    attributes: tuple[tuple[int, str], ...] = field(default=())

    def has(self, name: str) -> bool:
        """Whether the file has a column for field `name`."""
        return name in self.fields


#: The first columns of a rejects file: skipped, so a corrected rejects file imports as is.
REJECTS_COLUMNS = ("line", "kind", "reason")


def map_columns(headers: list[str], *, source: str = "the file") -> ColumnMap:
    """Map header names to fields; a file without a phone column is refused here."""
    fields: dict[str, int] = {}
    attributes: list[tuple[int, str]] = []
    start = len(REJECTS_COLUMNS) if tuple(headers[:3]) == REJECTS_COLUMNS else 0
    for index, raw in enumerate(headers):
        if index < start:
            continue
        name = raw.replace("\ufeff", "").strip()
        known = _BY_KEY.get(header_key(name))
        if known is None:
            if name:
                attributes.append((index, name))
            continue
        if known in fields:
            first = headers[fields[known]].strip()
            raise ValidationError(
                f'{source}: columns "{first}" and "{name}" both give the {known} field; '
                "rename or remove one",
                field=known,
            )
        fields[known] = index
    if "phone" not in fields:
        found = ", ".join(f'"{h.strip()}"' for h in headers if h.strip()) or "none"
        raise ValidationError(
            f"{source} has no phone column (expected a header such as phone, mobile, "
            f"telephone or portable; columns found: {found})",
            field="phone",
        )
    return ColumnMap(headers=tuple(headers), fields=fields, attributes=tuple(attributes))


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
        known = {_BY_KEY.get(header_key(h)) for h in header} - {None}
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
