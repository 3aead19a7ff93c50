"""Checking one spreadsheet row of a contact import (pure: no database, no files).

A row either becomes an `ImportRow` (maybe with warnings) or a reject; both carry the row's
physical line number so the person fixing the file finds it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from textopt.consent.models import ConsentSource
from textopt.contacts.csvfile import ColumnMap
from textopt.contacts.fields import (
    FALSY,
    TRUTHY,
    normalise_country,
    normalise_email,
    normalise_language,
    normalise_region,
    normalise_timezone,
    parse_flag,
    split_tags,
)
from textopt.contacts.phones import parse_phone
from textopt.errors import InvalidEmail, InvalidPhoneNumber, InvalidTimezone, ValidationError

__all__ = [
    "ConsentClaim",
    "ImportRow",
    "IssueCode",
    "RowIssue",
    "RowValidator",
    "parse_consent_at",
]

_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?")
_NAME_MAX = 200
_TEXT_VERSION_MAX = 64
_SOURCES = {s.value: s for s in ConsentSource} | {"soft_opt_in": ConsentSource.SOFT_OPT_IN}
_OPTIONAL_TEXT = ("first_name", "last_name")


class IssueCode:
    """Reason codes of rejected rows and warnings, as counted in the report."""

    INVALID_NUMBER = "invalid_number"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    BAD_EMAIL = "bad_email"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    BAD_CONSENT_AT = "bad_consent_at"
    BAD_VALUE = "bad_value"  # country, language, region, tag or customer cell
    BAD_ROW = "bad_row"  # more cells than headers
    # warnings: the contact is imported, its consent is not
    CONSENT_INCOMPLETE = "consent_incomplete"
    CONSENT_UNCLEAR = "consent_unclear"
    CONSENT_IN_FUTURE = "consent_in_future"
    CONSENT_IP_IGNORED = "consent_ip_ignored"
    SUPPRESSED = "suppressed"
    REVOKED_LATER = "revoked_later"
    SOFT_OPT_IN_NOT_CUSTOMER = "soft_opt_in_not_customer"
    NOT_MOBILE = "not_mobile"  # a fixed line (premium-rate...): kept for email, never SMS


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A rejected row (`kind` "reject") or a warning about an imported row."""

    line: int
    kind: str
    code: str
    reason: str
    cells: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConsentClaim:
    """SMS marketing consent claimed by a row, complete enough to be recorded."""

    occurred_at: dt.datetime
    source: ConsentSource
    text_version: str | None
    ip: str | None


@dataclass(slots=True)
class ImportRow:
    """A row that passed validation; `values` holds only the non-empty contact cells."""

    line: int
    cells: tuple[str, ...]
    e164: str
    number_country: str
    timezones: list[str]
    values: dict[str, Any]
    tags: list[str]
    attributes: dict[str, str]
    consent: ConsentClaim | None = None
    warnings: list[RowIssue] = field(default_factory=list)
    number_type: str | None = None  # libphonenumber's type name ("mobile", "fixed_line"...)


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


class RowValidator:
    """Turns raw rows into `ImportRow`s or rejects, remembering numbers seen in the file."""

    def __init__(
        self,
        columns: ColumnMap,
        *,
        default_region: str,
        workspace_timezone: str,
        now: dt.datetime,
    ) -> None:
        self.columns = columns
        self.default_region = default_region
        self.tz = zoneinfo.ZoneInfo(workspace_timezone)
        self.now = now
        self.width = len(columns.headers)
        # E.164 digits as an int → line of first occurrence: a compact duplicate check.
        self.seen: dict[int, int] = {}
        self._index = columns.fields

    def _cell(self, cells: list[str], name: str) -> str:
        index = self._index.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def validate(self, line: int, cells: list[str]) -> ImportRow | RowIssue:
        """The checked row, or the reason it is rejected."""
        kept = tuple(cells)
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            return self._reject(
                line,
                kept,
                IssueCode.BAD_ROW,
                f"the row has {len(cells)} cells but the header has {self.width} "
                "(a delimiter inside an unquoted value?)",
            )
        try:
            info = parse_phone(self._cell(cells, "phone"), self.default_region)
        except InvalidPhoneNumber as exc:
            return self._reject(line, kept, IssueCode.INVALID_NUMBER, exc.message)
        values: dict[str, Any] = {}
        try:
            values = self._contact_values(cells)
            tags = split_tags(self._cell(cells, "tags"))
        except InvalidEmail as exc:
            return self._reject(line, kept, IssueCode.BAD_EMAIL, exc.message)
        except InvalidTimezone as exc:
            return self._reject(line, kept, IssueCode.UNKNOWN_TIMEZONE, exc.message)
        except ValidationError as exc:
            return self._reject(line, kept, IssueCode.BAD_VALUE, exc.message)
        row = ImportRow(
            line=line,
            cells=kept,
            e164=info.e164,
            number_country=info.country,
            timezones=list(info.timezones),
            number_type=info.number_type,
            values=values,
            tags=tags,
            attributes={
                name: cells[i].strip()
                for i, name in self.columns.attributes
                if i < len(cells) and cells[i].strip()
            },
        )
        problem = self._consent(row, cells)
        if problem is not None:
            return problem
        if not info.receives_sms:
            # refused for SMS (no SMS consent recorded, every SMS blocked `not_mobile`) and
            # kept for email
            row.consent = None
            self._warn(
                row,
                IssueCode.NOT_MOBILE,
                f"{info.e164} is a {info.number_type.replace('_', ' ')} number: it cannot "
                "receive SMS; kept for email, without SMS consent",
            )
        key = int(info.e164[1:])
        first = self.seen.get(key)
        if first is not None:
            return self._reject(
                line,
                kept,
                IssueCode.DUPLICATE_IN_FILE,
                f"duplicate in file: {info.e164} is already on line {first}",
            )
        self.seen[key] = line
        return row

    def _contact_values(self, cells: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in _OPTIONAL_TEXT:
            text = " ".join(self._cell(cells, name).split())
            if len(text) > _NAME_MAX:
                raise ValidationError(f"{name} is longer than {_NAME_MAX} characters")
            if text:
                values[name] = text
        checks = (
            ("email", normalise_email),
            ("language", normalise_language),
            ("country", normalise_country),
            ("region", normalise_region),
            ("timezone", normalise_timezone),
        )
        for name, check in checks:
            raw = self._cell(cells, name)
            if raw:
                values[name] = check(raw)
        customer = self._cell(cells, "is_customer")
        if customer:
            values["is_customer"] = parse_flag(customer, field="customer")
        return values

    def _consent(self, row: ImportRow, cells: list[str]) -> RowIssue | None:
        """Attach the consent claim or warnings to `row`; a reject if consent_at is garbage."""
        claimed = self._cell(cells, "consent_sms_marketing").lower()
        if claimed in FALSY:
            return None
        if claimed not in TRUTHY:
            self._warn(
                row,
                IssueCode.CONSENT_UNCLEAR,
                f'consent_sms_marketing "{claimed}" is neither yes nor no: '
                "imported without consent",
            )
            return None
        raw_at = self._cell(cells, "consent_at")
        occurred_at = None
        if raw_at:
            try:
                occurred_at = parse_consent_at(raw_at, tz=self.tz)
            except ValueError:
                return self._reject(
                    row.line,
                    row.cells,
                    IssueCode.BAD_CONSENT_AT,
                    f'consent_at "{raw_at}" is not a date '
                    "(expected e.g. 2024-03-01T14:30, 2024-03-01 or 01/03/2024 14:30)",
                )
        raw_source = self._cell(cells, "consent_source")
        if occurred_at is None or not raw_source:
            missing = " and ".join(
                n for n, v in (("consent_at", occurred_at), ("consent_source", raw_source)) if not v
            )
            self._warn(
                row,
                IssueCode.CONSENT_INCOMPLETE,
                f"consent claimed without {missing}: imported without consent",
            )
            return None
        source = _SOURCES.get(raw_source.lower())
        if source is None:
            known = ", ".join(s.value for s in ConsentSource)
            self._warn(
                row,
                IssueCode.CONSENT_UNCLEAR,
                f'consent_source "{raw_source}" is not one of {known}: imported without consent',
            )
            return None
        if occurred_at > self.now:
            self._warn(
                row,
                IssueCode.CONSENT_IN_FUTURE,
                f"consent_at {raw_at} is in the future: imported without consent",
            )
            return None
        version = self._cell(cells, "consent_text_version")[:_TEXT_VERSION_MAX] or None
        row.consent = ConsentClaim(
            occurred_at=occurred_at, source=source, text_version=version, ip=self._ip(row, cells)
        )
        return None

    def _ip(self, row: ImportRow, cells: list[str]) -> str | None:
        raw = self._cell(cells, "consent_ip")
        if not raw:
            return None
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError:
            self._warn(
                row,
                IssueCode.CONSENT_IP_IGNORED,
                f'consent_ip "{raw}" is not an IP address: consent recorded without it',
            )
            return None

    @staticmethod
    def _reject(line: int, cells: tuple[str, ...], code: str, reason: str) -> RowIssue:
        return RowIssue(line=line, kind="reject", code=code, reason=reason, cells=cells)

    @staticmethod
    def _warn(row: ImportRow, code: str, reason: str) -> None:
        row.warnings.append(
            RowIssue(line=row.line, kind="warning", code=code, reason=reason, cells=row.cells)
        )
