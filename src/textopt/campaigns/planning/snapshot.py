"""A reading session beside the planning transaction: SQLite's WAL reader, or a PostgreSQL
connection on the planning transaction's exported snapshot."""

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

    PostgreSQL: a second connection imports the planning transaction's snapshot
    (`pg_export_snapshot`, `SET TRANSACTION SNAPSHOT`), so it sees exactly what that
    transaction saw when planning began, as long as the transaction had written nothing
    then (no transaction id yet): its own writes are invisible to any other connection.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _postgres_snapshot(session)
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


def _postgres_snapshot(session: Session) -> Session | None:
    connection = session.connection()
    if connection.in_nested_transaction():
        return None  # PostgreSQL exports no snapshot from a savepoint (a command's, a test's)
    if connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None:
        return None  # the transaction wrote: only its own connection sees that
    exported = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    reader = connection.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    # the transaction's first statement: it reads from the exported snapshot on
    reader.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{exported}'")
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
