"""The writer gate hands SQLite's write turn over in arrival order, and gives up on time."""

from __future__ import annotations

import threading
import time

from textopt.db.writer_gate import WriterGate


class _Connection:
    """Stands for a DBAPI connection: the gate only tells them apart by identity."""


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def test_writers_get_their_turn_in_the_order_they_arrived() -> None:
    gate = WriterGate()
    first = _Connection()
    assert gate.enter(first, timeout=1)
    served: list[int] = []

    def writer(n: int) -> None:
        connection = _Connection()
        assert gate.enter(connection, timeout=10)
        served.append(n)
        gate.leave(connection)

    threads = []
    for n in range(5):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        _wait_until(lambda n=n: gate.waiting == n + 1, f"writer {n} in line")
        threads.append(thread)
    gate.leave(first)
    for thread in threads:
        thread.join(10)
    assert served == [0, 1, 2, 3, 4]
    assert not gate.held
    assert gate.waiting == 0


def test_a_writer_that_waited_too_long_leaves_the_line_and_the_holder_keeps_its_turn() -> None:
    gate = WriterGate()
    holder, late = _Connection(), _Connection()
    assert gate.enter(holder, timeout=1)
    assert gate.enter(late, timeout=0.01) is False
    assert gate.waiting == 0
    gate.leave(late)  # not its turn: nothing happens
    assert gate.held
    gate.leave(holder)
    assert not gate.held
    assert gate.enter(late, timeout=0)
