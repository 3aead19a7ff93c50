"""One supervisor for long-running side work: start it, watch it, restart it, report it.

`textopt serve` runs the dispatcher and the webhook deliverer beside the API. Each is a
named *worker factory*: the supervisor builds a fresh worker from it, awaits its `run()`,
and when that ends with an exception (or returns without being asked to stop) logs the
traceback under the worker's name and starts a new one after a backoff (1 s doubling to
60 s; back to 1 s once a worker has run well for `reset_after`). A fresh object per attempt:
a worker's state is not trusted after it crashed. `stop()` asks each worker to finish
(`worker.stop()`), awaits it, and cancels one that outlasts the grace period.

`report()` is a snapshot per worker (state, restarts, last error, next attempt) for
`/health`: cheap, no I/O, safe to read from another thread. A worker that supervises tasks
of its own (the dispatcher: its account workers, its MO applier, its housekeeping) is
`Reporting`: while it runs, its tasks' reports follow its own, under the names it gives them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from textopt.db.base import utcnow
from textopt.logs import log_event

__all__ = [
    "Backoff",
    "EndedEarly",
    "Failure",
    "Reporting",
    "Supervisor",
    "Worker",
    "WorkerFactory",
    "WorkerReport",
    "WorkerState",
]

_log = logging.getLogger("textopt.supervisor")

#: Longest error message kept for a report (the log has the whole traceback).
_MESSAGE_CHARS = 200


class Worker(Protocol):
    """Long-running side work: `run()` until `stop()` is called."""

    async def run(self) -> object:
        """Work until stopped; an exception or an early return means it died."""
        ...

    def stop(self) -> None:
        """Ask `run()` to finish its current step and return."""
        ...


WorkerFactory = Callable[[], Worker]


@runtime_checkable
class Reporting(Protocol):
    """A worker with supervised tasks of its own, reported beside it on `/health`."""

    def report(self) -> Mapping[str, WorkerReport]:
        """Each of its tasks' state, by a name unique in the whole report."""
        ...


class WorkerState(StrEnum):
    """Where a supervised worker stands."""

    # its run() is in progress
    RUNNING = "running"
    # its last run ended with an error (or early); the next attempt is at `next_attempt_at`
    RESTARTING = "restarting"
    # not running: not started yet, or the supervisor has shut it down
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between restarts: `first`, doubling, at most `maximum` seconds.

    A worker that ran at least `reset_after` seconds before it failed starts again from
    `first`: a crash after an hour of good work is not the tenth of a crash loop.
    """

    first: float = 1.0
    maximum: float = 60.0
    reset_after: float = 120.0

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows `failures` consecutive failures (≥ 1)."""
        return float(min(self.maximum, self.first * 2 ** max(failures - 1, 0)))


@dataclass(frozen=True, slots=True)
class Failure:
    """How a worker's last run ended: the error's type and first line, and when."""

    type: str
    message: str
    at: dt.datetime

    @classmethod
    def of(cls, error: BaseException, at: dt.datetime) -> Failure:
        """The summary of `error` (no traceback, no SQL parameters: its first line only)."""
        lines = str(error).strip().splitlines()
        message = lines[0] if lines else ""
        if len(message) > _MESSAGE_CHARS:
            message = message[: _MESSAGE_CHARS - 1] + "…"
        return cls(type=type(error).__name__, message=message, at=at)


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """A snapshot of one supervised worker."""

    name: str
    state: WorkerState
    restarts: int = 0  # how many times a new worker replaced one that died
    last_error: Failure | None = None
    next_attempt_at: dt.datetime | None = None  # when restarting


class EndedEarly(Exception):
    """A worker's run() returned while nobody had asked it to stop."""


@dataclass(slots=True)
class _Slot:
    name: str
    factory: WorkerFactory
    report: WorkerReport
    worker: Worker | None = None
    task: asyncio.Task[None] | None = None
    failures: int = 0  # consecutive, for the backoff


class Supervisor:
    """Starts named workers, restarts those that die, stops them all on shutdown."""

    def __init__(
        self,
        factories: Mapping[str, WorkerFactory],
        *,
        backoff: Backoff | None = None,
        grace: float = 30.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.grace = grace
        self.clock = clock
        self._slots = {
            name: _Slot(name, factory, WorkerReport(name, WorkerState.STOPPED))
            for name, factory in factories.items()
        }
        self._stopping = asyncio.Event()

    def report(self) -> dict[str, WorkerReport]:
        """Each worker's current state, by name, each followed by its own tasks' if any."""
        reports: dict[str, WorkerReport] = {}
        for name, slot in self._slots.items():
            reports[name] = slot.report
            worker = slot.worker
            if isinstance(worker, Reporting):
                reports.update(worker.report())
        return reports

    def start(self) -> None:
        """Start every worker (call from the event loop that will run them)."""
        if any(slot.task is not None for slot in self._slots.values()):
            raise RuntimeError("the supervisor is already started")
        self._stopping.clear()
        for slot in self._slots.values():
            slot.task = asyncio.create_task(self._keep(slot), name=f"supervised:{slot.name}")

    async def stop(self) -> None:
        """Ask every worker to stop, await them; cancel those still running after `grace`."""
        self._stopping.set()
        for slot in self._slots.values():
            if slot.worker is not None:
                try:
                    slot.worker.stop()
                except Exception as exc:
                    log_event(_log, logging.ERROR, "stop failed", task=slot.name, exc_info=exc)
        tasks = {slot.task: slot for slot in self._slots.values() if slot.task is not None}
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.grace)
            for task in late:
                log_event(
                    _log,
                    logging.ERROR,
                    "did not stop in time; cancelled",
                    task=tasks[task].name,
                    grace_seconds=self.grace,
                )
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            slot.task = None
            slot.worker = None
            slot.report = replace(slot.report, state=WorkerState.STOPPED, next_attempt_at=None)

    async def _keep(self, slot: _Slot) -> None:
        """Run `slot`'s worker until the supervisor stops, replacing it each time it dies."""
        lives = 0
        while not self._stopping.is_set():
            if lives:
                slot.report = replace(slot.report, restarts=slot.report.restarts + 1)
            lives += 1
            started = time.monotonic()
            error = await self._run_once(slot)
            if error is None:  # stopped on request
                break
            if self._stopping.is_set():  # it failed while finishing: nothing to restart
                slot.report = replace(slot.report, last_error=Failure.of(error, self.clock()))
                log_event(
                    _log, logging.ERROR, "failed while stopping", task=slot.name, exc_info=error
                )
                break
            if time.monotonic() - started >= self.backoff.reset_after:
                slot.failures = 0
            slot.failures += 1
            delay = self.backoff.delay(slot.failures)
            now = self.clock()
            slot.report = replace(
                slot.report,
                state=WorkerState.RESTARTING,
                last_error=Failure.of(error, now),
                next_attempt_at=now + dt.timedelta(seconds=delay),
            )
            log_event(
                _log,
                logging.ERROR,
                "died; restarting",
                task=slot.name,
                error=type(error).__name__,
                restart_in_seconds=delay,
                restarts=slot.report.restarts,
                exc_info=error,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        slot.report = replace(slot.report, state=WorkerState.STOPPED, next_attempt_at=None)

    async def _run_once(self, slot: _Slot) -> BaseException | None:
        """One life of a fresh worker: None if it stopped on request, else why it ended."""
        try:
            slot.worker = slot.factory()
            slot.report = replace(slot.report, state=WorkerState.RUNNING, next_attempt_at=None)
            await slot.worker.run()
        except asyncio.CancelledError as cancelled:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the supervisor's own task is being cancelled
            return cancelled  # the worker let an internal cancellation escape: it died
        except Exception as exc:
            return exc
        finally:
            slot.worker = None
        if self._stopping.is_set():
            return None
        return EndedEarly("run() returned without being asked to stop")
