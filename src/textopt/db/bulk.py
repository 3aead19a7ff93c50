"""Bulk statements: a list bound as one parameter, columns read as the driver gives them,
and SQLite rows inserted many per statement.

The claim, its re-check and the dispatcher's writes select thousands of rows by id or
digest per statement; these helpers keep such a statement built once per dialect and its
rows free of per-row conversion.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Collection, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    func,
    literal,
    select,
    type_coerce,
)

__all__ = [
    "among",
    "among_rows",
    "id_list",
    "ids_parameter",
    "insert_rows",
    "parse_instant",
    "raw",
]


def raw(column: Any) -> Any:
    """`column` read as the driver gives it (no per-row conversion: done when needed)."""
    return type_coerce(column, String).label(column.key)


def among(dialect: str, column: Any, values: Collection[Any] | BindParameter[Any]) -> Any:
    """`column IN values` with the values as one parameter (a JSON array, or an array).

    A long IN list is rendered and bound value by value on every execution; one parameter
    costs the same for ten values or ten thousand. `values` may be a bound parameter whose
    value `id_list` makes.
    """
    if not isinstance(values, BindParameter):
        values = literal(id_list(dialect, values), _list_type(dialect, column))
    if dialect == "postgresql":
        return column == any_(values)
    return column.in_(select(func.json_each(values).table_valued("value").c.value))


def among_rows(dialect: str, column: Any, values: BindParameter[Any]) -> Any:
    """`among` for a column of a table the planner may read whole (a short suppression list):
    on PostgreSQL, `column IN (SELECT unnest(values))`, a join with the list's rows. With
    `= ANY(values)` each row read is compared with every value of the list in turn (a bound
    array is not hashed): a thousand values against 500 rows took three times as long.
    """
    if dialect == "postgresql":
        return column.in_(select(func.unnest(values)))
    return among(dialect, column, values)


def id_list(dialect: str, values: Collection[Any]) -> Any:
    """The value of an `among` parameter: a list on PostgreSQL, a JSON array on SQLite."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


def _list_type(dialect: str, column: Any) -> Any:
    if dialect != "postgresql":
        return Text()
    return ARRAY(Integer if column.type._type_affinity is Integer else String)


def ids_parameter(dialect: str, name: str, column: Any) -> BindParameter[Any]:
    """A bound parameter for `among`, to build a statement once and bind its list later."""
    return bindparam(name, type_=_list_type(dialect, column))


def parse_instant(value: Any) -> dt.datetime | None:
    """An instant as stored (SQLite text, PostgreSQL timestamptz) made aware in UTC."""
    if value is None:
        return None
    instant: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def insert_rows(cursor: Any, insert: str, rows: Sequence[Sequence[Any]], after: str = "") -> int:
    """`insert` (up to `VALUES`) of `rows`, then `after` (an `ON CONFLICT` clause), through
    a SQLite cursor, as many rows per statement as SQLite takes parameters; how many rows
    went in.

    One statement binds its rows at once and steps once: `executemany` steps once per row,
    and the driver gives the interpreter lock back at every step, so a thread reading
    beside it (planning reads a page while the previous one is written) waits for the lock
    once per row too.
    """
    if not rows:
        return 0
    width = len(rows[0])
    limit = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    one = f"({', '.join(['?'] * width)})"
    done, begin = 0, 0
    for size in _chunk_sizes(len(rows), max(limit // width, 1)):
        values = ", ".join([one] * size)
        chunk = rows[begin : begin + size]
        begin += size
        cursor.execute(f"{insert} {values} {after}".rstrip(), list(chain.from_iterable(chunk)))
        done += cursor.rowcount
    return done


def _chunk_sizes(count: int, most: int) -> list[int]:
    """`count` rows cut in statements of `most` rows, then of powers of two: the driver
    keeps each distinct statement prepared (a long one takes megabytes), so a run uses a
    few sizes, not one per page."""
    sizes = [most] * (count // most)
    rest = count % most
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes
