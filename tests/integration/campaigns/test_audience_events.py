"""`event:` filters select the contacts with such an event, within a window before `now`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from textopt.campaigns import segments
from textopt.campaigns.audience import audience_select
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.events.models import ContactEvent

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# contact id -> its events as (type, hours before NOW; negative: after NOW)
EVENTS: dict[int, list[tuple[str, float]]] = {
    1: [("order_shipped", 2)],
    2: [("order_shipped", 24 * 6.5), ("visit", 1)],
    3: [("order_shipped", 24 * 8)],
    4: [("visit", 24 * 400)],
    5: [],
    6: [("order_shipped", -1)],  # after the evaluation time: not yet
    7: [("order_shipped", 1)],  # erased: never matches
}

FILTERS: dict[str, set[int]] = {
    "event:order_shipped": {1, 2, 3},
    "event:ORDER_SHIPPED within 7d": {1, 2},
    "event:order_shipped within 1w": {1, 2},
    "event:order_shipped within 3h": {1},
    "event:order_shipped within 24h": {1},
    "event:order_shipped within 8d": {1, 2, 3},
    "event:order_shipped,visit within 2h": {1, 2},
    "event:visit within 1y": {2},
    "event:visit within 2y": {2, 4},
    "not event:order_shipped": {4, 5, 6},
    "event:order_shipped within 7d and event:visit": {2},
    "event:never_seen": set(),
}


@pytest.fixture
def people(session: Session) -> Session:
    """Seven contacts and their events; contact 7 erased."""
    for cid in EVENTS:
        session.add(
            Contact(
                id=cid,
                phone=f"+3360000000{cid}" if cid != 7 else None,
                timezones=[],
                attributes={},
                erased_at=utcnow() if cid == 7 else None,
            )
        )
    session.flush()
    for cid, events in EVENTS.items():
        for kind, hours in events:
            at = NOW - dt.timedelta(hours=hours)
            session.add(
                ContactEvent(
                    contact_id=cid,
                    type=kind,
                    properties={},
                    occurred_at=at,
                    received_at=at,
                    source="api",
                    recorded_by="test",
                )
            )
    session.commit()
    return session


def test_event_filters_match_exactly_the_expected_contacts(people: Session) -> None:
    found = {text: set(people.scalars(audience_select(text, now=NOW))) for text in FILTERS}
    assert found == FILTERS


def test_event_filters_count_as_they_select(people: Session) -> None:
    counts = {text: segments.count_audience(people, filter=text, now=NOW) for text in FILTERS}
    assert counts == {text: len(ids) for text, ids in FILTERS.items()}


def test_the_window_follows_the_evaluation_time(people: Session) -> None:
    later = NOW + dt.timedelta(days=1)
    # a day later, contact 2's order (6.5 days before NOW) left the window; 6's entered it
    found = set(people.scalars(audience_select("event:order_shipped within 7d", now=later)))
    assert found == {1, 6}
    earlier = NOW - dt.timedelta(days=7)
    assert set(people.scalars(audience_select("event:order_shipped", now=earlier))) == {3}
