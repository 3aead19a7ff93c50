"""Selecting many rows by id: one range scan for a dense batch, chunked IN lists otherwise."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["id_conditions", "keyset_pages"]


def keyset_pages(
    connection: Connection, query: Select[Any], key: Any, batch_size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `query` in pages of `batch_size` ordered by `key` (a positive integer id
    and the query's first column), as the driver's own tuples: a database row object costs
    more to build, and a keyset page costs the same on page 1,000 as on page 1."""
    paged = query.order_by(key).limit(batch_size)
    last = 0
    while True:
        result = connection.execute(paged.where(key > last))
        try:
            rows: list[tuple[Any, ...]] = list(result.cursor.fetchall())
        finally:
            result.close()
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


def id_conditions(
    column: Any, ids: Collection[int], *, chunk: int = 10_000
) -> list[ColumnElement[bool]]:
    """Conditions that together cover `ids`; run one query per condition.

    A batch of consecutive-ish ids (the planner's keyset pages) is read with one
    `BETWEEN`, which is cheaper than binding thousands of parameters; the caller drops the
    few rows in the range that are not wanted. A sparse set falls back to IN lists.
    """
    ordered = sorted(ids)
    if not ordered:
        return []
    if ordered[-1] - ordered[0] < 4 * len(ordered):
        return [column.between(ordered[0], ordered[-1])]
    return [column.in_(ordered[i : i + chunk]) for i in range(0, len(ordered), chunk)]
