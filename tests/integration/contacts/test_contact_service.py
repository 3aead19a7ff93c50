"""The contacts service on SQLite and PostgreSQL: create, find, update, list, tag, delete."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST, TEST_REGION

from textopt.consent import service as consent_service
from textopt.contacts import service
from textopt.contacts.models import Contact
from textopt.contacts.schemas import ContactRead
from textopt.errors import (
    ConflictError,
    InvalidEmail,
    InvalidPhoneNumber,
    InvalidTimezone,
    NotFoundError,
    ValidationError,
)


def test_create_contact_normalises_and_derives_from_the_number(session: Session) -> None:
    contact = service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="06 12 34 56 78",
        email=" Lea@Example.FR ",
        first_name="  Léa ",
        last_name="Martin",
        language="FR",
        region="67",
        timezone="europe/paris",
        attributes={"city": "Strasbourg"},
        tags=["vip", " alsace ", "vip"],
        is_customer=True,
    )
    session.commit()
    read = ContactRead.model_validate(service.get_contact_or_raise(session, contact_id=contact.id))
    assert read.phone == "+33612345678"
    assert read.email == "Lea@example.fr"
    assert (read.first_name, read.last_name, read.language) == ("Léa", "Martin", "fr")
    assert (read.country, read.region, read.timezone) == ("FR", "67", "Europe/Paris")
    assert read.timezones == ["Europe/Paris"]
    assert read.attributes == {"city": "Strasbourg"}
    assert read.tags == ["alsace", "vip"]
    assert read.is_customer is True
    assert read.created_at.tzinfo is not None


def test_country_comes_from_the_number_unless_given(session: Session) -> None:
    reunion = service.create_contact(session, default_region=TEST_REGION, phone="+262 692 12 34 56")
    explicit = service.create_contact(
        session, default_region=TEST_REGION, phone="+1 305 555 1234", country="us", region="fl"
    )
    assert (reunion.country, reunion.timezones) == ("RE", ["Indian/Reunion"])
    assert (explicit.country, explicit.region) == ("US", "FL")


def test_a_national_number_is_read_in_the_region_given(session: Session) -> None:
    # the test settings say FR: the region passed, not the configured one, reads the number
    contact = service.create_contact(session, default_region="BE", phone="0470 12 34 56")
    assert (contact.phone, contact.country) == ("+32470123456", "BE")
    assert service.get_contact_by_phone(session, phone="0470123456", default_region="BE") is contact
    # read in France the same digits are a landline of Lyon's area, not this contact
    assert (
        service.get_contact_by_phone(session, phone="0470123456", default_region=TEST_REGION)
        is None
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"phone": "06 12"}, InvalidPhoneNumber),
        ({"phone": "0612345678", "email": "not-an-email"}, InvalidEmail),
        ({"phone": "0612345678", "timezone": "Europe/Lyon"}, InvalidTimezone),
        ({"phone": "0612345678", "country": "France"}, ValidationError),
        ({"phone": "0612345678", "tags": ["a|b"]}, ValidationError),
    ],
)
def test_create_contact_refuses_bad_input(
    session: Session, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        service.create_contact(session, default_region=TEST_REGION, **kwargs)  # type: ignore[arg-type]
    assert service.count_contacts(session) == 0


def test_second_contact_with_the_same_number_is_a_conflict(session: Session) -> None:
    first = service.create_contact(session, default_region=TEST_REGION, phone="06 12 34 56 78")
    with pytest.raises(ConflictError, match=f"already exists \\(id {first.id}\\)"):
        service.create_contact(session, default_region=TEST_REGION, phone="+33612345678")


def test_lookup_by_phone_accepts_any_notation(session: Session) -> None:
    contact = service.create_contact(session, default_region=TEST_REGION, phone="+33612345678")
    for notation in ("06 12 34 56 78", "0033612345678", "+33 6.12.34.56.78"):
        assert (
            service.get_contact_by_phone(session, default_region=TEST_REGION, phone=notation)
            is contact
        )
    assert (
        service.get_contact_by_phone(session, default_region=TEST_REGION, phone="0699999999")
        is None
    )
    with pytest.raises(NotFoundError, match=r"no contact with number \+33699999999"):
        service.get_contact_by_phone_or_raise(
            session, default_region=TEST_REGION, phone="06 99 99 99 99"
        )
    with pytest.raises(NotFoundError, match="no contact with id 999"):
        service.get_contact_or_raise(session, contact_id=999)


def test_erased_contacts_are_invisible(session: Session) -> None:
    kept = service.create_contact(
        session, default_region=TEST_REGION, phone="0612345678", first_name="Kept"
    )
    gone = service.create_contact(
        session, default_region=TEST_REGION, phone="0612345679", first_name="Gone"
    )
    session.execute(
        update(Contact)
        .where(Contact.id == gone.id)
        .values(erased_at=dt.datetime.now(dt.UTC), first_name=None)
    )
    session.commit()
    assert service.get_contact(session, contact_id=gone.id) is None
    assert (
        service.get_contact_by_phone(session, default_region=TEST_REGION, phone="0612345679")
        is None
    )
    assert [c.id for c in service.list_contacts(session)] == [kept.id]
    assert service.count_contacts(session) == 1


def test_update_contact_changes_given_fields_only(session: Session) -> None:
    contact = service.create_contact(
        session,
        default_region=TEST_REGION,
        phone="0612345678",
        email="a@example.fr",
        first_name="Anne",
        region="75",
    )
    updated = service.update_contact(
        session,
        default_region=TEST_REGION,
        contact_id=contact.id,
        email=None,
        last_name="Martin",
        timezone="Europe/Paris",
    )
    assert (updated.email, updated.first_name, updated.last_name) == (None, "Anne", "Martin")
    assert (updated.region, updated.timezone) == ("75", "Europe/Paris")


def test_update_contact_with_a_new_number_renews_country_and_zones(session: Session) -> None:
    contact = service.create_contact(session, default_region=TEST_REGION, phone="0612345678")
    other = service.create_contact(session, default_region=TEST_REGION, phone="0612345679")
    service.update_contact(
        session, default_region=TEST_REGION, contact_id=contact.id, phone="+590 690 12 34 56"
    )
    assert (contact.phone, contact.country, contact.timezones) == (
        "+590690123456",
        "GP",
        ["America/Guadeloupe"],
    )
    with pytest.raises(ConflictError, match=f"already belongs to contact {other.id}"):
        service.update_contact(
            session, default_region=TEST_REGION, contact_id=contact.id, phone="06 12 34 56 79"
        )


def test_list_contacts_filters_and_pages_by_id(session: Session) -> None:
    made = [
        service.create_contact(
            session,
            default_region=TEST_REGION,
            phone=f"06123456{n:02d}",
            first_name=name,
            email=f"{name.lower()}@example.fr",
            tags=["vip"] if n % 2 else [],
        )
        for n, name in enumerate(["Alice", "Bruno", "Chloé", "David", "Emma"])
    ]
    service.create_contact(
        session, default_region=TEST_REGION, phone="+32 470 12 34 56", first_name="Bob"
    )
    session.commit()
    first = service.list_contacts(session, limit=2)
    second = service.list_contacts(session, limit=2, after_id=first[-1].id)
    assert [c.id for c in first + second] == [c.id for c in made[:4]]
    assert [c.first_name for c in service.list_contacts(session, tag="vip")] == ["Bruno", "David"]
    assert [c.first_name for c in service.list_contacts(session, country="be")] == ["Bob"]
    assert [c.first_name for c in service.list_contacts(session, search="CHLO")] == ["Chloé"]
    assert [c.first_name for c in service.list_contacts(session, search="emma@")] == ["Emma"]
    assert [c.first_name for c in service.list_contacts(session, search="470 12")] == ["Bob"]
    assert [c.first_name for c in service.list_contacts(session, search="b_")] == []
    assert service.count_contacts(session, tag="vip") == 2
    assert service.count_contacts(session) == 6
    with pytest.raises(ValidationError, match="limit"):
        service.list_contacts(session, limit=0)


def test_tag_and_untag_in_bulk(session: Session) -> None:
    a = service.create_contact(
        session, default_region=TEST_REGION, phone="0612345678", tags=["vip"]
    )
    b = service.create_contact(session, default_region=TEST_REGION, phone="0612345679")
    session.commit()
    assert a.tag_names == ["vip"]
    added = service.tag_contacts(session, contact_ids=[a.id, b.id], tags=["vip", "promo"])
    assert added == 3
    assert (a.tag_names, b.tag_names) == (["promo", "vip"], ["promo", "vip"])
    assert service.tag_contacts(session, contact_ids=[a.id], tags=["vip"]) == 0
    removed = service.untag_contacts(session, contact_ids=[a.id, b.id], tags=["vip", "nope"])
    assert removed == 2
    session.commit()
    assert (a.tag_names, b.tag_names) == (["promo"], ["promo"])
    with pytest.raises(NotFoundError, match="no contact with id 999"):
        service.tag_contacts(session, contact_ids=[a.id, 999], tags=["x"])


def test_delete_contact_without_consent_history(session: Session) -> None:
    contact = service.create_contact(
        session, default_region=TEST_REGION, phone="0612345678", tags=["vip"]
    )
    session.commit()
    service.delete_contact(session, contact_id=contact.id)
    session.commit()
    assert service.count_contacts(session) == 0
    assert (
        service.create_contact(session, default_region=TEST_REGION, phone="0612345678").tag_names
        == []
    )


def test_delete_contact_with_consent_history_is_refused(session: Session) -> None:
    contact = service.create_contact(session, default_region=TEST_REGION, phone="0612345678")
    consent_service.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="granted",
        source="cli",
    )
    session.commit()
    with pytest.raises(ConflictError, match="textopt gdpr erase \\+33612345678"):
        service.delete_contact(session, contact_id=contact.id)
    session.rollback()
    assert service.get_contact(session, contact_id=contact.id) is not None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"first_name": "\udcff"}, "first_name"),  # a non-UTF-8 byte from a command line
        ({"last_name": "a\x00b"}, "last_name"),
        ({"tags": ["vip", "\ud800"]}, "tags"),
        ({"attributes": {"\ud800": 1}}, "attributes"),
        ({"attributes": {"score": float("nan")}}, "attributes.score"),
        ({"attributes": {"seen": [1, float("inf")]}}, "attributes.seen.1"),
    ],
)
def test_a_value_no_database_stores_is_refused_naming_its_field(
    session: Session, options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        service.create_contact(session, default_region=TEST_REGION, phone="0612345678", **options)  # type: ignore[arg-type]
    assert refused.value.field == field
    contact = service.create_contact(session, default_region=TEST_REGION, phone="0612345678")
    if "tags" in options:
        return  # tags change through add_tags / remove_tag, checked by the same normaliser
    with pytest.raises(ValidationError):
        service.update_contact(
            session, default_region=TEST_REGION, contact_id=contact.id, **options
        )  # type: ignore[arg-type]
