"""CSV import on SQLite and PostgreSQL: sniffing, rejects, upsert, consent, idempotency, crashes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.factories.contacts import count, read_issues, write_csv
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.consent.models import ConsentEvent, ConsentProof
from textopt.contacts import service
from textopt.contacts.importer import ImportProgress, import_contacts
from textopt.contacts.models import Contact, ContactTag
from textopt.errors import ValidationError

FRENCH_ROWS = [
    ["Téléphone", "Prénom", "Nom", "Courriel", "Étiquettes", "Ville"],
    ["06 12 34 56 78", "Léa", "Müller", "lea@example.fr", "vip,alsace", "Strasbourg"],
    ["+33 7 52 34 56 78", "Élodie", "Renée", "", "", "Besançon"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_every_encoding_and_delimiter_is_sniffed(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    encoding: str,
    delimiter: str,
    settings: Settings,
) -> None:
    path = write_csv(tmp_path / "in.csv", FRENCH_ROWS, delimiter=delimiter, encoding=encoding)
    report = import_contacts(engine, settings=settings, path=path)
    assert report.delimiter == delimiter
    assert (report.created, report.rejected_total) == (2, 0)
    lea = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345678"
    )
    elodie = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0752345678"
    )
    assert (lea.first_name, lea.last_name, lea.email) == ("Léa", "Müller", "lea@example.fr")
    assert lea.tag_names == ["alsace", "vip"]
    assert (lea.attributes, elodie.attributes) == ({"Ville": "Strasbourg"}, {"Ville": "Besançon"})
    assert (elodie.first_name, elodie.last_name) == ("Élodie", "Renée")


def test_rejects_name_the_physical_line_and_the_reason(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "phone;email;timezone;note\n"  # line 1
        "06 12 34 56 78;a@example.fr;;ok\n"  # 2
        "06 12;;;short\n"  # 3
        '0612345679;;;"two\nlines"\n'  # 4-5
        "\n"  # 6: blank, skipped
        "06 12 AB 56 78;;;letters\n"  # 7
        "0033612345678;;;duplicate of 2\n"  # 8
        "0612345670;pas-un-email;;bad email\n"  # 9
        "0612345671;;Europe/Lyon;bad zone\n"  # 10
        "+262 692 12 34 56;;;reunion\n",  # 11
        encoding="utf-8",
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert report.rows_read == 8
    assert report.created == 4
    assert report.rejected == {
        "invalid_number": 2,
        "duplicate_in_file": 1,
        "unknown_timezone": 1,
    }
    assert report.warnings == {"bad_email": 1}
    assert report.rejects_path == str(tmp_path / "list.rejects.csv")
    issues = read_issues(Path(report.rejects_path))
    assert [(i["line"], i["kind"], i["reason"], i["note"]) for i in issues] == [
        ("3", "reject", '"06 12" is not a valid number: too short', "short"),
        ("7", "reject", '"06 12 AB 56 78" is not a valid number: it contains letters or symbols',
         "letters"),
        ("8", "reject", "duplicate in file: +33612345678 is already on line 2", "duplicate of 2"),
        ("9", "warning", issues[3]["reason"], "bad email"),
        ("10", "reject", 'unknown time zone "Europe/Lyon" (expected e.g. Europe/Paris)',
         "bad zone"),
    ]  # fmt: skip
    assert issues[3]["reason"].startswith(
        'column "email": "pas-un-email" is not a valid email address'
    )
    assert issues[3]["reason"].endswith("the row's phone was kept, without an email")
    assert (
        service.get_contact_by_phone_or_raise(
            session, default_region=TEST_REGION, phone="0612345670"
        ).email
        is None
    )
    assert service.count_contacts(session) == 4
    assert service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345679"
    ).attributes == {"note": "two\nlines"}


def test_file_without_phone_or_email_column_writes_nothing(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "in.csv", [["name", "city"], ["Léa", "Lyon"]])
    with pytest.raises(ValidationError, match=r"in\.csv has neither a phone nor an email column"):
        import_contacts(engine, settings=settings, path=path)
    assert service.count_contacts(session) == 0
    assert not (tmp_path / "in.rejects.csv").exists()


def test_missing_file_is_a_clear_error(engine: Engine, tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        import_contacts(engine, settings=settings, path=tmp_path / "nope.csv")


def test_upsert_merges_into_existing_contacts(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    existing = service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="0612345678",
        email="old@example.fr",
        first_name="Léa",
        attributes={"city": "Lyon", "shoe": "38"},
        tags=["old"],
    )
    session.commit()
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["phone", "email", "first_name", "last_name", "tags", "city", "customer"],
            ["+33 6 12 34 56 78", "new@example.fr", "", "Martin", "vip|old", "Paris", "oui"],
            ["0612345679", "", "Paul", "", "", "", ""],
        ],
    )
    report = import_contacts(engine, settings=settings, path=path, rejects_path=tmp_path / "r.csv")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert report.rejects_path is None
    session.expire_all()
    lea = service.get_contact_or_raise(session, contact_id=existing.id)
    assert (lea.email, lea.first_name, lea.last_name) == ("new@example.fr", "Léa", "Martin")
    assert lea.attributes == {"city": "Paris", "shoe": "38"}
    assert lea.tag_names == ["old", "vip"]
    assert lea.is_customer is True
    assert lea.updated_at > lea.created_at
    paul = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345679"
    )
    assert (paul.first_name, paul.country, paul.is_customer) == ("Paul", "FR", False)
    assert not (tmp_path / "r.csv").exists()


def test_region_option_reads_national_numbers_of_another_country(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = write_csv(tmp_path / "in.csv", [["phone"], ["0470 12 34 56"], ["06 12 34 56 78"]])
    report = import_contacts(engine, settings=settings, path=path, default_region="be")
    assert (report.created, report.rejected) == (1, {"invalid_number": 1})
    assert (
        service.get_contact_by_phone_or_raise(
            session, default_region=TEST_REGION, phone="+32470123456"
        ).country
        == "BE"
    )


CONSENT_HEADER = [
    "phone", "customer", "consent_sms_marketing", "consent_at", "consent_source",
    "consent_text_version", "consent_ip",
]  # fmt: skip


def test_consent_columns_record_grants_with_proof_and_warn_about_incomplete_ones(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    consent_service.add_consent_text(session, version="sms-fr-v1", body="Oui aux SMS.")
    session.commit()
    path = write_csv(
        tmp_path / "optin.csv",
        [
            CONSENT_HEADER,
            ["0612345678", "", "oui", "01/03/2024 14:30", "form", "sms-fr-v1", "203.0.113.7"],
            ["0612345679", "", "yes", "", "", "", ""],
            ["0612345670", "", "maybe", "2024-03-01", "form", "", ""],
            ["0612345671", "", "no", "", "", "", ""],
            ["0612345672", "non", "yes", "2024-03-01", "soft-opt-in", "", ""],
            ["0612345673", "oui", "yes", "2024-03-01T10:00:00Z", "soft-opt-in", "", ""],
        ],
        delimiter=";",
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.consents_recorded) == (6, 2)
    assert report.warnings == {
        "consent_incomplete": 1,
        "consent_unclear": 1,
        "soft_opt_in_not_customer": 1,
    }
    assert report.rejects_path is not None
    issues = read_issues(Path(report.rejects_path))
    assert [(i["line"], i["kind"]) for i in issues] == [
        ("3", "warning"),
        ("4", "warning"),
        ("6", "warning"),
    ]
    assert "consent claimed without consent_at and consent_source" in issues[0]["reason"]
    granted = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345678"
    )
    [event] = session.scalars(select(ConsentEvent).where(ConsentEvent.contact_id == granted.id))
    proof = session.get(ConsentProof, event.id)
    assert (event.channel, event.purpose, event.action, event.source) == (
        "sms",
        "marketing",
        "granted",
        "form",
    )
    assert event.occurred_at == dt.datetime(2024, 3, 1, 13, 30, tzinfo=dt.UTC)
    assert event.consent_text_version == "sms-fr-v1"
    assert proof is not None
    assert proof.data == {"phone": "+33612345678", "ip": "203.0.113.7", "file": "optin.csv",
                          "line": 2}  # fmt: skip
    soft = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345673"
    )
    state = consent_service.current_consent(session, contact_id=soft.id)[("sms", "marketing")]
    assert (state.status, state.source) == ("granted", "soft-opt-in")
    for phone in ("0612345679", "0612345670", "0612345671", "0612345672"):
        contact = service.get_contact_by_phone_or_raise(
            session, default_region=TEST_REGION, phone=phone
        )
        assert consent_service.current_consent(session, contact_id=contact.id) == {}
    assert consent_service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_suppressed_number_reimported_with_consent_records_no_consent(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    consent_service.suppress(
        session, digest=TEST_DIGEST, phone="+33612345678", channel="sms", reason="keyword"
    )
    session.commit()
    path = write_csv(
        tmp_path / "in.csv",
        [CONSENT_HEADER, ["06 12 34 56 78", "", "oui", "2024-03-01", "form", "", ""]],
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.consents_recorded) == (1, 0)
    assert report.warnings == {"suppressed": 1}
    [issue] = read_issues(tmp_path / "in.rejects.csv")
    assert issue["reason"] == (
        "number is on the sms suppression list (keyword): sms consent not recorded"
    )
    assert count(session, ConsentEvent) == 0


def test_newer_revocation_wins_over_an_imported_grant(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    contact = service.create_contact(session, default_region=TEST_REGION, phone="0612345678")
    consent_service.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="revoked",
        source="cli",
        occurred_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
    )
    session.commit()
    old = write_csv(
        tmp_path / "old.csv",
        [CONSENT_HEADER, ["0612345678", "", "oui", "2024-03-01", "form", "", ""]],
    )
    report = import_contacts(engine, settings=settings, path=old)
    assert (report.consents_recorded, report.warnings) == (0, {"revoked_later": 1})
    session.rollback()
    newer = write_csv(
        tmp_path / "new.csv",
        [CONSENT_HEADER, ["0612345678", "", "oui", "2024-07-01", "form", "", ""]],
    )
    assert import_contacts(engine, settings=settings, path=newer).consents_recorded == 1
    state = consent_service.current_consent(session, contact_id=contact.id)[("sms", "marketing")]
    assert state.status == "granted"


def _mixed_file(path: Path, rows: int) -> Path:
    """Row n (line n + 2): a broken email and no number when n % 17 == 0 (rejected), consent
    claimed without time or source when n % 5 == 0 (warning), two tags when n is odd; then a
    last line repeating the number of n = 1."""
    lines = [["phone", "email", "tags", "city", *CONSENT_HEADER[2:]]]
    for n in range(rows):
        phone = f"06 {n // 10000 + 10:02d} {n % 10000 // 100:02d} {n % 100:02d} 00"
        email = "broken" if n % 17 == 0 else f"p{n}@example.fr"
        phone = "" if n % 17 == 0 else phone
        consent = ["oui", "2024-03-01 10:00", "form", "", "198.51.100.1"]
        if n % 5 == 0:
            consent = ["oui", "", "", "", ""]
        lines.append([phone, email, "a|b" if n % 2 else "c", f"city{n % 7}", *consent])
    lines.append(["06 10 00 01 00", "", "", "", "", "", "", "", ""])  # duplicate of n=1
    return write_csv(path, lines, delimiter=";", encoding="utf-8-sig")


def test_reimporting_the_same_file_changes_nothing(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = _mixed_file(tmp_path / "big.csv", 230)
    first = import_contacts(engine, settings=settings, path=path, batch_size=50)
    events = count(session, ConsentEvent)
    tags = count(session, ContactTag)
    assert first.batches_committed == 5
    assert first.created == 230 - 14
    assert first.rejected == {"bad_email": 14, "duplicate_in_file": 1}
    # 46 rows with n % 5 == 0 claim consent without time or source; 3 of them are rejected
    assert first.consents_recorded == events == 216 - (46 - 3)
    assert first.warnings == {"consent_incomplete": 43}
    second = import_contacts(engine, settings=settings, path=path, batch_size=50)
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)
    assert second.consents_recorded == 0
    assert (second.rejected, second.warnings) == (first.rejected, first.warnings)
    assert (count(session, ConsentEvent), count(session, ContactTag)) == (events, tags)
    assert count(session, Contact) == first.created
    assert consent_service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_crash_after_a_batch_keeps_it_and_a_rerun_completes(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    path = _mixed_file(tmp_path / "big.csv", 120)
    seen: list[ImportProgress] = []

    def crash(state: ImportProgress) -> None:
        seen.append(state)
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        import_contacts(engine, settings=settings, path=path, batch_size=50, progress=crash)
    assert [(s.rows_read, s.batches_committed, s.total_rows) for s in seen] == [(50, 1, 121)]
    # first batch: n = 0..49; n = 0, 17, 34 rejected; of the 10 with n % 5 == 0, 9 are valid
    assert count(session, Contact) == 47
    assert count(session, ConsentEvent) == 47 - 9
    assert consent_service.verify_ledger(session, digest=TEST_DIGEST).ok
    # whole rows only: 24 valid odd rows with two tags each, 23 valid even rows with one
    assert count(session, ContactTag) == 24 * 2 + 23
    report = import_contacts(engine, settings=settings, path=path, batch_size=50)
    # whole file: 8 rejected (n % 17 == 0); 22 valid rows claim consent without time/source
    assert (report.created, report.unchanged) == (112 - 47, 47)
    assert count(session, Contact) == 112
    assert count(session, ConsentEvent) == 112 - 22
    assert consent_service.verify_ledger(session, digest=TEST_DIGEST).ok


def test_proofs_of_an_import_name_file_and_line(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = _mixed_file(tmp_path / "big.csv", 3)
    import_contacts(engine, settings=settings, path=path, source_name="crm-export-2024.csv")
    lines = sorted(p.data["line"] for p in session.scalars(select(ConsentProof)))
    files = {p.data["file"] for p in session.scalars(select(ConsentProof))}
    assert (lines, files) == ([3, 4], {"crm-export-2024.csv"})


def test_corrected_rejects_file_imports_as_is(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [["phone", "first_name", "city"], ["0612345678", "Léa", "Lyon"], ["06 12", "Paul", "Caen"]],
    )
    report = import_contacts(engine, settings=settings, path=path)
    assert report.rejects_path is not None
    rejects = Path(report.rejects_path)
    fixed = rejects.read_text(encoding="utf-8-sig").replace("06 12", "06 12 34 56 79")
    rejects.write_text(fixed, encoding="utf-8-sig")
    again = import_contacts(
        engine, settings=settings, path=rejects, rejects_path=tmp_path / "r2.csv"
    )
    assert (again.created, again.rejected_total) == (1, 0)
    paul = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345679"
    )
    assert (paul.first_name, paul.attributes) == ("Paul", {"city": "Caen"})


def test_rejects_file_cannot_overwrite_the_input(
    engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "in.csv", [["phone"], ["0612345678"]])
    with pytest.raises(ValidationError, match="cannot be the file imported"):
        import_contacts(engine, settings=settings, path=path, rejects_path=path)


def test_clean_rerun_removes_the_earlier_rejects_file(
    engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    path = write_csv(tmp_path / "in.csv", [["phone"], ["0612345678"], ["06 12"]])
    assert import_contacts(engine, settings=settings, path=path).rejects_path is not None
    write_csv(path, [["phone"], ["0612345678"]])
    assert import_contacts(engine, settings=settings, path=path).rejects_path is None
    assert not (tmp_path / "in.rejects.csv").exists()


def test_tags_of_a_file_are_one_whatever_their_case_and_a_segment_finds_them(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    from textopt.campaigns.segments import count_audience

    path = write_csv(
        tmp_path / "in.csv",
        [["phone", "tags"], ["0612345678", "VIP;Vip;Été"], ["0612345679", "vip"]],
    )
    import_contacts(engine, settings=settings, path=path)
    again = write_csv(tmp_path / "again.csv", [["phone", "tags"], ["0612345679", "VIP"]])
    import_contacts(engine, settings=settings, path=again)
    lea = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone="0612345678"
    )
    assert lea.tag_names == ["vip", "été"]
    assert session.scalar(select(func.count()).select_from(ContactTag)) == 3
    assert count_audience(session, filter="tag:VIP", now=dt.datetime.now(dt.UTC)) == 2
    assert service.count_contacts(session, tag="Été") == 1
