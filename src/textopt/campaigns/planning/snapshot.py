"""A reading session beside the planning transaction, where SQLite allows one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from textopt.db.engine import CHANGES_AT_BEGIN, SNAPSHOT

__all__ = ["reading_session", "snapshot_session"]


def snapshot_session(session: Session) -> Session | None:
    """A session reading what `session` sees through a connection of its own, or None.

    SQLite in WAL lets a reader run beside the writer, so planning can read the next page
    while the previous one is written. It sees exactly what the planning transaction sees
    only while that transaction has written nothing yet: the transaction holds the write
    lock, so nobody else can commit meanwhile. An in-memory database has one connection.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    if connection.engine.url.database in (None, "", ":memory:"):
        return None
    fairy = connection.connection
    driver = fairy.driver_connection
    if driver is None or fairy.info.get(CHANGES_AT_BEGIN) != driver.total_changes:
        return None  # the transaction wrote: only its own connection sees that
    reader = connection.engine.connect().execution_options(**{SNAPSHOT: True})
    if reader.connection.driver_connection is driver:  # a pool of one connection
        reader.close()
        return None
    return Session(bind=reader)


@contextmanager
def reading_session(session: Session, *, beside: bool) -> Iterator[Session]:
    """The session planning reads through: a snapshot beside `session` when `beside` and
    one can be had (`snapshot_session`), else `session` itself. Closed on exit."""
    reader = snapshot_session(session) if beside else None
    if reader is None:
        yield session
        return
    try:
        yield reader
    finally:
        bind = reader.get_bind()
        reader.close()
        bind.close()  # type: ignore[union-attr]
