"""One SQLite writer at a time per process, served in arrival order.

SQLite lets one transaction write at a time; the others' `BEGIN IMMEDIATE` fail with
`SQLITE_BUSY` and its busy handler retries after sleeping 1, 2, 5… up to 100 ms a time.
Nobody queues: a writer that arrives just as the lock is released takes it before one that
has been sleeping for a second, so under load (API requests in threads beside the
dispatcher's database thread, all in `textopt serve`) a few requests wait for seconds while
most wait for milliseconds. Measured: `POST /v1/messages` p99 2.4 s for a median of 40 ms,
with the request threads' time spent in that busy loop (`bench/api_send.py`, docs/benchmarks.md).

The gate is a first-come, first-served lock in front of `BEGIN IMMEDIATE`: a writer of this
process waits its turn on it (blocked, not polling), takes it, and hands it to the next one
in line when its transaction ends (commit, rollback, the connection closed or invalidated).
Writers of other processes (the CLI, a separate dispatcher) still meet at SQLite's own lock.
A writer that waited `timeout` seconds without its turn goes on without it, to SQLite's
busy handler, which reports the timeout as usual.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import Any

from sqlalchemy import Engine, event

__all__ = ["WriterGate", "install_writer_gate", "writer_gate"]

_GATES: weakref.WeakKeyDictionary[Engine, WriterGate] = weakref.WeakKeyDictionary()


class WriterGate:
    """A lock handed over in arrival order, held by one database connection at a time."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._line: deque[threading.Lock] = deque()
        self._holder: int | None = None  # id() of the DBAPI connection in its turn

    def enter(self, dbapi_connection: Any, *, timeout: float) -> bool:
        """Wait for this connection's turn (True), or give up after `timeout` (False)."""
        with self._mutex:
            if not self._held:
                self._held = True
                self._holder = id(dbapi_connection)
                return True
            turn = threading.Lock()
            turn.acquire()
            self._line.append(turn)
        if not turn.acquire(timeout=timeout):
            with self._mutex:
                if turn in self._line:
                    self._line.remove(turn)
                    return False
            # handed over just as the wait ended: the turn is ours after all
        self._holder = id(dbapi_connection)
        return True

    @property
    def held(self) -> bool:
        """Whether a connection is in its turn now."""
        return self._held

    @property
    def waiting(self) -> int:
        """How many writers wait in line."""
        return len(self._line)

    def leave(self, dbapi_connection: Any) -> None:
        """End this connection's turn, if it has one: the next in line gets it."""
        if self._holder != id(dbapi_connection):
            return
        with self._mutex:
            self._holder = None
            if self._line:
                self._line.popleft().release()  # the gate stays held, by the next writer
            else:
                self._held = False


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool's proxy (the dialect is handed either)."""
    return getattr(connection, "dbapi_connection", None) or connection


def install_writer_gate(engine: Engine) -> WriterGate:
    """Put a gate on `engine`'s writers: entered by its begin hook, left when they end."""
    gate = WriterGate()
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(connection: Any) -> None:
        try:
            commit(connection)
        finally:
            gate.leave(_raw(connection))

    def do_rollback(connection: Any) -> None:
        try:
            rollback(connection)
        finally:
            gate.leave(_raw(connection))

    # the engine's own dialect instance (its pool resets connections through it too)
    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    def ended(dbapi_connection: Any, *_: Any) -> None:
        gate.leave(dbapi_connection)

    event.listen(engine, "close", ended)
    event.listen(engine, "invalidate", ended)
    event.listen(engine, "soft_invalidate", ended)
    _GATES[engine] = gate
    return gate


def writer_gate(engine: Engine) -> WriterGate | None:
    """The gate of a SQLite engine (None for PostgreSQL: it has row locks, no such queue)."""
    return _GATES.get(engine)
