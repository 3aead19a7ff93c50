"""SQLite writers of one engine queue at its gate; every way a transaction ends frees it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert, select, text

from textopt.db.writer_gate import WriterGate, writer_gate

_metadata = MetaData()
_order = Table(
    "gate_order", _metadata, Column("id", Integer, primary_key=True), Column("who", String)
)


def _gate(engine: Engine) -> WriterGate:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has row locks; SQLite alone has one writer at a time")
    gate = writer_gate(engine)
    assert gate is not None
    return gate


def test_writers_of_one_engine_commit_in_the_order_they_asked(engine: Engine) -> None:
    gate = _gate(engine)
    _metadata.create_all(engine)
    holder = engine.connect()
    holder.begin()
    holder.execute(insert(_order).values(who="first"))

    def writer(name: str) -> None:
        with engine.begin() as connection:
            connection.execute(insert(_order).values(who=name))

    threads = []
    for n in range(4):
        thread = threading.Thread(target=writer, args=(f"w{n}",))
        thread.start()
        deadline = time.monotonic() + 10
        while gate.waiting < n + 1:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        threads.append(thread)
    holder.commit()
    holder.close()
    for thread in threads:
        thread.join(30)
    with engine.connect() as connection:
        order = list(connection.scalars(select(_order.c.who).order_by(_order.c.id)))
    assert order == ["first", "w0", "w1", "w2", "w3"]
    assert not gate.held


def test_a_rollback_an_error_and_an_invalidated_connection_each_free_the_turn(
    engine: Engine,
) -> None:
    gate = _gate(engine)
    with engine.connect() as connection:
        connection.begin()
        connection.execute(text("SELECT 1"))
        assert gate.held
        connection.rollback()
    assert not gate.held

    def failing_write() -> None:
        with engine.begin() as connection:
            connection.execute(text("SELECT 1"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing_write()
    assert not gate.held
    connection = engine.connect()
    connection.begin()
    connection.execute(text("SELECT 1"))
    connection.invalidate()
    assert not gate.held
    connection.close()
    with engine.connect() as reader:  # a connection returned unfinished to the pool
        reader.begin()
        reader.execute(text("SELECT 1"))
    assert not gate.held
