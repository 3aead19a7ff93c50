"""The parts of multipart SMS, stored so that a part's receipt finds its message after a restart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from textopt.providers.models import SmsPart

__all__ = ["StoredPart", "find_parts", "mark_parts", "purge_parts", "save_parts"]


@dataclass(frozen=True, slots=True)
class StoredPart:
    """One part as stored: its message, place, and final receipt word if any."""

    part_id: str
    message_key: str
    part_index: int
    total: int
    stat: str | None
    error_code: str | None


def save_parts(session: Session, *, account: str, parts: Sequence[StoredPart]) -> None:
    """Remember the parts of multipart messages just accepted by the SMSC."""
    if parts:
        session.execute(
            insert(SmsPart),
            [
                {
                    "account": account,
                    "part_id": p.part_id,
                    "message_key": p.message_key,
                    "part_index": p.part_index,
                    "total": p.total,
                    "stat": p.stat,
                    "error_code": p.error_code,
                }
                for p in parts
            ],
        )


def find_parts(
    session: Session, *, account: str, part_ids: Collection[str]
) -> dict[str, list[StoredPart]]:
    """Every part of each message one of `part_ids` belongs to, by message key."""
    if not part_ids:
        return {}
    keys = select(SmsPart.message_key).where(
        SmsPart.account == account, SmsPart.part_id.in_(list(part_ids))
    )
    rows = session.scalars(
        select(SmsPart).where(SmsPart.account == account, SmsPart.message_key.in_(keys))
    )
    found: dict[str, list[StoredPart]] = {}
    for row in rows:
        found.setdefault(row.message_key, []).append(
            StoredPart(
                row.part_id, row.message_key, row.part_index, row.total, row.stat, row.error_code
            )
        )
    return found


def mark_parts(
    session: Session, *, account: str, outcomes: Sequence[tuple[str, str, str | None]]
) -> None:
    """Record the final receipt word (and error) of parts, as (part_id, stat, error_code)."""
    if outcomes:
        table = cast(Table, SmsPart.__table__)
        session.connection().execute(
            update(table)
            .where(table.c.account == account, table.c.part_id == bindparam("b_part"))
            .values(stat=bindparam("b_stat"), error_code=bindparam("b_error")),
            [{"b_part": p, "b_stat": stat, "b_error": error} for p, stat, error in outcomes],
        )


def purge_parts(session: Session, *, account: str, before: dt.datetime) -> int:
    """Forget the parts of messages sent before `before`: their receipts are long due.

    A part's receipt arriving later still reaches the dispatcher, under the part's own id,
    and waits there as an unmatched receipt.
    """
    gone = session.execute(
        delete(SmsPart).where(SmsPart.account == account, SmsPart.created_at < before)
    )
    return int(getattr(gone, "rowcount", 0) or 0)
