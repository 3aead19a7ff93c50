"""How many threads run a dispatcher's database work, and what several of them change."""

from __future__ import annotations

import asyncio
import threading

import pytest

from textopt.dispatch.db_thread import DatabaseThread, database_threads


@pytest.mark.parametrize(
    ("dialect", "configured", "workers", "threads"),
    [
        ("sqlite", None, 4, 1),  # one writer at a time: a second thread would only wait
        ("sqlite", 8, 4, 1),
        ("postgresql", None, 1, 2),
        ("postgresql", None, 4, 4),
        ("postgresql", 3, 8, 3),
    ],
)
def test_threads_by_database(
    dialect: str, configured: int | None, workers: int, threads: int
) -> None:
    assert database_threads(dialect, configured=configured, workers=workers) == threads


def test_one_thread_runs_jobs_one_at_a_time_in_order() -> None:
    order: list[int] = []

    async def main() -> None:
        database = DatabaseThread(1)
        try:
            await asyncio.gather(*(database.run(lambda n=n: order.append(n)) for n in range(20)))
        finally:
            database.close()

    asyncio.run(main())
    assert order == list(range(20))


def test_several_threads_run_jobs_side_by_side() -> None:
    # two jobs that each wait for the other: they end only if they run at the same time
    both = threading.Barrier(2, timeout=5)

    async def main() -> list[int]:
        database = DatabaseThread(2)
        try:
            return await asyncio.gather(database.run(both.wait), database.run(both.wait))
        finally:
            database.close()

    assert sorted(asyncio.run(main())) == [0, 1]
