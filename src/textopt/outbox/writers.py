"""Planning's bulk writers: multi-row inserts through the driver, and the set-based insert.

Both write `OutboxRow`'s columns (`rows.py`); their SQL is generated from it. Instants go
through `UTCDateTime`'s own bind conversion (`StoredInstants`), so the raw path refuses a
naive datetime and stores what the ORM would.

`OutboxWriter` runs `INSERT … ON CONFLICT DO NOTHING` on the driver's cursor: the driver
binds the values in C and runs the insert without the interpreter lock, so a batch is
written in a thread while the next one is planned. On PostgreSQL a batch is streamed with
`COPY` into a bare temporary table and moved into the outbox by one `INSERT … SELECT … ON
CONFLICT DO NOTHING` (`COPY` cannot skip a conflict; a row per statement costs a round of
parse, bind and execute each). `FastInsert` writes a page planned by
class of recipient: an `INSERT … SELECT` joins the page's (contact, class, text) triples
with two temporary tables holding each class's decision columns and each text's
composition, so those columns are bound once per class or text, not once per recipient.
On PostgreSQL those two tables are filled with `COPY`. A run with tracked links gives each
triple a fourth value, the recipient's own text (NULL for a text without links). On
PostgreSQL the triples go as arrays (`unnest`), except with tracked links: an array of
texts is quoted value by value in Python and parsed again by the server, about four
times the cost of copying the triples into a temporary table in binary.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from textopt.db.bulk import insert_rows
from textopt.db.copying import copies, copy_rows, staged_insert
from textopt.outbox.models import Message
from textopt.outbox.rows import (
    EMAIL_COLUMNS,
    OUTBOX_COLUMNS,
    DecisionColumns,
    EmailRow,
    SmsRow,
    StoredDecision,
    StoredInstant,
)

__all__ = [
    "CLASSES_TABLE",
    "ROWS_TABLE",
    "TEXTS_TABLE",
    "TEXT_COLUMNS",
    "ClassRow",
    "ClassRows",
    "FastInsert",
    "OutboxWriter",
    "PlannedRows",
    "StoredInstants",
    "TextRow",
]

_MESSAGES = cast(Table, Message.__table__)

CLASSES_TABLE = "textopt_plan_classes"
TEXTS_TABLE = "textopt_plan_texts"
#: PostgreSQL: where a batch's rows are copied before they enter the outbox.
ROWS_TABLE = "textopt_plan_rows"
#: PostgreSQL with tracked links: where a page's triples are copied (see `FastInsert`).
TRIPLES_TABLE = "textopt_plan_triples"
#: The columns a class of recipients shares: what its decision writes.
CLASS_COLUMNS: tuple[str, ...] = DecisionColumns._fields
#: The columns a text shares: its composition.
TEXT_COLUMNS = ("body", "encoding", "segments", "cost_micros", "currency")
#: A class's row in its temporary table: index, then the stored decision columns.
ClassRow = tuple[int, str, str, str | None, str, bool, StoredInstant | None, StoredInstant | None]
#: A text's row in its temporary table: index, body, encoding, segments, cost, currency.
TextRow = tuple[int, str, str, int, int, str]
#: Where the fast insert takes the columns that are neither constant nor shared.
_FROM_PAGE = {"contact_id": "v.contact_id", "recipient": "c.phone", "country": "c.country"}
_CONFLICT = "ON CONFLICT (campaign_id, contact_id, channel) DO NOTHING"
_TRIPLE_COLUMNS = ("contact_id", "class_idx", "text_idx", "body")


class StoredInstants:
    """Instants in the form the driver is given them, converted once per distinct value.

    The conversion is `UTCDateTime`'s own (`messages.send_at`'s bind processor): a naive
    datetime is refused, and SQLite gets the text the ORM would have written.
    """

    def __init__(self, dialect: Dialect) -> None:
        # the dialect's form of the type: on SQLite, its text after UTCDateTime's check
        stored = _MESSAGES.c.send_at.type.dialect_impl(dialect)
        self._bind: Callable[[Any], Any] | None = stored.bind_processor(dialect)
        self._known: dict[dt.datetime, StoredInstant] = {}

    def __call__(self, value: dt.datetime) -> StoredInstant:
        """`value` in its stored form."""
        converted = self._known.get(value)
        if converted is None:
            converted = self._bind(value) if self._bind is not None else value
            if len(self._known) > 100_000:
                self._known.clear()
            self._known[value] = converted
        return converted

    def optional(self, value: dt.datetime | None) -> StoredInstant | None:
        """`value` in its stored form, None kept."""
        return None if value is None else self(value)

    def decision(self, columns: DecisionColumns) -> StoredDecision:
        """A decision's columns with their instants in stored form."""
        pack, status, reason, reason_text, deferred, send_at, done_at = columns
        return (
            pack,
            status,
            reason,
            reason_text,
            deferred,
            self.optional(send_at),
            self.optional(done_at),
        )


@dataclass(slots=True)
class ClassRows:
    """What one page adds to the outbox on the set-based path."""

    classes: list[ClassRow] = field(default_factory=list)  # new classes
    texts: list[TextRow] = field(default_factory=list)  # new texts
    # contact, class, text (and, with tracked links, the recipient's own text or None)
    triples: list[tuple[Any, ...]] = field(default_factory=list)
    # what must be written before the triples, in the writer's thread (tracked links' codes)
    before: Callable[[Any], None] | None = None

    def __bool__(self) -> bool:
        return bool(self.triples or self.classes or self.texts)


@dataclass(slots=True)
class PlannedRows:
    """The outbox rows of one batch: plain tuples in `OutboxRow`'s order, or by class."""

    sms: list[SmsRow] = field(default_factory=list)
    email: list[EmailRow] = field(default_factory=list)
    fast: ClassRows | None = None

    def __bool__(self) -> bool:
        return bool(self.sms or self.email or self.fast)


class FastInsert:
    """The statements that write a page's triples (see the module's docstring).

    `constants` gives the value of every column that is the same for the whole run; the
    others come from the page (`_FROM_PAGE`), the class or the text. The idempotency key's
    constant is its prefix, followed by the contact's id.
    """

    def __init__(
        self,
        *,
        marker: str,
        multirow_limit: int,
        constants: Mapping[str, Any],
        linked: bool = False,
    ) -> None:
        self.postgres = marker == "%s"
        self.marker = marker
        self.linked = linked  # triples carry the recipient's own text
        self.width = 4 if linked else 3
        select_list: list[str] = []
        values: list[Any] = []
        for name in OUTBOX_COLUMNS:
            if name in CLASS_COLUMNS:
                select_list.append(f"k.{name}")
            elif name == "body" and linked:
                select_list.append("COALESCE(v.body, t.body)")
            elif name in TEXT_COLUMNS:
                select_list.append(f"t.{name}")
            elif name in _FROM_PAGE:
                select_list.append(_FROM_PAGE[name])
            elif name in constants:
                values.append(constants[name])
                suffix = " || CAST(c.id AS TEXT)" if name == "idempotency_key" else ""
                select_list.append(marker + suffix)
            else:
                raise ValueError(f"the fast insert has no value for the outbox column {name}")
        unknown = set(constants) - set(OUTBOX_COLUMNS)
        if unknown:
            raise ValueError(f"the fast insert was given columns the outbox lacks: {unknown}")
        self.select_list = ", ".join(select_list)
        self.constants = tuple(values)
        # SQLite: as many triples per statement as its parameter limit allows
        self.chunk = max((multirow_limit - len(self.constants)) // self.width, 1)
        self._sql: dict[int, str] = {}

    def _statement(self, count: int) -> str:
        sql = self._sql.get(count)
        if sql is not None:
            return sql
        m = self.marker
        joins = (
            f"JOIN contacts c ON c.id = v.contact_id "
            f"JOIN {CLASSES_TABLE} k ON k.idx = v.class_idx "
            f"JOIN {TEXTS_TABLE} t ON t.idx = v.text_idx"
        )
        insert = f"INSERT INTO messages ({', '.join(OUTBOX_COLUMNS)}) SELECT {self.select_list}"
        names = "contact_id, class_idx, text_idx" + (", body" if self.linked else "")
        if self.postgres and self.linked:
            sql = f"{insert} FROM {TRIPLES_TABLE} v {joins} {_CONFLICT}"
        elif self.postgres:
            arrays = f"{m}::bigint[], {m}::integer[], {m}::integer[]"
            sql = f"{insert} FROM unnest({arrays}) AS v({names}) {joins} {_CONFLICT}"
        else:
            one = f"({', '.join([m] * self.width)})"
            values = ", ".join([one] * count)
            sql = (
                f"WITH v({names}) AS (VALUES {values}) "
                f"{insert} FROM v {joins} WHERE true {_CONFLICT}"
            )
        self._sql[count] = sql
        return sql

    def _parameters(self, values: list[Any]) -> list[Any]:
        # SQLite: the VALUES come first (in the WITH clause); PostgreSQL: the arrays last
        if self.postgres:
            return [*self.constants, *values]
        return [*values, *self.constants]

    def create_tables(self, connection: Connection) -> None:
        """The temporary tables the page inserts join (dropped by `drop_tables`)."""
        self.drop_tables(connection)
        dialect = connection.dialect
        if self.postgres and self.linked:
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {TRIPLES_TABLE} (contact_id bigint, class_idx integer, "
                "text_idx integer, body text) ON COMMIT DROP"
            )
        for table, columns in ((CLASSES_TABLE, CLASS_COLUMNS), (TEXTS_TABLE, TEXT_COLUMNS)):
            if self.postgres:  # typed as the outbox's columns, for the INSERT … SELECT
                spelled = ", ".join(
                    f"{name} {_MESSAGES.c[name].type.compile(dialect)}" for name in columns
                )
                connection.exec_driver_sql(
                    f"CREATE TEMPORARY TABLE {table} (idx integer PRIMARY KEY, {spelled}) "
                    "ON COMMIT DROP"
                )
            else:
                spelled = ", ".join(columns)
                connection.exec_driver_sql(
                    f"CREATE TEMPORARY TABLE {table} (idx INTEGER PRIMARY KEY, {spelled})"
                )

    def drop_tables(self, connection: Connection) -> None:
        """Drop the temporary tables (PostgreSQL drops them at commit anyway)."""
        for table in (CLASSES_TABLE, TEXTS_TABLE, TRIPLES_TABLE):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")

    def write(self, cursor: Any, rows: ClassRows) -> None:
        """Insert what must come first (`ClassRows.before`), the page's new classes and
        texts, then its triples."""
        if rows.before is not None:
            rows.before(cursor)
        for table, names, new in (
            (CLASSES_TABLE, CLASS_COLUMNS, rows.classes),
            (TEXTS_TABLE, TEXT_COLUMNS, rows.texts),
        ):
            if not new:
                continue
            if self.postgres:
                copy_rows(cursor, table, ("idx", *names), new)
            else:
                insert_rows(cursor, f"INSERT INTO {table} VALUES", new)
        triples = rows.triples
        if not triples:
            return
        if self.postgres and self.linked:
            copy_rows(cursor, TRIPLES_TABLE, _TRIPLE_COLUMNS, triples)
            cursor.execute(self._statement(0), self.constants)
            cursor.execute(f"TRUNCATE {TRIPLES_TABLE}")
            return
        if self.postgres:
            columns = [list(column) for column in zip(*triples, strict=True)]
            cursor.execute(self._statement(0), self._parameters(columns))
            return
        for begin in range(0, len(triples), self.chunk):
            chunk = triples[begin : begin + self.chunk]
            values = [value for triple in chunk for value in triple]
            cursor.execute(self._statement(len(chunk)), self._parameters(values))


class OutboxWriter:
    """Multi-row INSERT … ON CONFLICT DO NOTHING of planned rows through the driver's cursor."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        dialect = connection.dialect
        self.marker = "?" if dialect.paramstyle == "qmark" else "%s"
        driver = connection.connection.driver_connection
        assert driver is not None
        self.driver = driver
        # An in-memory SQLite database lives in one connection tied to its thread.
        database = connection.engine.url.database
        self.threads = dialect.name != "sqlite" or database not in (None, "", ":memory:")
        # SQLite: as many rows per statement as it takes parameters. PostgreSQL plans a
        # long VALUES list slowly: one row per statement, pipelined by the driver.
        self.multirow = isinstance(driver, sqlite3.Connection)
        self.limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if self.multirow else 0
        self.fast: FastInsert | None = None
        # PostgreSQL through psycopg: batches go through `ROWS_TABLE` with COPY
        self.copies = copies(driver)

    def by_class(self, constants: Mapping[str, Any], *, linked: bool = False) -> FastInsert:
        """Set up the set-based path's writes (`FastInsert`) and its temporary tables;
        `linked`: the triples carry each recipient's own text (tracked links)."""
        self.fast = FastInsert(
            marker=self.marker, multirow_limit=self.limit, constants=constants, linked=linked
        )
        self.fast.create_tables(self.connection)
        return self.fast

    def close(self) -> None:
        """Drop the temporary tables `by_class` and the writes created."""
        if self.fast is not None:
            self.fast.drop_tables(self.connection)
        if self.copies:
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {ROWS_TABLE}")

    @staticmethod
    def _insert(kind: str) -> str:
        """The outbox's `INSERT` of one kind of row, up to `VALUES`."""
        columns = EMAIL_COLUMNS if kind == "email" else OUTBOX_COLUMNS
        return f"INSERT INTO messages ({', '.join(columns)}) VALUES"

    def write(self, rows: PlannedRows) -> None:
        """Insert the batch's rows (existing ones are kept as they are)."""
        cursor = self.driver.cursor()
        try:
            batches: tuple[tuple[str, list[Any]], ...] = (("sms", rows.sms), ("email", rows.email))
            for kind, batch in batches:
                if self.copies:
                    if batch:
                        columns = EMAIL_COLUMNS if kind == "email" else OUTBOX_COLUMNS
                        staged_insert(
                            cursor,
                            table="messages",
                            staging=ROWS_TABLE,
                            staged=EMAIL_COLUMNS,
                            columns=columns,
                            rows=batch,
                            conflict=_CONFLICT,
                        )
                    continue
                if not batch:
                    continue
                if self.multirow:  # SQLite: as many rows per statement as it takes
                    insert_rows(cursor, self._insert(kind), batch, _CONFLICT)
                else:
                    marks = ", ".join([self.marker] * len(batch[0]))
                    cursor.executemany(f"{self._insert(kind)} ({marks}) {_CONFLICT}", batch)
            if rows.fast:
                assert self.fast is not None
                self.fast.write(cursor, rows.fast)
        finally:
            cursor.close()
