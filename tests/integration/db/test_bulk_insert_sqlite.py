"""Rows inserted many per statement on SQLite give what inserting them one by one gives."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from hypothesis import given
from hypothesis import strategies as st

from textopt.db.bulk import insert_rows

_ROWS = st.lists(st.tuples(st.integers(0, 40), st.text(max_size=3)), max_size=60)


def _table(limit: int) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v TEXT)")
    return connection


@given(_ROWS, st.integers(2, 30))
def test_rows_in_statements_of_many_are_the_rows_one_by_one(
    rows: list[tuple[int, str]], limit: int
) -> None:
    with closing(_table(limit)) as alone, closing(_table(limit)) as many:
        alone.executemany("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)
        cursor = many.cursor()
        inserted = insert_rows(
            cursor, "INSERT INTO t (k, v) VALUES", rows, "ON CONFLICT DO NOTHING"
        )
        cursor.close()
        assert inserted == alone.total_changes
        query = "SELECT id, k, v FROM t ORDER BY id"
        assert many.execute(query).fetchall() == alone.execute(query).fetchall()
