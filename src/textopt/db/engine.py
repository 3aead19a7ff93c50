"""Engines and sessions for SQLite (WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from textopt.db.writer_gate import WriterGate, install_writer_gate
from textopt.errors import ConfigError

__all__ = [
    "create_db_engine",
    "display_url",
    "session_factory",
    "session_scope",
    "upsert_insert",
]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transactions out of the driver's hands (it would run SELECTs outside any
    # transaction); `_sqlite_begin` starts each one itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


#: Where a SQLite connection notes its change count when its transaction began.
CHANGES_AT_BEGIN = "textopt_changes_at_begin"
#: The execution option of a read-only SQLite connection beside the writer (`BEGIN`).
SNAPSHOT = "textopt_snapshot"


#: Seconds a writer waits for its turn at the process's gate (SQLite's busy timeout after).
_GATE_TIMEOUT = 30.0


def _sqlite_begin(connection: Any, gate: WriterGate) -> None:
    if connection.get_execution_options().get(SNAPSHOT):
        # A reader beside this process's writer: it must not wait for the write lock.
        connection.exec_driver_sql("BEGIN")
        return
    # One writer at a time, decided when the transaction starts: a transaction that read
    # first can never find its snapshot stale when it comes to write (which SQLite reports
    # as an error, or worse, a row read outside any transaction leads to a lost update).
    # The writers of this process queue for it in order (`writer_gate`).
    raw = connection.connection.dbapi_connection
    gate.enter(raw, timeout=_GATE_TIMEOUT)
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        gate.leave(raw)
        raise
    # Whether the transaction has written anything yet (see `planning._snapshot_session`).
    fairy = connection.connection
    fairy.info[CHANGES_AT_BEGIN] = fairy.driver_connection.total_changes


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`: SQLite gets WAL and foreign keys, PostgreSQL uses psycopg 3."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"invalid database URL {url!r}: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        gate = install_writer_gate(engine)
        event.listen(engine, "begin", lambda connection: _sqlite_begin(connection, gate))
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise ConfigError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def display_url(engine: Engine) -> str:
    """The engine's URL with any password hidden."""
    return engine.url.render_as_string(hide_password=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session maker bound to `engine` that keeps objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error.

    A plain `Session`, not one from a `sessionmaker`: each sessionmaker defines a class of
    its own, and SQLAlchemy builds the event registry of every new session class on its
    first statement, which cost a tenth of a one-off send's request.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT on `table` with ON CONFLICT support for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)
