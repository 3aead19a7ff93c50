"""Checking import rows: rejects with reasons, consent claims and their warnings."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from textopt.consent.models import ConsentSource
from textopt.contacts.csvfile import map_columns
from textopt.contacts.importrows import (
    ImportRow,
    IssueCode,
    RowIssue,
    RowValidator,
    parse_consent_at,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
HEADER = [
    "phone", "email", "timezone", "country", "tags", "customer", "consent_sms_marketing",
    "consent_at", "consent_source", "consent_text_version", "consent_ip", "city",
]  # fmt: skip


def validator() -> RowValidator:
    return RowValidator(
        map_columns(HEADER), default_region="FR", workspace_timezone="Europe/Paris", now=NOW
    )


def row(**cells: str) -> list[str]:
    names = {"customer": "customer", "city": "city"}
    return [cells.get(names.get(h, h), "") for h in HEADER]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T14:30:00+01:00", dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)),
        ("2024-03-01T13:30:00Z", dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)),
        ("2024-03-01 14:30", dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)),  # naive = Paris
        ("2024-07-01", dt.datetime(2024, 6, 30, 22, 0, tzinfo=dt.UTC)),  # summer time
        ("01/03/2024", dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.UTC)),
        ("01/03/2024 14:30", dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)),
        ("1/3/2024 14h30", dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)),
        ("01/03/2024 14:30:15", dt.datetime(2024, 3, 1, 13, 30, 15, tzinfo=dt.UTC)),
    ],
)
def test_consent_at_reads_iso_and_french_dates(raw: str, expected: dt.datetime) -> None:
    assert parse_consent_at(raw, tz=PARIS) == expected


@pytest.mark.parametrize("raw", ["yesterday", "31/02/2024", "2024-13-01", "03/01/24"])
def test_consent_at_refuses_what_is_not_a_date(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is datetime's own
        parse_consent_at(raw, tz=PARIS)


def test_valid_row_keeps_only_given_cells() -> None:
    checked = validator().validate(
        2, row(phone="06 12 34 56 78", tags="vip|paris", customer="oui", city=" Lyon ")
    )
    assert isinstance(checked, ImportRow)
    assert checked.e164 == "+33612345678"
    assert checked.values == {"is_customer": True}
    assert checked.tags == ["vip", "paris"]
    assert checked.attributes == {"city": "Lyon"}
    assert checked.consent is None
    assert checked.warnings == []


@pytest.mark.parametrize(
    ("cells", "code", "reason"),
    [
        ({"phone": "06 12"}, IssueCode.INVALID_NUMBER, '"06 12" is not a valid number: too short'),
        ({"phone": ""}, IssueCode.NO_ADDRESS, "no phone number and no email address"),
        ({"email": "nope"}, IssueCode.BAD_EMAIL,
         'column "email": "nope" is not a valid email address'),
        ({"phone": "0612345678", "timezone": "Europe/Lyon"}, IssueCode.UNKNOWN_TIMEZONE,
         'unknown time zone "Europe/Lyon"'),
        ({"phone": "0612345678", "country": "France"}, IssueCode.BAD_VALUE, 'country "FRANCE"'),
        ({"phone": "0612345678", "customer": "peut-être"}, IssueCode.BAD_VALUE, "customer"),
        ({"phone": "0612345678", "consent_sms_marketing": "oui", "consent_at": "hier"},
         IssueCode.BAD_CONSENT_AT, 'consent_at "hier" is not a date'),
    ],
)  # fmt: skip
def test_bad_rows_are_rejected_with_code_and_reason(
    cells: dict[str, str], code: str, reason: str
) -> None:
    checked = validator().validate(7, row(**cells))
    assert isinstance(checked, RowIssue)
    assert (checked.line, checked.kind, checked.code) == (7, "reject", code)
    assert reason in checked.reason


def test_duplicate_names_the_line_of_the_first_occurrence() -> None:
    check = validator()
    assert isinstance(check.validate(2, row(phone="06 12 34 56 78")), ImportRow)
    assert isinstance(check.validate(3, row(phone="06 12")), RowIssue)
    duplicate = check.validate(4, row(phone="+33612345678"))
    assert isinstance(duplicate, RowIssue)
    assert duplicate.code == IssueCode.DUPLICATE_IN_FILE
    assert duplicate.reason == "duplicate in file: +33612345678 is already on line 2"


def test_row_with_extra_cells_is_rejected_but_trailing_empty_cells_are_not() -> None:
    check = validator()
    assert isinstance(check.validate(2, [*row(phone="0612345678"), "", ""]), ImportRow)
    extra = check.validate(3, [*row(phone="0612345679"), "oops"])
    assert isinstance(extra, RowIssue)
    assert extra.code == IssueCode.BAD_ROW


def test_complete_consent_claim_is_attached() -> None:
    checked = validator().validate(
        2,
        row(
            phone="0612345678",
            consent_sms_marketing="Oui",
            consent_at="01/03/2024 14:30",
            consent_source="FORM",
            consent_text_version="sms-fr-v1",
            consent_ip="203.0.113.7",
        ),
    )
    assert isinstance(checked, ImportRow)
    assert checked.consent is not None
    assert checked.consent.occurred_at == dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)
    assert checked.consent.source is ConsentSource.FORM
    assert (checked.consent.text_version, checked.consent.ip) == ("sms-fr-v1", "203.0.113.7")


@pytest.mark.parametrize(
    ("cells", "code", "reason"),
    [
        ({"consent_sms_marketing": "yes"}, IssueCode.CONSENT_INCOMPLETE,
         "consent claimed without consent_at and consent_source"),
        ({"consent_sms_marketing": "x", "consent_at": "2024-03-01"}, IssueCode.CONSENT_INCOMPLETE,
         "consent claimed without consent_source"),
        ({"consent_sms_marketing": "1", "consent_source": "form"}, IssueCode.CONSENT_INCOMPLETE,
         "consent claimed without consent_at"),
        ({"consent_sms_marketing": "maybe"}, IssueCode.CONSENT_UNCLEAR, "neither yes nor no"),
        ({"consent_sms_marketing": "yes", "consent_at": "2030-01-01", "consent_source": "form"},
         IssueCode.CONSENT_IN_FUTURE, "is in the future"),
    ],
)  # fmt: skip
def test_incomplete_consent_imports_the_contact_with_a_warning(
    cells: dict[str, str], code: str, reason: str
) -> None:
    checked = validator().validate(5, row(phone="0612345678", **cells))
    assert isinstance(checked, ImportRow)
    assert checked.consent is None
    [warning] = checked.warnings
    assert (warning.line, warning.kind, warning.code) == (5, "warning", code)
    assert reason in warning.reason


def test_bad_consent_ip_is_dropped_with_a_warning_but_consent_kept() -> None:
    checked = validator().validate(
        2,
        row(
            phone="0612345678",
            consent_sms_marketing="yes",
            consent_at="2024-03-01",
            consent_source="soft_opt_in",
            consent_ip="999.1.1.1",
        ),
    )
    assert isinstance(checked, ImportRow)
    assert checked.consent is not None
    assert checked.consent.source is ConsentSource.SOFT_OPT_IN
    assert checked.consent.ip is None
    assert [w.code for w in checked.warnings] == [IssueCode.CONSENT_IP_IGNORED]


def test_no_consent_column_value_means_no_claim_and_no_warning() -> None:
    checked = validator().validate(2, row(phone="0612345678", consent_sms_marketing="non"))
    assert isinstance(checked, ImportRow)
    assert (checked.consent, checked.warnings) == (None, [])
