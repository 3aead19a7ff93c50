"""Checking one spreadsheet row of a contact import (pure: no database, no files).

A row either becomes an `ImportRow` (maybe with warnings) or a reject; both carry the row's
physical line number, and the file's own header of the column at fault, so the person fixing
the file finds it. A row needs a number or an email address: a bad email on a row with a
number is a warning, the number is kept.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from textopt.contacts.csvfile import CONSENT_CLAIMS, ColumnMap
from textopt.contacts.fields import (
    normalise_country,
    normalise_email,
    normalise_language,
    normalise_region,
    normalise_timezone,
    parse_flag,
    split_tags,
)
from textopt.contacts.importconsent import (
    CONSENT_NO,
    CONSENT_YES,
    ConsentClaim,
    SourceReading,
    parse_consent_at,
    parse_consent_ip,
    read_consent_source,
)
from textopt.contacts.phones import PhoneInfo, parse_phone
from textopt.errors import InvalidEmail, InvalidPhoneNumber, InvalidTimezone, ValidationError
from textopt.vocab import Channel

__all__ = [
    "ConsentClaim",
    "ImportRow",
    "IssueCode",
    "RowIssue",
    "RowValidator",
    "parse_consent_at",
]

_NAME_MAX = 200
_TEXT_VERSION_MAX = 64
_OPTIONAL_TEXT = ("first_name", "last_name")


class IssueCode:
    """Reason codes of rejected rows and warnings, as counted in the report."""

    INVALID_NUMBER = "invalid_number"
    NO_ADDRESS = "no_address"  # neither a phone number nor an email address
    DUPLICATE_IN_FILE = "duplicate_in_file"
    BAD_EMAIL = "bad_email"  # a reject when the email was the row's only address, else a warning
    UNKNOWN_TIMEZONE = "unknown_timezone"
    BAD_CONSENT_AT = "bad_consent_at"
    BAD_VALUE = "bad_value"  # country, language, region, tag or customer cell
    BAD_ROW = "bad_row"  # more cells than headers
    # warnings about the file: a column that looks like consent but is not read as one
    CONSENT_COLUMN_UNREAD = "consent_column_unread"
    # warnings: the contact is imported, its consent is not
    CONSENT_INCOMPLETE = "consent_incomplete"
    CONSENT_UNCLEAR = "consent_unclear"
    CONSENT_IN_FUTURE = "consent_in_future"
    CONSENT_WITHOUT_ADDRESS = "consent_without_address"  # SMS consent, no number (or email)
    SUPPRESSED = "suppressed"
    REVOKED_LATER = "revoked_later"
    SOFT_OPT_IN_NOT_CUSTOMER = "soft_opt_in_not_customer"
    NOT_MOBILE = "not_mobile"  # a fixed line (premium-rate...): kept for email, never SMS
    # warnings: the consent is recorded, with something to know about it
    CONSENT_IP_IGNORED = "consent_ip_ignored"
    CONSENT_SOURCE_UNKNOWN = "consent_source_unknown"  # recorded as `import`, words kept
    UNKNOWN_TEXT_VERSION = "unknown_text_version"  # not registered with `consent texts add`


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A rejected row (`kind` "reject") or a warning about an imported row.

    `column` is the file's own header the issue is about, when it is about one.
    """

    line: int
    kind: str
    code: str
    reason: str
    cells: tuple[str, ...] = ()
    column: str | None = None


@dataclass(slots=True)
class ImportRow:
    """A row that passed validation; `values` holds only the non-empty contact cells.

    A row has a number (`e164`), an email address (`values["email"]`) or both.
    """

    line: int
    cells: tuple[str, ...]
    e164: str | None
    number_country: str | None
    timezones: list[str]
    values: dict[str, Any]
    tags: list[str]
    attributes: dict[str, str]
    consents: dict[Channel, ConsentClaim] = field(default_factory=dict)
    warnings: list[RowIssue] = field(default_factory=list)
    number_type: str | None = None  # libphonenumber's type name ("mobile", "fixed_line"...)

    @property
    def email(self) -> str | None:
        """The row's valid email address, if any."""
        email = self.values.get("email")
        return str(email) if email else None

    @property
    def consent(self) -> ConsentClaim | None:
        """The SMS marketing consent the row claims, if recorded."""
        return self.consents.get(Channel.SMS)


class RowValidator:
    """Turns raw rows into `ImportRow`s or rejects, remembering addresses seen in the file.

    `text_versions`: the registered consent text versions (None: not checked).
    """

    def __init__(
        self,
        columns: ColumnMap,
        *,
        default_region: str,
        workspace_timezone: str,
        now: dt.datetime,
        text_versions: Collection[str] | None = None,
    ) -> None:
        self.columns = columns
        self.default_region = default_region
        self.tz = zoneinfo.ZoneInfo(workspace_timezone)
        self.now = now
        self.text_versions = frozenset(text_versions) if text_versions is not None else None
        self.width = len(columns.headers)
        # E.164 digits as an int → line of first occurrence: a compact duplicate check.
        self.seen: dict[int, int] = {}
        # Lower-cased addresses of rows without a number → line of first occurrence.
        self.seen_emails: dict[str, int] = {}
        self._index = columns.fields

    def file_warnings(self) -> list[RowIssue]:
        """Warnings about the header (line 1): consent-like columns that are not read."""
        return [
            RowIssue(
                line=1,
                kind="warning",
                code=IssueCode.CONSENT_COLUMN_UNREAD,
                reason=(
                    f'column "{name}" looks like consent but is not a consent column textopt '
                    "reads: kept as an attribute, no consent recorded from it (name it e.g. "
                    '"Consentement SMS" or "Consentement email")'
                ),
                column=name,
            )
            for name in self.columns.unread_consent
        ]

    def _cell(self, cells: list[str], name: str) -> str:
        index = self._index.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def _column(self, name: str) -> str:
        return self.columns.header(name)

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
        raw_phone, raw_email = self._cell(cells, "phone"), self._cell(cells, "email")
        info: PhoneInfo | None = None
        if raw_phone or not raw_email:
            try:
                info = parse_phone(raw_phone, self.default_region)
            except InvalidPhoneNumber as exc:
                if raw_phone or self.columns.has("email"):
                    reason = exc.message if raw_phone else "no phone number and no email address"
                    code = IssueCode.INVALID_NUMBER if raw_phone else IssueCode.NO_ADDRESS
                    return self._reject(line, kept, code, reason, column="phone")
                return self._reject(line, kept, IssueCode.INVALID_NUMBER, exc.message)
        warnings: list[RowIssue] = []
        try:
            values = self._contact_values(cells)
            tags = split_tags(self._cell(cells, "tags"))
        except InvalidTimezone as exc:
            return self._reject(line, kept, IssueCode.UNKNOWN_TIMEZONE, exc.message)
        except ValidationError as exc:
            return self._reject(line, kept, IssueCode.BAD_VALUE, exc.message)
        if raw_email:
            try:
                values["email"] = normalise_email(raw_email)
            except InvalidEmail as exc:
                where = f'column "{self._column("email")}": {exc.message}'
                if info is None:
                    return self._reject(
                        line, kept, IssueCode.BAD_EMAIL, f"{where}; the row has no phone number"
                    )
                warnings.append(
                    RowIssue(
                        line=line,
                        kind="warning",
                        code=IssueCode.BAD_EMAIL,
                        reason=f"{where}; the row's phone was kept, without an email",
                        cells=kept,
                        column=self._column("email"),
                    )
                )
        row = ImportRow(
            line=line,
            cells=kept,
            e164=info.e164 if info else None,
            number_country=info.country if info else None,
            timezones=list(info.timezones) if info else [],
            number_type=info.number_type if info else None,
            values=values,
            tags=tags,
            attributes={
                name: cells[i].strip()
                for i, name in self.columns.attributes
                if i < len(cells) and cells[i].strip()
            },
            warnings=warnings,
        )
        problem = self._consent(row, cells)
        if problem is not None:
            return problem
        if info is not None and not info.receives_sms:
            # refused for SMS (no SMS consent recorded, every SMS blocked `not_mobile`) and
            # kept for email
            row.consents.pop(Channel.SMS, None)
            self._warn(
                row,
                IssueCode.NOT_MOBILE,
                f"{info.e164} is a {info.number_type.replace('_', ' ')} number: it cannot "
                "receive SMS; kept for email, without SMS consent",
                column=self._column("phone"),
            )
        return self._first_in_file(row)

    def _first_in_file(self, row: ImportRow) -> ImportRow | RowIssue:
        """The row, or a reject when its number (or, without one, its email) came before."""
        if row.e164 is not None:
            key = int(row.e164[1:])
            first = self.seen.get(key)
            if first is not None:
                return self._reject(
                    row.line,
                    row.cells,
                    IssueCode.DUPLICATE_IN_FILE,
                    f"duplicate in file: {row.e164} is already on line {first}",
                )
            self.seen[key] = row.line
            return row
        email = (row.email or "").lower()
        first = self.seen_emails.get(email)
        if first is not None:
            return self._reject(
                row.line,
                row.cells,
                IssueCode.DUPLICATE_IN_FILE,
                f"duplicate in file: {row.email}, without a number, is already on line {first}",
            )
        self.seen_emails[email] = row.line
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

    def _claimed(self, row: ImportRow, cells: list[str]) -> list[Channel]:
        """The channels whose consent column says yes; warnings for unclear cells."""
        channels: list[Channel] = []
        for channel, name in CONSENT_CLAIMS.items():
            claimed = self._cell(cells, name).lower()
            if claimed in CONSENT_NO:
                continue
            if claimed not in CONSENT_YES:
                self._warn(
                    row,
                    IssueCode.CONSENT_UNCLEAR,
                    f'{self._column(name)} "{claimed}" is neither yes nor no: imported '
                    f"without {channel} consent",
                    column=self._column(name),
                )
                continue
            address = row.e164 if channel == Channel.SMS else row.email
            if address is None:
                what = "phone number" if channel == Channel.SMS else "valid email address"
                self._warn(
                    row,
                    IssueCode.CONSENT_WITHOUT_ADDRESS,
                    f"{channel} consent claimed but the row has no {what}: not recorded",
                    column=self._column(name),
                )
                continue
            channels.append(Channel(channel))
        return channels

    def _consent(self, row: ImportRow, cells: list[str]) -> RowIssue | None:
        """Attach the consent claims or warnings to `row`; a reject if consent_at is garbage."""
        channels = self._claimed(row, cells)
        if not channels:
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
                    f'{self._column("consent_at")} "{raw_at}" is not a date '
                    "(expected e.g. 2024-03-01T14:30, 2024-03-01 or 01/03/2024 14:30)",
                    column="consent_at",
                )
        raw_source = self._cell(cells, "consent_source")
        if occurred_at is None or not raw_source:
            missing = " and ".join(
                self._column(n)
                for n, v in (("consent_at", occurred_at), ("consent_source", raw_source))
                if not v
            )
            self._warn(
                row,
                IssueCode.CONSENT_INCOMPLETE,
                f"consent claimed without {missing}: imported without consent",
                column=self._column("consent_at" if occurred_at is None else "consent_source"),
            )
            return None
        if occurred_at > self.now:
            self._warn(
                row,
                IssueCode.CONSENT_IN_FUTURE,
                f"{self._column('consent_at')} {raw_at} is in the future: imported without consent",
                column=self._column("consent_at"),
            )
            return None
        reading = self._source(row, raw_source)
        # one claim for every channel the row consents to: the date and proof are shared
        claim = ConsentClaim(
            occurred_at=occurred_at,
            source=reading.source,
            text_version=self._text_version(row, cells),
            ip=self._ip(row, cells),
            description=reading.description,
        )
        row.consents.update(dict.fromkeys(channels, claim))
        return None

    def _source(self, row: ImportRow, raw: str) -> SourceReading:
        reading = read_consent_source(raw)
        if not reading.recognised:
            self._warn(
                row,
                IssueCode.CONSENT_SOURCE_UNKNOWN,
                f'consent source "{raw}" names no known source: consent recorded as '
                f'"{reading.source}", with "{reading.description}" kept as its description',
                column=self._column("consent_source"),
            )
        return reading

    def _text_version(self, row: ImportRow, cells: list[str]) -> str | None:
        version = self._cell(cells, "consent_text_version")[:_TEXT_VERSION_MAX] or None
        if version and self.text_versions is not None and version not in self.text_versions:
            self._warn(
                row,
                IssueCode.UNKNOWN_TEXT_VERSION,
                f'consent text version "{version}" is not registered: consent recorded with '
                "it; register the text with `textopt consent texts add`",
                column=self._column("consent_text_version"),
            )
        return version

    def _ip(self, row: ImportRow, cells: list[str]) -> str | None:
        raw = self._cell(cells, "consent_ip")
        if not raw:
            return None
        ip = parse_consent_ip(raw)
        if ip is None:
            self._warn(
                row,
                IssueCode.CONSENT_IP_IGNORED,
                f'{self._column("consent_ip")} "{raw}" is not an IP address: consent recorded '
                "without it",
                column=self._column("consent_ip"),
            )
        return ip

    def _reject(
        self,
        line: int,
        cells: tuple[str, ...],
        code: str,
        reason: str,
        *,
        column: str | None = None,
    ) -> RowIssue:
        header = self._column(column) if column else None
        return RowIssue(
            line=line, kind="reject", code=code, reason=reason, cells=cells, column=header
        )

    @staticmethod
    def _warn(row: ImportRow, code: str, reason: str, *, column: str | None = None) -> None:
        row.warnings.append(
            RowIssue(
                line=row.line,
                kind="warning",
                code=code,
                reason=reason,
                cells=row.cells,
                column=column,
            )
        )
