"""Recording events: one key, one event, also for two requests at once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.contacts import service as contacts
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import ValidationError
from textopt.events import service as events
from textopt.events.models import ContactEvent, EventSource

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


def _record(session: Session, settings: Settings, contact: Contact) -> tuple[int, bool]:
    event, created = events.record_event(
        session,
        contact=contact,
        type="order_shipped",
        properties={"order": "A-17"},
        occurred_at=None,
        key="ship-A-17",
        source=EventSource.API,
        recorded_by="test",
        secret=settings.resolved_secret_key(),
        now=NOW,
    )
    return event.id, created


def _waiting_on_a_lock(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return True  # SQLite: the second writer waits for the first's transaction anyway
    with engine.connect() as connection:
        waiting = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


def test_two_requests_with_one_key_at_once_record_one_event(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        s.add(Contact(phone="+33612345678", timezones=[], attributes={}))
    second: list[tuple[int, bool] | BaseException] = []

    def record_second() -> None:
        try:
            with session_scope(engine) as s:
                contact = s.scalars(select(Contact)).one()
                second.append(_record(s, settings, contact))
        except BaseException as exc:
            second.append(exc)

    with session_scope(engine) as first_session:
        contact = first_session.scalars(select(Contact)).one()
        first_id, created = _record(first_session, settings, contact)
        assert created
        thread = threading.Thread(target=record_second)
        thread.start()
        # let the second request reach the unique index (PostgreSQL: it then waits on our
        # row's lock); bounded, and the outcome asserted is the same for any interleaving
        for _ in range(200):
            if _waiting_on_a_lock(engine):
                break
            time.sleep(0.05)
    thread.join(timeout=60)
    assert second == [(first_id, False)]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ContactEvent)) == 1


def test_deleting_a_contact_deletes_its_events(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        contact = Contact(phone="+33612345678", timezones=[], attributes={})
        s.add(contact)
        s.flush()
        _record(s, settings, contact)
        contact_id = contact.id
    with session_scope(engine) as s:
        contacts.delete_contact(s, contact_id=contact_id)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ContactEvent)) == 0


def test_listing_since_an_instant_out_of_the_calendar_is_refused(
    engine: Engine, settings: Settings
) -> None:
    far = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with session_scope(engine) as s:
        with pytest.raises(ValidationError, match="outside the dates we can store") as caught:
            events.list_events(s, since=far)
        assert caught.value.field == "since"
        naive = dt.datetime(2026, 1, 1)
        with pytest.raises(ValidationError, match="since needs a time zone offset"):
            events.list_events(s, since=naive)
