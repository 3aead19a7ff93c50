"""The dispatcher's database threads: synchronous SQLAlchemy work off the event loop.

SQLite takes one writer at a time, so a second thread would only wait for the lock: there,
one thread runs the jobs one at a time, in the order given. On PostgreSQL a job spends most
of its time waiting for the server, and the server runs transactions side by side: there,
several threads run the workers' claims and recordings at once (each job is its own
transaction, as it is for the dispatchers of several processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["DatabaseThread", "database_threads"]

_T = TypeVar("_T")


def database_threads(dialect: str, *, configured: int | None, workers: int) -> int:
    """How many threads run a dispatcher's database work (see the module's text)."""
    if dialect == "sqlite":
        return 1
    return configured if configured is not None else max(workers, 2)


class DatabaseThread:
    """Runs database work in threads of its own: with one thread, in the order it is given."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[[], _T]) -> _T:
        """Run `work` in the thread and return its result (or raise its error)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.threads, thread_name_prefix="textopt-dispatch-db"
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def close(self) -> None:
        """Wait for the work under way and end the thread (a later `run` starts another)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
