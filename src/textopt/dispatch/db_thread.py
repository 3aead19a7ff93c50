"""The dispatcher's database thread: synchronous SQLAlchemy work, one job at a time.

SQLite takes one writer at a time, so a second thread would only wait for the lock; on
PostgreSQL one thread per dispatcher process keeps the event loop free for the providers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["DatabaseThread"]

_T = TypeVar("_T")


class DatabaseThread:
    """Runs database work in one thread of its own, in the order it is given."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[[], _T]) -> _T:
        """Run `work` in the thread and return its result (or raise its error)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="textopt-dispatch-db")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def close(self) -> None:
        """Wait for the work under way and end the thread (a later `run` starts another)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
