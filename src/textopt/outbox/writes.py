"""Bulk writes to the outbox shared by the claim and the recording of answers and receipts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from textopt.outbox.models import Message, MessageEvent

__all__ = ["EVENTS", "MESSAGES", "write_events", "write_updates"]

MESSAGES = cast(Table, Message.__table__)
EVENTS = cast(Table, MessageEvent.__table__)


def write_updates(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE messages by id in bulk: one executemany per set of columns changed."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        keys = tuple(sorted(k for k in row if k != "id"))
        groups.setdefault(keys, []).append({"_id": row["id"], **{k: row[k] for k in keys}})
    for keys, params in groups.items():
        statement = (
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("_id"))
            .values({key: bindparam(key) for key in keys})
        )
        session.execute(statement, params)


def write_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """INSERT message events in bulk, straight to the driver (values converted once each)."""
    if not events:
        return
    connection = session.connection()
    dialect = connection.dialect
    ph = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
    at = EVENTS.c.at.type._cached_bind_processor(dialect)
    detail = EVENTS.c.detail.type._cached_bind_processor(dialect)
    connection.exec_driver_sql(
        f"INSERT INTO message_events (message_id, at, status, detail) "
        f"VALUES ({ph}, {ph}, {ph}, {ph})",
        [
            (
                e["message_id"],
                at(e["at"]) if at is not None else e["at"],
                str(e["status"]),
                detail(e["detail"]) if detail is not None else e["detail"],
            )
            for e in events
        ],
    )
