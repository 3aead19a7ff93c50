"""Headers people actually write, free-text consent sources, email-only and bad-email rows."""

from __future__ import annotations

import datetime as dt

import pytest

from textopt.consent.models import ConsentSource
from textopt.contacts.csvfile import looks_like_consent, map_columns
from textopt.contacts.importconsent import read_consent_source
from textopt.contacts.importrows import ImportRow, IssueCode, RowIssue, RowValidator
from textopt.vocab import Channel
from textopt.web.catalogue import EN, FR

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Numéro de portable", "phone"), ("Téléphone portable", "phone"), ("Mobile", "phone"),
        ("Mobil", "phone"), ("Handynummer", "phone"), ("Teléfono móvil", "phone"),
        ("MÓVIL", "phone"), ("  phone   number ", "phone"), ("E-Mail", "email"),
        ("Adresse e-mail", "email"), ("courriel", "email"), ("Correo electrónico", "email"),
        ("Prénom", "first_name"), ("Nombre", "first_name"), ("Vorname", "first_name"),
        ("Nom de famille", "last_name"), ("Nachname", "last_name"),
        ("Consentement SMS", "consent_sms_marketing"), ("Opt-in", "consent_sms_marketing"),
        ("OPT IN SMS", "consent_sms_marketing"), ("Einwilligung", "consent_sms_marketing"),
        ("Consentement e-mail", "consent_email_marketing"),
        ("Newsletter", "consent_email_marketing"),
        ("Date consentement", "consent_at"), ("Date du consentement", "consent_at"),
        ("Fecha de consentimiento", "consent_at"), ("Source du consentement", "consent_source"),
        ("Source", "consent_source"), ("Version du texte", "consent_text_version"),
        ("consent_text_version", "consent_text_version"), ("Adresse IP", "consent_ip"),
    ],
)  # fmt: skip
def test_header_spellings_in_four_languages_name_their_field(header: str, field: str) -> None:
    assert map_columns([header, "email" if field != "email" else "phone"]).fields[field] == 0


def test_consent_like_columns_that_name_no_field_are_reported() -> None:
    columns = map_columns(["Mobile", "Consentement WhatsApp", "RGPD", "Ville"])
    assert columns.unread_consent == ("Consentement WhatsApp", "RGPD")
    assert [a for _, a in columns.attributes] == ["Consentement WhatsApp", "RGPD", "Ville"]
    assert not looks_like_consent("Ville")
    warnings = RowValidator(
        columns, default_region="FR", workspace_timezone="Europe/Paris", now=NOW
    ).file_warnings()
    assert [(w.line, w.kind, w.code, w.column) for w in warnings] == [
        (1, "warning", IssueCode.CONSENT_COLUMN_UNREAD, "Consentement WhatsApp"),
        (1, "warning", IssueCode.CONSENT_COLUMN_UNREAD, "RGPD"),
    ]
    assert 'column "RGPD" looks like consent' in warnings[1].reason


@pytest.mark.parametrize(
    ("raw", "source", "description", "recognised"),
    [
        ("form", ConsentSource.FORM, None, True),
        ("Soft opt-in", ConsentSource.SOFT_OPT_IN, None, True),
        ("in-store", ConsentSource.IN_STORE, None, True),
        ("magasin", ConsentSource.IN_STORE, "magasin", True),
        ("Magasin  de Lyon", ConsentSource.IN_STORE, "Magasin de Lyon", True),
        ("formulaire boutique", ConsentSource.FORM, "formulaire boutique", True),
        ("Tienda Madrid", ConsentSource.IN_STORE, "Tienda Madrid", True),
        ("Geschäft", ConsentSource.IN_STORE, "Geschäft", True),
        ("site web", ConsentSource.FORM, "site web", True),
        ("Mot-clé SMS", ConsentSource.KEYWORD, "Mot-clé SMS", True),
        ("salon 2024", ConsentSource.IMPORT, "salon 2024", False),
    ],
)  # fmt: skip
def test_free_text_sources_map_to_the_closest_source_and_keep_the_words(
    raw: str, source: ConsentSource, description: str | None, recognised: bool
) -> None:
    reading = read_consent_source(raw)
    assert (reading.source, reading.description, reading.recognised) == (
        source,
        description,
        recognised,
    )


FRENCH = [
    "Prénom", "Numéro de portable", "Courriel", "Consentement SMS", "Consentement e-mail",
    "Date consentement", "Source", "Version du texte",
]  # fmt: skip


def check(cells: list[str], *, versions: tuple[str, ...] = ("sms-v1",)) -> ImportRow | RowIssue:
    validator = RowValidator(
        map_columns(FRENCH),
        default_region="FR",
        workspace_timezone="Europe/Paris",
        now=NOW,
        text_versions=versions,
    )
    return validator.validate(7, cells)


def test_email_only_row_is_kept_with_its_email_consent() -> None:
    checked = check(["Léa", "", "lea@example.fr", "", "oui", "01/03/2024", "magasin", ""])
    assert isinstance(checked, ImportRow)
    assert (checked.e164, checked.email, checked.timezones) == (None, "lea@example.fr", [])
    assert set(checked.consents) == {Channel.EMAIL}
    claim = checked.consents[Channel.EMAIL]
    assert (claim.source, claim.description) == (ConsentSource.IN_STORE, "magasin")
    assert checked.warnings == []


def test_sms_consent_without_a_number_is_a_warning_not_a_grant() -> None:
    checked = check(["Léa", "", "lea@example.fr", "oui", "", "01/03/2024", "form", ""])
    assert isinstance(checked, ImportRow)
    assert checked.consents == {}
    assert [(w.code, w.column) for w in checked.warnings] == [
        (IssueCode.CONSENT_WITHOUT_ADDRESS, "Consentement SMS")
    ]


def test_bad_email_keeps_the_row_and_its_number_with_a_warning() -> None:
    checked = check(["Léa", "06 12 34 56 78", "x@", "oui", "oui", "01/03/2024", "form", ""])
    assert isinstance(checked, ImportRow)
    assert (checked.e164, checked.email) == ("+33612345678", None)
    assert set(checked.consents) == {Channel.SMS}
    codes = [(w.code, w.column) for w in checked.warnings]
    assert codes == [
        (IssueCode.BAD_EMAIL, "Courriel"),
        (IssueCode.CONSENT_WITHOUT_ADDRESS, "Consentement e-mail"),
    ]
    reason = checked.warnings[0].reason
    assert reason.startswith('column "Courriel": "x@" is not a valid email address')
    assert reason.endswith("; the row's phone was kept, without an email")


def test_unknown_source_and_text_version_are_recorded_with_warnings() -> None:
    checked = check(["", "0612345678", "", "yes", "", "2024-03-01", "salon 2024", "v9"])
    assert isinstance(checked, ImportRow)
    claim = checked.consents[Channel.SMS]
    assert (claim.source, claim.description, claim.text_version) == (
        ConsentSource.IMPORT,
        "salon 2024",
        "v9",
    )
    assert [(w.code, w.column) for w in checked.warnings] == [
        (IssueCode.CONSENT_SOURCE_UNKNOWN, "Source"),
        (IssueCode.UNKNOWN_TEXT_VERSION, "Version du texte"),
    ]


def test_email_only_duplicates_in_the_file_are_rejected() -> None:
    validator = RowValidator(
        map_columns(["Email"]), default_region="FR", workspace_timezone="Europe/Paris", now=NOW
    )
    assert isinstance(validator.validate(2, ["a@example.fr"]), ImportRow)
    duplicate = validator.validate(3, ["A@example.fr"])
    assert isinstance(duplicate, RowIssue)
    assert (duplicate.code, duplicate.reason) == (
        IssueCode.DUPLICATE_IN_FILE,
        "duplicate in file: A@example.fr, without a number, is already on line 2",
    )


def test_every_import_issue_code_has_words_in_english_and_french() -> None:
    codes = [v for k, v in vars(IssueCode).items() if k.isupper()]
    assert len(codes) >= 20
    for code in codes:
        assert f"import.{code}" in EN, code
        assert f"import.{code}" in FR, code
    assert {"in-store", "consent_email_marketing"} <= EN.keys() & FR.keys()
