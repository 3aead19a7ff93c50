"""Housekeeping: named jobs, each on its interval, run by one supervised side task.

A `Housekeeper` is a worker for the supervisor (`textopt.supervisor`): it runs each job when
its interval has passed, one at a time, through a `runner` (the dispatcher's database
thread, or a thread of its own). A turn runs every due job even when one fails; the first
failure is then raised (naming its job), so that the supervisor logs it, reports it on
`/health` and starts a fresh housekeeper after its backoff, while one broken job neither
hides the others' errors nor starves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from textopt.logs import log_event

__all__ = ["Housekeeper", "Job", "JobFailed", "Runner"]

_log = logging.getLogger("textopt.housekeeping")

#: Runs a job's synchronous work somewhere and awaits it.
Runner = Callable[[Callable[[], object]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Job:
    """A named piece of housekeeping, run every `interval` seconds (synchronous work)."""

    name: str
    interval: float
    run: Callable[[], object]

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a housekeeping job needs a name")
        if not self.interval > 0:
            raise ValueError(f"housekeeping job {self.name!r}: interval must be > 0 seconds")


class JobFailed(Exception):
    """A housekeeping job raised; the message names the job, the cause is its error."""

    def __init__(self, job: str, error: BaseException) -> None:
        super().__init__(f"housekeeping job {job!r} failed: {type(error).__name__}: {error}")
        self.job = job


async def _in_thread(work: Callable[[], object]) -> object:
    return await asyncio.to_thread(work)


class Housekeeper:
    """Runs its jobs on their intervals until stopped (a supervised worker)."""

    def __init__(self, jobs: Sequence[Job], *, runner: Runner | None = None) -> None:
        names = [job.name for job in jobs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"housekeeping jobs named twice: {', '.join(repeated)}")
        self.jobs = tuple(jobs)
        self._runner = runner or _in_thread
        self._due = dict.fromkeys(names, 0.0)  # monotonic time of each job's next run
        self._stop = asyncio.Event()
        self._turn_lock = asyncio.Lock()

    def stop(self) -> None:
        """Return after the job under way."""
        self._stop.set()

    async def run(self) -> None:
        """Run each job when due, until stopped; raise `JobFailed` after a turn with errors."""
        while not self._stop.is_set():
            await self._turn(every=False)
            wait = min(self._due.values(), default=time.monotonic() + 3600) - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(wait, 0.0))

    async def run_all(self) -> None:
        """Run every job now, in order (before a one-off run ends, say)."""
        await self._turn(every=True)

    async def _turn(self, *, every: bool) -> None:
        async with self._turn_lock:  # `run_all` and the loop's turn never overlap
            failures: list[JobFailed] = []
            for job in self.jobs:
                now = time.monotonic()
                if not every and (now < self._due[job.name] or self._stop.is_set()):
                    continue
                self._due[job.name] = now + job.interval
                try:
                    await self._runner(job.run)
                except Exception as exc:
                    failure = JobFailed(job.name, exc)
                    failure.__cause__ = exc
                    failures.append(failure)
                    continue
                log_event(
                    _log,
                    logging.DEBUG,
                    "housekeeping job done",
                    job=job.name,
                    seconds=round(time.monotonic() - now, 3),
                )
            for failure in failures[1:]:  # the first is raised: the supervisor logs it
                log_event(
                    _log,
                    logging.ERROR,
                    "housekeeping job failed",
                    job=failure.job,
                    exc_info=failure.__cause__,
                )
            if failures:
                raise failures[0]
