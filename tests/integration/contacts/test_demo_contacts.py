"""The demo customer file: deterministic, varied, and about 1% broken in every way."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_REGION

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.contacts import service
from textopt.contacts.importer import import_contacts
from textopt.contacts.models import Contact
from textopt.demo.contacts import FEATURED_FR_NUMBER, FEATURED_US_NUMBER, write_demo_csv


def test_demo_file_is_deterministic_and_a_french_spreadsheet(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_demo_csv(first, count=300) == 300
    write_demo_csv(second, count=300)
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfT\xc3\xa9l\xc3\xa9phone;")
    assert data.count(b"\r\n") == 301


def test_demo_file_imports_with_every_kind_of_reject_and_warning(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    settings: Settings,
) -> None:
    path = tmp_path / "clients.csv"
    write_demo_csv(path, count=3000)
    report = import_contacts(engine, settings=settings, path=path)
    assert report.delimiter == ";"
    assert report.encoding == "utf-8-sig"
    assert set(report.rejected) == {"invalid_number", "duplicate_in_file", "unknown_timezone"}
    assert 20 <= report.rejected_total <= 35  # about 1%
    # a broken email is a warning (the row's number is kept); this database has none of the
    # file's consent texts registered
    assert set(report.warnings) == {"consent_incomplete", "bad_email", "unknown_text_version"}
    assert 0.7 < report.consents_recorded / report.created < 0.9
    countries = dict(
        session.execute(select(Contact.country, func.count()).group_by(Contact.country)).all()
    )
    assert set(countries) == {"FR", "RE", "GP", "BE", "US", "GB"}
    assert countries["FR"] > countries["US"] > countries["GB"] > countries["GP"]
    alsace = session.scalar(
        select(func.count()).where(Contact.country == "FR", Contact.region.in_(["67", "68"]))
    )
    assert (alsace or 0) > 50
    us_states = set(session.scalars(select(Contact.region).where(Contact.country == "US")))
    assert {"FL", "NY"} <= us_states
    for state, zone in (("FL", "America/New_York"), ("CA", "America/Los_Angeles")):
        zones = session.scalars(
            select(Contact.timezones).where(Contact.country == "US", Contact.region == state)
        )
        assert {tuple(z) for z in zones} == {(zone,)}
    featured = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone=FEATURED_US_NUMBER
    )
    assert (featured.region, featured.is_customer) == ("FL", True)
    parisian = service.get_contact_by_phone_or_raise(
        session, default_region=TEST_REGION, phone=FEATURED_FR_NUMBER
    )
    assert (parisian.phone, parisian.region, parisian.tag_names) == ("+33612345678", "75", ["vip"])
    assert parisian.attributes["Ville"] == "Paris"
    (event, proof), *_ = consent.history(session, contact_id=parisian.id)
    paris = event.occurred_at.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.hour, paris.minute) == (10, 12)  # the README's tour shows it so
    assert proof is not None
    assert proof.data["ip"] == "198.51.100.23"


def test_a_later_first_row_writes_new_customers_without_the_featured_ones(tmp_path: Path) -> None:
    path = tmp_path / "nouveaux.csv"
    write_demo_csv(path, count=40, seed=2027, first=3000)
    text = path.read_text(encoding="utf-8-sig")
    assert len(text.splitlines()) == 41
    assert FEATURED_FR_NUMBER not in text
    assert FEATURED_US_NUMBER not in text
    assert re.search(r"[a-z]30[0-3]\d@", text)  # rows numbered from 3000
