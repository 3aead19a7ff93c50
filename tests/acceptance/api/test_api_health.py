"""`/health` of the app that runs the workers (`textopt serve`): the supervisor's report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import BASE_URL

from textopt.api.app import create_app, side_work
from textopt.config import Settings
from textopt.dispatch.worker import Dispatcher
from textopt.housekeeping import Job
from textopt.supervisor import Backoff, Worker

FAST = Backoff(first=0.02, maximum=0.05)


def _served(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_rate_per_minute": 100_000})


async def _health_until(
    app: FastAPI, done: Callable[[httpx.Response], bool], *, within: float = 20
) -> httpx.Response:
    """Ask /health until `done` says the answer is the one awaited."""
    transport = httpx.ASGITransport(app=app)
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        while True:
            response = await http.get("/health")
            if done(response) or time.monotonic() > deadline:
                return response
            await asyncio.sleep(0.01)


def _restarting_again(response: httpx.Response, worker: str) -> bool:
    """Whether `worker` is waiting to start again after at least one restart."""
    report = response.json()["workers"].get(worker, {})
    return bool(report.get("state") == "restarting" and report.get("restarts", 0) >= 1)


def _state(response: httpx.Response, worker: str) -> str:
    state: str = response.json()["workers"][worker]["state"]
    return state


def test_serve_reports_the_dispatcher_and_webhooks_running(
    engine: Engine, campaign_settings: Settings
) -> None:
    app = create_app(_served(campaign_settings), dispatcher=True, engine=engine)

    async def scenario() -> httpx.Response:
        async with app.router.lifespan_context(app):
            return await _health_until(app, lambda r: r.status_code == 200)

    response = asyncio.run(scenario())
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "workers": {
            "dispatcher": {"state": "running", "restarts": 0},
            # the dispatcher's own tasks, each supervised: here one sandbox account
            "dispatcher/sandbox/0": {"state": "running", "restarts": 0},
            "dispatcher/inbound": {"state": "running", "restarts": 0},
            "dispatcher/housekeeping": {"state": "running", "restarts": 0},
            "webhooks": {"state": "running", "restarts": 0},
            "retention": {"state": "running", "restarts": 0},
        },
    }


def test_health_is_degraded_while_the_dispatcher_restarts_and_ok_once_it_runs_again(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = _served(campaign_settings)
    # A provider account of a kind that does not exist: the dispatcher dies as it starts.
    broken = settings.model_copy(
        update={"providers": {**settings.providers, "broken": {"kind": "no-such-kind"}}}
    )
    repaired: list[bool] = []
    built: list[Dispatcher] = []

    def dispatcher() -> Worker:
        built.append(Dispatcher(engine, settings if repaired else broken, poll_interval=0.05))
        return built[-1]

    app = create_app(
        settings,
        dispatcher=True,
        engine=engine,
        workers={**side_work(engine, settings), "dispatcher": dispatcher},
        restart_backoff=FAST,
    )

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app):
            degraded = await _health_until(app, lambda r: _state(r, "dispatcher") == "restarting")
            repaired.append(True)
            healthy = await _health_until(app, lambda r: r.status_code == 200)
        return degraded, healthy

    degraded, healthy = asyncio.run(scenario())

    assert degraded.status_code == 503
    body = degraded.json()
    assert (body["status"], body["database"]) == ("degraded", "ok")
    assert body["workers"]["webhooks"] == {"state": "running", "restarts": 0}
    dying = body["workers"]["dispatcher"]
    assert dying["state"] == "restarting"
    assert "next_attempt_at" in dying
    assert dying["last_error"]["type"] == "ConfigError"
    assert "unknown kind 'no-such-kind'" in dying["last_error"]["message"]
    assert "Traceback" not in degraded.text

    assert healthy.status_code == 200
    body = healthy.json()
    assert body["status"] == "ok"
    running = body["workers"]["dispatcher"]
    assert running["state"] == "running"
    assert running["restarts"] >= 1
    assert running["restarts"] == len(built) - 1  # a fresh Dispatcher for every attempt
    assert running["last_error"]["type"] == "ConfigError"  # kept for whoever looks later
    assert "next_attempt_at" not in running


def test_health_without_workers_reports_the_database_only(
    engine: Engine, campaign_settings: Settings
) -> None:
    app = create_app(_served(campaign_settings), dispatcher=False, engine=engine)

    async def scenario() -> httpx.Response:
        async with app.router.lifespan_context(app):
            return await _health_until(app, lambda r: True)

    assert asyncio.run(scenario()).json() == {"status": "ok", "database": "ok"}


def test_a_dispatcher_task_that_dies_is_reported_on_its_own_and_restarted(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = _served(campaign_settings)
    runs: list[int] = []

    def sweep() -> None:
        runs.append(1)
        raise RuntimeError("the sweep lost its way")

    def dispatcher() -> Worker:
        return Dispatcher(
            engine,
            settings,
            poll_interval=0.05,
            housekeeping=[Job("sweep", 0.01, sweep)],
            restart_backoff=Backoff(first=0.2, maximum=0.2),  # a wide window to see it
        )

    app = create_app(
        settings,
        dispatcher=True,
        engine=engine,
        workers={**side_work(engine, settings), "dispatcher": dispatcher},
    )

    async def scenario() -> httpx.Response:
        async with app.router.lifespan_context(app):
            return await _health_until(
                app, lambda r: _restarting_again(r, "dispatcher/housekeeping")
            )

    response = asyncio.run(scenario())
    assert response.status_code == 503  # degraded while a task restarts
    body = response.json()
    assert body["status"] == "degraded"
    # the dispatcher itself and its sending loop go on: only the housekeeping restarts
    assert body["workers"]["dispatcher"]["state"] == "running"
    assert body["workers"]["dispatcher/sandbox/0"] == {"state": "running", "restarts": 0}
    task = body["workers"]["dispatcher/housekeeping"]
    assert task["last_error"]["type"] == "JobFailed"
    assert "'sweep'" in task["last_error"]["message"]
    assert "the sweep lost its way" in task["last_error"]["message"]
    assert len(runs) >= 2  # a fresh housekeeper after each death
