"""Request parameters both faces read: row ids in paths and the `after` cursor of a list."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from textopt.db.ids import MAX_ID

__all__ = ["After", "Limit", "RowId"]

# ids are 32-bit on PostgreSQL: a larger one is refused (422), not a 500
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

After = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="Cursor: the `next` value of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
