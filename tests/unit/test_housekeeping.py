"""Housekeeping jobs run on their intervals; a failing job is raised after the others ran."""

from __future__ import annotations

import asyncio

import pytest

from textopt.housekeeping import Housekeeper, Job, JobFailed


def test_every_job_runs_at_start_then_each_on_its_own_interval() -> None:
    runs: list[str] = []
    keeper = Housekeeper(
        [
            Job("often", 0.01, lambda: runs.append("often")),
            Job("rare", 60, lambda: runs.append("rare")),
        ]
    )

    async def scenario() -> None:
        task = asyncio.ensure_future(keeper.run())
        await asyncio.sleep(0.2)
        keeper.stop()
        await task

    asyncio.run(scenario())
    assert runs[:2] == ["often", "rare"]
    assert runs.count("rare") == 1
    assert runs.count("often") >= 3


def test_a_failing_job_does_not_keep_the_next_from_running_and_is_raised_by_name() -> None:
    runs: list[str] = []

    def broken() -> None:
        runs.append("broken")
        raise ValueError("no such table")

    keeper = Housekeeper([Job("broken", 1, broken), Job("next", 1, lambda: runs.append("next"))])
    with pytest.raises(JobFailed, match="'broken' failed: ValueError: no such table") as caught:
        asyncio.run(keeper.run())
    assert runs == ["broken", "next"]
    assert caught.value.job == "broken"
    assert isinstance(caught.value.__cause__, ValueError)


def test_run_all_runs_every_job_at_once_whatever_its_interval() -> None:
    runs: list[str] = []
    keeper = Housekeeper(
        [Job("a", 3600, lambda: runs.append("a")), Job("b", 3600, lambda: runs.append("b"))]
    )

    async def twice() -> None:
        await keeper.run_all()
        await keeper.run_all()

    asyncio.run(twice())
    assert runs == ["a", "b", "a", "b"]


def test_jobs_run_through_the_runner_given() -> None:
    through: list[str] = []

    async def runner(work: object) -> object:
        through.append("runner")
        assert callable(work)
        return work()

    keeper = Housekeeper([Job("a", 1, lambda: None)], runner=runner)
    asyncio.run(keeper.run_all())
    assert through == ["runner"]


def test_two_jobs_of_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="named twice: a"):
        Housekeeper([Job("a", 1, lambda: None), Job("a", 2, lambda: None)])


def test_a_job_needs_a_name_and_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="needs a name"):
        Job("", 1, lambda: None)
    with pytest.raises(ValueError, match="'sweep': interval must be > 0"):
        Job("sweep", 0, lambda: None)
