"""PostgreSQL's `COPY` for bulk writes through psycopg's cursor.

A row per `INSERT` costs the server a parse, a bind and an execution each, even pipelined;
`COPY … FROM STDIN` streams the rows and the server only parses their text. `COPY` cannot
skip a row that clashes with a unique index, so a write that must (`ON CONFLICT DO
NOTHING`) copies into a bare temporary table first and moves the rows with one `INSERT …
SELECT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

__all__ = ["copies", "copy_rows", "staged_insert"]


def copies(driver: Any) -> bool:
    """Whether `driver` (a DBAPI connection) can `COPY` through these helpers."""
    return isinstance(driver, psycopg.Connection)


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Stream `rows` into `table`'s `columns` with `COPY … FROM STDIN` (text format)."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def staged_insert(
    cursor: Any,
    *,
    table: str,
    staging: str,
    staged: Sequence[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    conflict: str,
) -> int:
    """`rows` inserted into `table`'s `columns` with `conflict` (an `ON CONFLICT` clause),
    through the temporary table `staging`; how many rows went in.

    `staging` has `table`'s types for the `staged` columns (a superset of `columns`), no
    constraint and no index; it is created once per transaction and emptied after use.
    """
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
        f"SELECT {', '.join(staged)} FROM {table} WITH NO DATA"
    )
    copy_rows(cursor, staging, columns, rows)
    listed = ", ".join(columns)
    cursor.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staging} {conflict}")
    inserted = int(cursor.rowcount)
    cursor.execute(f"TRUNCATE {staging}")
    return inserted
