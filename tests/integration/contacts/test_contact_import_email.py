"""Imports as shops have them: French headers, email-only rows, bad emails, free-text sources,
unknown consent texts, consent-like columns nobody maps; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.contacts import count, read_issues, write_csv
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.consent.models import ConsentEvent, ConsentProof
from textopt.contacts import service
from textopt.contacts.importer import import_contacts

HEADER = [
    "Prénom", "Numéro de portable", "E-mail", "Consentement SMS", "Consentement e-mail",
    "Date consentement", "Source", "Version du texte", "Consentement WhatsApp",
]  # fmt: skip


def test_french_file_with_email_only_rows_bad_emails_free_sources_and_unknown_versions(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    consent_service.add_consent_text(session, version="sms-v1", body="Oui aux SMS.")
    session.commit()
    path = write_csv(
        tmp_path / "clients.csv",
        [
            HEADER,
            [
                "Léa",
                "06 12 34 56 78",
                "lea@example.fr",
                "oui",
                "oui",
                "01/03/2024",
                "magasin",
                "sms-v1",
                "oui",
            ],  # 2: both consents, in store
            [
                "Marc",
                "",
                "marc@example.fr",
                "non",
                "oui",
                "02/03/2024",
                "formulaire boutique",
                "",
                "",
            ],  # 3: email only, email consent from a form
            [
                "Zoé",
                "06 12 34 56 79",
                "zoe@",
                "oui",
                "",
                "03/03/2024",
                "salon 2024",
                "v9",
                "",
            ],  # 4: bad email kept as a warning; unknown source and text version
            ["Noé", "", "noe@", "", "", "", "", "", ""],  # 5: only a bad email: rejected
            ["Ana", "", "ana@example.fr", "oui", "", "04/03/2024", "web", "", ""],  # 6: SMS
            # consent without a number
            ["", "", "", "", "", "", "", "", ""],  # 7: blank, skipped
            ["Marc", "", "MARC@example.fr", "", "", "", "", "", ""],  # 8: duplicate of 3
        ],
        delimiter=";",
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.rows_read, report.created, report.consents_recorded) == (6, 4, 4)
    assert report.rejected == {"bad_email": 1, "duplicate_in_file": 1}
    assert report.warnings == {
        "bad_email": 1,
        "consent_column_unread": 1,
        "consent_source_unknown": 1,
        "consent_without_address": 1,
        "unknown_text_version": 1,
    }
    assert report.rejects_path is not None
    issues = [(i["line"], i["kind"], i["reason"]) for i in read_issues(Path(report.rejects_path))]
    assert [(line, kind) for line, kind, _ in issues] == [
        ("1", "warning"),
        ("4", "warning"),
        ("4", "warning"),
        ("4", "warning"),
        ("5", "reject"),
        ("6", "warning"),
        ("8", "reject"),
    ]
    reasons = [reason for _, _, reason in issues]
    assert reasons[0].startswith('column "Consentement WhatsApp" looks like consent')
    assert reasons[1].startswith('column "E-mail": "zoe@" is not a valid email address')
    assert reasons[1].endswith("the row's phone was kept, without an email")
    assert reasons[2] == (
        'consent source "salon 2024" names no known source: consent recorded as "import", '
        'with "salon 2024" kept as its description'
    )
    assert reasons[3].startswith('consent text version "v9" is not registered')
    assert reasons[4].startswith('column "E-mail": "noe@" is not a valid email address')
    assert reasons[5] == "sms consent claimed but the row has no phone number: not recorded"

    lea = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345678"
    )
    assert (lea.email, lea.attributes) == ("lea@example.fr", {"Consentement WhatsApp": "oui"})
    marc = service.get_contact_by_email_or_raise(session, email="marc@example.fr")
    assert (marc.phone, marc.first_name, marc.timezones) == (None, "Marc", [])
    zoe = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345679"
    )
    assert zoe.email is None
    ana = service.get_contact_by_email_or_raise(session, email="ana@example.fr")

    def granted(contact_id: int) -> dict[str, tuple[str, str | None, dict[str, object]]]:
        rows = session.execute(
            select(ConsentEvent, ConsentProof)
            .join(ConsentProof, ConsentProof.event_id == ConsentEvent.id)
            .where(ConsentEvent.contact_id == contact_id)
        )
        return {e.channel: (e.source, e.consent_text_version, dict(p.data)) for e, p in rows.all()}

    proof = {"ip": None, "file": "clients.csv"}
    assert granted(lea.id) == {
        "sms": ("in-store", "sms-v1", {"phone": "+33612345678", **proof, "line": 2,
                                        "description": "magasin"}),
        "email": ("in-store", "sms-v1", {"email": "lea@example.fr", **proof, "line": 2,
                                          "description": "magasin"}),
    }  # fmt: skip
    assert granted(marc.id) == {
        "email": ("form", None, {"email": "marc@example.fr", **proof, "line": 3,
                                 "description": "formulaire boutique"}),
    }  # fmt: skip
    assert granted(zoe.id) == {
        "sms": ("import", "v9", {"phone": "+33612345679", **proof, "line": 4,
                                 "description": "salon 2024"}),
    }  # fmt: skip
    assert granted(ana.id) == {}
    assert consent_service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_email_only_rows_update_the_contact_holding_the_address(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    known = service.create_contact(
        session, default_region=TEST_REGION, phone="0612345678", email="lea@example.fr"
    )
    letter = service.create_contact(session, default_region=TEST_REGION, email="paul@example.fr")
    session.commit()
    path = write_csv(
        tmp_path / "newsletter.csv",
        [
            ["Courriel", "Prénom", "Newsletter", "Date du consentement", "Origine"],
            ["LEA@example.fr", "Léa", "oui", "2024-03-01", "site web"],
            ["paul@example.fr", "Paul", "", "", ""],
            ["new@example.fr", "", "", "", ""],
        ],
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.updated, report.rejected_total) == (1, 2, 0)
    assert report.consents_recorded == 1
    session.expire_all()
    assert (known.phone, known.first_name, known.timezones) == (
        "+33612345678",
        "Léa",
        ["Europe/Paris"],
    )
    assert (letter.phone, letter.first_name) == (None, "Paul")
    state = consent_service.current_consent(session, contact_id=known.id)
    assert {key: s.source for key, s in state.items()} == {("email", "marketing"): "form"}
    session.commit()  # ends the read transaction, which on SQLite holds the write lock
    again = import_contacts(engine, settings=settings, path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert count(session, ConsentEvent) == 1


def test_two_rows_reaching_one_contact_in_a_batch_keep_the_first(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    service.create_contact(
        session, default_region=TEST_REGION, phone="0612345678", email="lea@example.fr"
    )
    session.commit()
    path = write_csv(
        tmp_path / "twice.csv",
        [
            ["Mobile", "Email", "Prénom", "Ville", "Newsletter"],
            ["06 12 34 56 78", "", "Léa", "", ""],
            ["", "LEA@example.fr", "Lea", "Lyon", "maybe"],  # its warning goes with the row
        ],
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.updated, report.rejected, report.warnings) == (1, {"duplicate_in_file": 1}, {})
    assert report.rejects_path is not None
    [issue] = read_issues(Path(report.rejects_path))
    assert (issue["line"], issue["kind"], issue["reason"]) == (
        "3",
        "reject",
        "duplicate in file: line 2 already updates the contact of LEA@example.fr",
    )
    contact = service.get_contact_by_email_or_raise(session, email="lea@example.fr")
    assert (contact.first_name, contact.attributes) == ("Léa", {})
