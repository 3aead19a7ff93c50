"""Storage: engine, sessions, table base and migrations. Holds no business rules."""

from __future__ import annotations

from textopt.db.base import Base, JSONType, UTCDateTime, utcnow
from textopt.db.engine import create_db_engine, session_factory, session_scope

__all__ = [
    "Base",
    "JSONType",
    "UTCDateTime",
    "create_db_engine",
    "session_factory",
    "session_scope",
    "utcnow",
]
