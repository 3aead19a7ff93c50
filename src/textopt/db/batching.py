"""Selecting many rows by id: one range scan for a dense batch, chunked IN lists otherwise."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

__all__ = ["id_conditions"]


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
