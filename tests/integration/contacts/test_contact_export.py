"""CSV export: the import's columns, streamed; exporting then importing changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.config import Settings
from textopt.consent import service as consent_service
from textopt.consent.models import ConsentEvent
from textopt.contacts import service
from textopt.contacts.export import EXPORT_COLUMNS, export_contacts
from textopt.contacts.importer import import_contacts
from textopt.contacts.models import Contact
from textopt.contacts.schemas import ContactRead


def _people(session: Session) -> None:
    lea = service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="06 12 34 56 78",
        email="lea@example.fr",
        first_name="Léa",
        last_name="Müller",
        language="fr",
        region="67",
        attributes={"ville": "Strasbourg", "magasin": "Centre; étage 2"},
        tags=["vip", "alsace"],
        is_customer=True,
    )
    service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="+1 305 555 0142",
        first_name="Sophia",
        region="FL",
        timezone="America/New_York",
        attributes={"ville": "Miami"},
    )
    service.create_contact(
        session, default_region=TEST_REGION, phone="+44 7400 123456", last_name='O"Brien, Jr'
    )
    service.create_contact(
        session,
        default_region=TEST_REGION,
        email="nina@example.fr",
        first_name="Nina",
        tags=["news"],
    )
    consent_service.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=lea.id,
        channel="sms",
        purpose="marketing",
        action="granted",
        source="form",
        occurred_at=dt.datetime(2024, 3, 1, 13, 30, 15, 250_000, tzinfo=dt.UTC),
    )
    session.commit()


def _export(session: Session, **kwargs: object) -> tuple[list[dict[str, str]], int]:
    out = io.StringIO()
    result = export_contacts(session, out=out, **kwargs)  # type: ignore[arg-type]
    session.rollback()  # end the read transaction (it holds SQLite's write lock)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), result.rows


def test_export_writes_the_import_columns_and_attributes(session: Session) -> None:
    _people(session)
    rows, written = _export(session, batch_size=2)
    assert written == 4
    assert list(rows[0]) == [*EXPORT_COLUMNS, "magasin", "ville"]
    lea, sophia, brian, nina = rows
    assert lea["phone"] == "+33612345678"
    assert (lea["tags"], lea["customer"], lea["region"]) == ("alsace|vip", "yes", "67")
    assert (lea["ville"], lea["magasin"]) == ("Strasbourg", "Centre; étage 2")
    assert (lea["consent_sms_marketing"], lea["consent_source"]) == ("yes", "form")
    assert dt.datetime.fromisoformat(lea["consent_at"]) == dt.datetime(
        2024, 3, 1, 13, 30, 15, 250_000, tzinfo=dt.UTC
    )
    assert (sophia["timezone"], sophia["consent_sms_marketing"], sophia["consent_at"]) == (
        "America/New_York",
        "no",
        "",
    )
    assert (brian["last_name"], brian["ville"]) == ('O"Brien, Jr', "")
    assert (nina["phone"], nina["email"], nina["tags"]) == ("", "nina@example.fr", "news")


def test_export_by_tag(session: Session) -> None:
    _people(session)
    rows, written = _export(session, tag="vip", delimiter=",")
    assert (written, [r["first_name"] for r in rows]) == (1, ["Léa"])


def _snapshot(session: Session) -> list[dict[str, object]]:
    contacts = session.scalars(select(Contact).order_by(Contact.phone)).all()
    data = [
        ContactRead.model_validate(c).model_dump(exclude={"id", "created_at", "updated_at"})
        for c in contacts
    ]
    session.rollback()
    return data


def test_export_then_import_round_trips(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    _people(session)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        export_contacts(session, out=out, delimiter=";")
    before = _snapshot(session)
    events = session.scalar(select(func.count()).select_from(ConsentEvent))
    session.rollback()

    # into the same database: nothing changes, no new consent event
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.updated, report.unchanged, report.rejected_total) == (0, 0, 4, 0)
    assert report.consents_recorded == 0
    assert _snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == events
    session.rollback()

    # contacts deleted since the export come back exactly as they were
    for contact in session.scalars(select(Contact)):
        if contact.first_name != "Léa":
            service.delete_contact(session, contact_id=contact.id)
    session.commit()
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.unchanged) == (3, 1)
    assert _snapshot(session) == before


FORMULAS = {
    "first_name": '=HYPERLINK("http://evil.example","x")',
    "last_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "region": "+1+1",
    "ville": "-2+3",
    "note": "@home",  # (a leading tab is neutralised too, but the import trims cells)
}


def test_formulas_are_exported_as_text_and_import_back_unchanged(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    contact = service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="06 12 34 56 78",
        first_name=FORMULAS["first_name"],
        last_name=FORMULAS["last_name"],
        region=FORMULAS["region"],
        attributes={"ville": FORMULAS["ville"], "note": FORMULAS["note"]},
        tags=["=cmd"],
    )
    session.commit()
    rows, _ = _export(session)
    [row] = rows
    assert row["phone"] == "+33612345678"  # E.164: a number, no function to call
    for column, value in FORMULAS.items():
        assert row[column] == "'" + value, column
    assert row["tags"] == "'=cmd"
    before = _snapshot(session)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        export_contacts(session, out=out)
    session.rollback()
    service.delete_contact(session, contact_id=contact.id)
    session.commit()
    report = import_contacts(engine, settings=settings, path=path)
    assert (report.created, report.rejected_total) == (1, 0)
    assert _snapshot(session) == before


def test_a_rejects_file_holds_no_formula_and_imports_back(
    engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'phone,first_name\n=1+1,"=HYPERLINK(""http://evil.example"",""x"")"\n', encoding="utf-8"
    )
    report = import_contacts(engine, settings=settings, path=source)
    assert report.rejected_total == 1
    assert report.rejects_path is not None
    with Path(report.rejects_path).open(encoding="utf-8-sig", newline="") as handle:
        [header, row] = list(csv.reader(handle))
    assert header == ["line", "kind", "reason", "phone", "first_name"]
    assert row[3:] == ["'=1+1", '\'=HYPERLINK("http://evil.example","x")']
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
