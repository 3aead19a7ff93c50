"""The supervisor of side work: restarts what dies, says why, stops everything cleanly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from textopt.supervisor import Backoff, Supervisor, Worker, WorkerState

FAST = Backoff(first=0.01, maximum=0.04, reset_after=60)


class Crashing:
    """Raises after `after` seconds of work."""

    def __init__(self, error: Exception, after: float = 0.0) -> None:
        self.error = error
        self.after = after

    async def run(self) -> None:
        await asyncio.sleep(self.after)
        raise self.error

    def stop(self) -> None:
        pass


class Steady:
    """Runs until stopped, then finishes its step."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.log.append("run")
        await self._stop.wait()
        await asyncio.sleep(0.01)  # the current batch
        self.log.append("finished")

    def stop(self) -> None:
        self.log.append("stop")
        self._stop.set()


def _run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 10))


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)


def test_a_worker_that_raises_is_logged_reported_and_replaced_by_a_fresh_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made: list[Worker] = []
    log: list[str] = []

    def factory() -> Worker:
        worker: Worker = (
            Crashing(RuntimeError("provider link lost\nsecond line"))
            if len(made) < 3
            else Steady(log)
        )
        made.append(worker)
        return worker

    async def scenario() -> None:
        supervisor = Supervisor({"dispatcher": factory}, backoff=FAST)
        supervisor.start()
        await _until(lambda: log == ["run"])
        report = supervisor.report()["dispatcher"]
        assert report.state is WorkerState.RUNNING
        assert report.restarts == 3
        assert report.last_error is not None
        assert (report.last_error.type, report.last_error.message) == (
            "RuntimeError",
            "provider link lost",
        )
        await supervisor.stop()
        assert log == ["run", "stop", "finished"]  # asked to stop, then awaited
        assert supervisor.report()["dispatcher"].state is WorkerState.STOPPED

    with caplog.at_level(logging.ERROR, logger="textopt.supervisor"):
        _run(scenario)
    assert len({id(worker) for worker in made}) == 4  # never the crashed object again
    died = [r for r in caplog.records if "dispatcher" in r.getMessage()]
    assert len(died) == 3
    assert died[0].exc_info is not None
    assert "RuntimeError" in died[0].getMessage()
    assert "provider link lost" in caplog.text  # the traceback is in the log


def test_a_dying_worker_is_reported_restarting_with_its_next_attempt() -> None:
    async def scenario() -> None:
        supervisor = Supervisor(
            {"webhooks": lambda: Crashing(OSError("disk full"))},
            backoff=Backoff(first=30, maximum=60),
        )
        supervisor.start()
        await _until(lambda: supervisor.report()["webhooks"].state is WorkerState.RESTARTING)
        report = supervisor.report()["webhooks"]
        assert report.restarts == 0
        assert report.last_error is not None
        assert report.next_attempt_at is not None
        assert 29 <= (report.next_attempt_at - report.last_error.at).total_seconds() <= 30
        await supervisor.stop()  # does not wait out the backoff
        assert supervisor.report()["webhooks"].state is WorkerState.STOPPED
        assert supervisor.report()["webhooks"].next_attempt_at is None

    _run(scenario)


def test_one_worker_dying_leaves_the_others_running() -> None:
    log: list[str] = []

    async def scenario() -> None:
        supervisor = Supervisor(
            {"dispatcher": lambda: Crashing(ValueError("bad")), "webhooks": lambda: Steady(log)},
            backoff=FAST,
        )
        supervisor.start()
        await _until(lambda: supervisor.report()["dispatcher"].restarts >= 2)
        assert supervisor.report()["webhooks"].state is WorkerState.RUNNING
        assert log == ["run"]
        await supervisor.stop()
        assert log == ["run", "stop", "finished"]

    _run(scenario)


def test_a_worker_that_returns_unasked_is_restarted() -> None:
    class Quitter:
        async def run(self) -> None:
            await asyncio.sleep(0)

        def stop(self) -> None:
            pass

    async def scenario() -> None:
        supervisor = Supervisor({"dispatcher": Quitter}, backoff=FAST)
        supervisor.start()
        await _until(lambda: supervisor.report()["dispatcher"].restarts >= 2)
        error = supervisor.report()["dispatcher"].last_error
        assert error is not None
        assert error.type == "EndedEarly"
        await supervisor.stop()

    _run(scenario)


def test_a_factory_that_raises_counts_as_a_death() -> None:
    def broken() -> Worker:
        raise KeyError("no such provider")

    async def scenario() -> None:
        supervisor = Supervisor({"dispatcher": broken}, backoff=FAST)
        supervisor.start()
        await _until(lambda: supervisor.report()["dispatcher"].restarts >= 1)
        error = supervisor.report()["dispatcher"].last_error
        assert error is not None
        assert error.type == "KeyError"
        await supervisor.stop()

    _run(scenario)


def test_a_worker_that_ignores_stop_is_cancelled_after_the_grace_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled: list[bool] = []

    class Stubborn:
        async def run(self) -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        def stop(self) -> None:
            pass

    async def scenario() -> None:
        supervisor = Supervisor({"dispatcher": Stubborn}, grace=0.05)
        supervisor.start()
        await asyncio.sleep(0.01)
        await supervisor.stop()
        assert supervisor.report()["dispatcher"].state is WorkerState.STOPPED

    with caplog.at_level(logging.ERROR, logger="textopt.supervisor"):
        _run(scenario)
    assert cancelled == [True]
    assert "did not stop" in caplog.text


def test_the_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(first=1, maximum=60)
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_backoff_starts_over_after_a_worker_ran_well() -> None:
    async def scenario() -> None:
        # each life lasts longer than reset_after: every restart waits `first` again
        supervisor = Supervisor(
            {"dispatcher": lambda: Crashing(RuntimeError("x"), after=0.03)},
            backoff=Backoff(first=0.01, maximum=30, reset_after=0.02),
        )
        supervisor.start()
        await _until(
            lambda: (
                supervisor.report()["dispatcher"].restarts >= 3
                and supervisor.report()["dispatcher"].state is WorkerState.RESTARTING
            )
        )
        report = supervisor.report()["dispatcher"]
        assert report.next_attempt_at is not None
        assert report.last_error is not None
        # the fourth failure in a row, yet the first delay (without the reset: 0.08 s)
        assert (report.next_attempt_at - report.last_error.at).total_seconds() == pytest.approx(
            0.01
        )
        await supervisor.stop()

    _run(scenario)
