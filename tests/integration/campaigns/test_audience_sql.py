"""Audience filters select exactly the right contacts on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import segments
from textopt.campaigns.audience import audience_select, parse_filter
from textopt.consent import service as consent
from textopt.contacts.fields import tag_key
from textopt.contacts.models import Contact, ContactTag
from textopt.errors import ConflictError, NotFoundError, ValidationError

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _at(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# id: (first, last, email, language, country, region, timezone, attributes, customer,
#      created, last activity, tags, consents as (channel, purpose, action...))
PEOPLE: dict[int, tuple[Any, ...]] = {
    1: ("Alice", "Martin", "alice@example.fr", "fr", "FR", "67", "Europe/Paris",
        {"city": "Lyon", "age": 34, "vip": True}, True, "2025-01-10", "2026-05-20",
        ["vip", "gold"], [("sms", "marketing", "granted")]),
    2: ("Bob", "Martinez", None, "fr", "FR", "75", None,
        {"city": "Paris", "age": "41"}, False, "2025-06-01", "2025-07-01",
        ["vip"], [("sms", "marketing", "confirmed"), ("email", "marketing", "granted")]),
    3: ("Chloé", "Dubois", "chloe@example.ca", "fr-ca", "CA", "QC", "America/Toronto",
        {"city": "Montréal", "age": "unknown"}, True, "2026-02-01", None,
        ["newsletter"], [("sms", "marketing", "revoked")]),
    4: ("David", "Smith", "david@example.co.uk", "en", "GB", None, None,
        {"city": "London", "vip": "yes"}, False, "2024-01-01", "2024-03-01",
        ["vip"], []),
    5: ("Emma", "Bernard", None, "fr", "BE", None, None,
        {"age": 29.5, "city": "Bruxelles"}, True, "2026-01-01T00:00:00", "2026-05-31",
        ["gold"], [("sms", "marketing", "granted"), ("sms", "transactional", "granted")]),
    6: ("François", None, None, "fr", "FR", "67", None,
        {"city": "Strasbourg", "age": "30"}, False, "2025-12-31T23:59:00", None,
        ["vip"], [("sms", "marketing", "granted"), ("email", "marketing", "revoked")]),
    7: ("Bob", "Lefèvre", "bob@example.fr", "fr", "FR", "13", None,
        {"vip": False, "city": "Lyon"}, True, "2025-03-01", "2026-03-01",
        [], [("sms", "marketing", "granted"), ("sms", "marketing", "revoked")]),
    9: (None, None, None, None, None, None, None,
        {}, False, "2026-05-01", None,
        [], []),
    10: ("Gina", "Rossi", "gina@example.it", "it", "IT", None, "Europe/Rome",
         {"code": "50%_off", "city": "Roma"}, False, "2025-09-09", "2026-05-30",
         ["Black Friday"], [("email", "marketing", "granted")]),
    11: ("Hugo", "Martin", "hugo@example.fr", "fr", "FR", "67", None,
         {"city": "lyon", "age": 18}, True, "2025-11-11", "2025-11-12",
         ["gold"], [("sms", "marketing", "granted")]),
    12: ("Inès", "Moreau", None, "fr", "FR", "69", None,
         {"city": "Lyon", "age": "65"}, False, "2025-05-05", "2026-01-15",
         ["vip", "newsletter"], [("sms", "marketing", "granted")]),
    13: ("Jules", "Petit", "jules@example.fr", "fr", "FR", "75", None,
         {"city": "Paris", "age": 52, "vip": "non"}, True, "2024-06-06", "2024-06-07",
         [], []),
    14: ("Karl", "Schmidt", None, "de", "DE", None, None,
         {"city": "Berlin", "age": "1.2.3"}, False, "2025-08-08", None,
         ["VIP"], [("sms", "marketing", "granted")]),
    15: ("Léa", "Garnier", "lea@example.fr", "fr", "FR", "67", None,
         {"city": "Strasbourg", "tier": "b"}, True, "2026-03-03", "2026-05-25",
         ["gold", "vip"], [("sms", "marketing", "granted"), ("sms", "transactional", "revoked")]),
    16: ("Marc", None, None, "fr", "FR", None, None,
         {"city": "Paris", "age": "-5"}, False, "2025-02-02", "2025-02-03",
         ["newsletter"], [("email", "marketing", "confirmed")]),
    17: ("Nora", "Haddad", "nora@example.fr", "ar", "FR", "93", None,
         {"city": "", "age": ""}, False, "2026-04-04", "2026-04-05",
         [], []),
    18: ("Oscar", "Wilde", "oscar@example.ie", "en", "IE", None, None,
         {"city": "Dublin", "vip": True, "age": 70}, True, "2023-01-01", "2026-05-01",
         ["vip"], [("sms", "marketing", "granted")]),
    19: ("Paul", "Martin", "paul@example.fr", "fr", "FR", "67", None,
         {"city": "Colmar", "tags": ["a"]}, False, "2025-10-10", "2025-10-11",
         ["vip", "gold"], [("sms", "marketing", "confirmed")]),
}  # fmt: skip
#: Erased contacts: they keep tags, country and consent here only to prove they never match.
ERASED = {8: ("FR", ["vip"]), 20: ("BE", ["gold"])}
LIVE = set(PEOPLE)

FILTERS: dict[str, set[int]] = {
    "all": LIVE,
    "not all": set(),
    "tag:vip": {1, 2, 4, 6, 12, 14, 15, 18, 19},  # Karl (14) is tagged "VIP"
    "tag:vip,gold": {1, 2, 4, 5, 6, 11, 12, 14, 15, 18, 19},
    'tag:"Black Friday"': {10},
    "country:FR": {1, 2, 6, 7, 11, 12, 13, 15, 16, 17, 19},
    "country:fr,be": {1, 2, 5, 6, 7, 11, 12, 13, 15, 16, 17, 19},
    "country = fr": {1, 2, 6, 7, 11, 12, 13, 15, 16, 17, 19},
    "language:fr": {1, 2, 3, 5, 6, 7, 11, 12, 13, 15, 16, 19},
    "language = fr": {1, 2, 5, 6, 7, 11, 12, 13, 15, 16, 19},
    "region:67": {1, 6, 11, 15, 19},
    "customer": {1, 3, 5, 7, 11, 13, 15, 18},
    "prospect": {2, 4, 6, 9, 10, 12, 14, 16, 17, 19},
    "consent:sms": {1, 2, 5, 6, 11, 12, 14, 15, 18, 19},
    "consent:email": {2, 10, 16},
    "consent:sms.transactional": {5},
    "consent_status:sms=revoked": {3, 7},
    "consent_status:sms=none": {4, 9, 10, 13, 16, 17},
    "consent_status:sms.transactional=revoked,none": LIVE - {5},
    "has:email": {1, 3, 4, 7, 10, 11, 13, 15, 17, 18, 19},
    "has:timezone": {1, 3, 10},
    "has:last_name": LIVE - {6, 9, 16},
    "has:attributes.city": LIVE - {9, 17},
    "has:last_activity_at": LIVE - {3, 6, 9, 14},
    "active_within:30d": {1, 5, 10, 15},
    "active_within:1m and not active_within:1w": {1, 15},
    "inactive_for:1y": {4, 13, 16},
    "created_after:2026-01-01": {3, 5, 9, 15, 17},
    "created_before:2026-01-01": {1, 2, 4, 6, 7, 10, 11, 12, 13, 14, 16, 18, 19},
    'created_after:"2025-12-31T23:59:00Z"': {3, 5, 6, 9, 15, 17},
    "created_at = 2025-12-31": {6},
    "created_at <= 2025-12-31": {1, 2, 4, 6, 7, 10, 11, 12, 13, 14, 16, 18, 19},
    "created_at > 2025-12-31": {3, 5, 9, 15, 17},
    "last_activity_at >= 2026-05-20": {1, 5, 10, 15},
    "last_activity_at != 2026-05-20": LIVE - {1},
    'attributes.city = "Lyon"': {1, 7, 12},
    'attributes.city ~ "lyon"': {1, 7, 11, 12},
    'not attributes.city = "Lyon"': LIVE - {1, 7, 12},
    'attributes.city != "Lyon"': LIVE - {1, 7, 12},
    'attributes.city in ("Lyon", "Paris")': {1, 2, 7, 12, 13, 16},
    "attributes.age >= 30": {1, 2, 6, 12, 13, 18},
    "attributes.age < 30": {5, 11, 16},
    "attributes.age = 29.5": {5},
    'attributes.age in (34, "unknown")': {1, 3},
    "attributes.vip = true": {1, 4, 18},
    "attributes.vip = false": {7, 13},
    'attributes.tier > "a"': {15},
    'attributes.code ~ "%"': {10},
    'attributes.code ~ "_"': {10},
    'first_name ~ "%"': set(),
    'first_name != "Bob"': LIVE - {2, 7},
    'last_name ~ "MART"': {1, 2, 11, 19},
    'email ~ "@example.fr"': {1, 7, 11, 13, 15, 17, 19},
    "phone = +33600000001": {1},
    'tag:vip and country:FR and not attributes.city = "Lyon"': {2, 6, 15, 19},
    "tag:vip or tag:gold and country:BE": {1, 2, 4, 5, 6, 12, 14, 15, 18, 19},
    "(tag:vip or tag:gold) and country:BE": {5},
    "consent:sms and not tag:vip": {5, 11},
    "NOT (customer OR tag:vip) AND language:FR": {16},
}


def _phone(contact_id: int) -> str:
    return f"+336000000{contact_id:02d}"


@pytest.fixture
def people(session: Session) -> Session:
    """The contacts of PEOPLE and ERASED, with their tags and consent ledger."""
    for cid, row in PEOPLE.items():
        (first, last, email, language, country, region, zone, attributes, customer) = row[:9]
        created, active, tags, consents = row[9:]
        session.add(
            Contact(
                id=cid,
                phone=_phone(cid),
                email=email,
                first_name=first,
                last_name=last,
                language=language,
                country=country,
                region=region,
                timezone=zone,
                timezones=[],
                attributes=attributes,
                is_customer=customer,
                created_at=_at(created),
                last_activity_at=_at(active) if active else None,
                tags=[ContactTag(tag=tag_key(t)) for t in tags],  # as stored
            )
        )
    for cid, (country, tags) in ERASED.items():
        session.add(
            Contact(
                id=cid,
                country=country,
                timezones=[],
                attributes={},
                created_at=_at("2025-01-01"),
                erased_at=_at("2026-04-01"),
                tags=[ContactTag(tag=tag_key(t)) for t in tags],  # as stored
            )
        )
    session.flush()
    consents = [(cid, c) for cid, row in PEOPLE.items() for c in row[12]]
    consents += [(8, ("sms", "marketing", "granted")), (20, ("sms", "marketing", "granted"))]
    for minute, (cid, (channel, purpose, action)) in enumerate(consents):
        consent.record_consent(
            session,
            digest=TEST_DIGEST,
            contact_id=cid,
            channel=channel,
            purpose=purpose,
            action=action,
            source="cli",
            occurred_at=_at("2026-01-01") + dt.timedelta(minutes=minute),
        )
    session.commit()
    return session


def test_each_filter_matches_exactly_the_expected_contacts(people: Session) -> None:
    found = {text: set(people.scalars(audience_select(text, now=NOW))) for text in FILTERS}
    assert found == FILTERS


def test_count_agrees_with_the_ids_for_every_filter(people: Session) -> None:
    counts = {text: segments.count_audience(people, filter=text, now=NOW) for text in FILTERS}
    assert counts == {text: len(ids) for text, ids in FILTERS.items()}


def test_relative_terms_follow_the_evaluation_time(people: Session) -> None:
    later = NOW + dt.timedelta(days=20)
    assert set(people.scalars(audience_select("active_within:30d", now=later))) == {5, 10, 15}


@pytest.mark.parametrize(
    "text",
    [
        'attributes.city = "x\' OR 1=1 --"',
        'first_name = "x\' OR 1=1 --"',
        'tag:"x\' OR 1=1 --"',
        'last_name ~ "x\'); DROP TABLE contacts; --"',
        'attributes.city in ("\\" OR 1=1 --", "\'")',
    ],
)
def test_values_are_bound_parameters_that_match_nothing(people: Session, text: str) -> None:
    assert list(people.scalars(audience_select(text, now=NOW))) == []
    statement = str(audience_select(text, now=NOW).compile(people.get_bind()))
    assert "1=1" not in statement
    assert "DROP" not in statement
    assert segments.count_audience(people, filter="all", now=NOW) == len(LIVE)


@pytest.fixture
def selects(people: Session) -> Iterator[list[str]]:
    """The SELECT statements the session runs while the test body runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = people.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def test_audience_ids_streams_keyset_batches(people: Session, selects: list[str]) -> None:
    batches = list(segments.audience_ids(people, filter="tag:vip", now=NOW, batch_size=4))
    assert batches == [[1, 2, 4, 6], [12, 14, 15, 18], [19]]
    assert len(selects) == 3


def test_audience_ids_stops_after_an_exact_multiple(people: Session, selects: list[str]) -> None:
    batches = list(segments.audience_ids(people, filter="all", now=NOW, batch_size=6))
    assert [len(b) for b in batches] == [6, 6, 6]
    assert [i for b in batches for i in b] == sorted(LIVE)
    assert len(selects) == 4  # the fourth finds nothing and yields no empty batch


def test_count_is_one_query(people: Session, selects: list[str]) -> None:
    segments.count_audience(people, filter="tag:vip and consent:sms and country:FR", now=NOW)
    assert len(selects) == 1
    assert "count(" in selects[0].lower()


def test_a_filter_tree_is_accepted_as_well_as_text(people: Session) -> None:
    tree = parse_filter("tag:gold and customer")
    assert segments.count_audience(people, filter=tree, now=NOW) == 4
    assert list(segments.audience_ids(people, filter=tree, now=NOW)) == [[1, 5, 11, 15]]


def test_batch_size_must_be_positive(session: Session) -> None:
    with pytest.raises(ValidationError, match="batch_size"):
        next(segments.audience_ids(session, filter="all", now=NOW, batch_size=0))


def test_naive_evaluation_time_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        audience_select("all", now=NOW.replace(tzinfo=None))


# --- saved segments ---------------------------------------------------------------------------


def test_segment_is_saved_listed_counted_and_deleted(people: Session) -> None:
    saved = segments.create_segment(
        people, name=" VIP  France ", filter="  tag:vip and country:FR ", description="best"
    )
    people.commit()
    assert (saved.name, saved.filter, saved.description) == (
        "VIP France",
        "tag:vip and country:FR",
        "best",
    )
    segments.create_segment(people, name="gold", filter="tag:gold")
    assert [s.name for s in segments.list_segments(people)] == ["VIP France", "gold"]
    found = segments.get_segment_or_raise(people, name_or_id="VIP France")
    assert segments.count_audience(people, filter=found.filter, now=NOW) == 6
    assert segments.get_segment_or_raise(people, name_or_id=saved.id) is saved
    assert segments.get_segment_or_raise(people, name_or_id=str(saved.id)) is saved
    segments.delete_segment(people, name_or_id="gold")
    assert segments.get_segment(people, name_or_id="gold") is None
    with pytest.raises(NotFoundError, match='no segment "gold"'):
        segments.delete_segment(people, name_or_id="gold")


def test_segment_update_checks_name_and_filter(session: Session) -> None:
    segments.create_segment(session, name="a", filter="tag:a")
    segments.create_segment(session, name="b", filter="tag:b", description="keep")
    with pytest.raises(ConflictError, match="already exists"):
        segments.update_segment(session, name_or_id="b", name="a")
    with pytest.raises(ValidationError, match="column 5"):
        segments.update_segment(session, name_or_id="b", filter="tag:")
    updated = segments.update_segment(session, name_or_id="b", name="c", filter="customer")
    assert (updated.name, updated.filter, updated.description) == ("c", "customer", "keep")
    cleared = segments.update_segment(session, name_or_id="c", description=None)
    assert cleared.description is None


def test_segment_creation_refuses_bad_input(session: Session) -> None:
    segments.create_segment(session, name="vip", filter="tag:vip")
    with pytest.raises(ConflictError, match='"vip" already exists'):
        segments.create_segment(session, name="vip", filter="tag:gold")
    with pytest.raises(ValidationError, match="column 1: unknown keyword"):
        segments.create_segment(session, name="other", filter="tagg:vip")
    with pytest.raises(ValidationError, match="only digits"):
        segments.create_segment(session, name="123", filter="all")
    with pytest.raises(ValidationError, match="segment name"):
        segments.create_segment(session, name="   ", filter="all")
    assert [s.name for s in segments.list_segments(session)] == ["vip"]


def test_resolve_audience_prefers_a_saved_name(session: Session) -> None:
    saved = segments.create_segment(session, name="customer", filter="tag:vip")
    segment, tree = segments.resolve_audience(session, name_or_filter="customer")
    assert segment is saved
    assert tree == parse_filter("tag:vip")
    segment, tree = segments.resolve_audience(session, name_or_filter="prospect")
    assert segment is None
    assert tree == parse_filter("prospect")
    stored = session.scalars(select(Contact.id)).all()
    assert stored == []
