"""The dispatcher: asyncio workers that claim, send and record, one provider account each.

Database work is synchronous SQLAlchemy run in the dispatcher's database thread, in turn
(`DatabaseThread`); providers are asyncio. A run is a set of supervised tasks
(`textopt.supervisor`), each restarted with backoff when it dies and reported on `/health`:

- `dispatcher/<account>/<n>`: a worker loop that claims a batch within the account's rate
  (tokens in segments, shared through the database), submits it and records the answers;
- `dispatcher/inbound`: the MOs the providers handed over are applied from the stored rows
  (`dispatch.from_network`);
- `dispatcher/housekeeping`: the jobs passed in (default `dispatch.housekeeping`: due
  campaigns, stale `sending` recovery, early receipts, no-receipt endings, completion).

With `once` (the CLI's one-off run, the tests) the worker loops run until none finds
anything due, unsupervised: the first error ends the run. Every housekeeping job runs before
the first claim and whenever a worker finds nothing due, so that the run ends with its
campaigns completed; the MO applier and the periodic housekeeping stay supervised.

The worker loop itself, a pipeline of claims, submissions and recordings, is
`dispatch.account_worker`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.base import utcnow
from textopt.dispatch.account_worker import AccountWorker, ProgressCallback
from textopt.dispatch.db_thread import DatabaseThread, database_threads
from textopt.dispatch.failover import OutageTracker
from textopt.dispatch.feedback import feedback_rules
from textopt.dispatch.from_network import InboundApplier, NetworkSink
from textopt.dispatch.housekeeping import dispatch_jobs
from textopt.dispatch.stats import DispatchStats
from textopt.eligibility import workspace_policy
from textopt.errors import ConfigError
from textopt.housekeeping import Housekeeper, Job
from textopt.metrics import DispatchMetrics, Metrics
from textopt.providers.base import Provider, build_provider
from textopt.supervisor import Backoff, Supervisor, WorkerFactory, WorkerReport
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["DispatchStats", "Dispatcher", "run_dispatch"]


class Dispatcher:
    """Workers for every configured provider account, sharing one receipt sink."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        workers: int = 1,
        providers: Mapping[str, Provider] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        poll_interval: float = 0.2,
        housekeeping: Sequence[Job] | None = None,
        restart_backoff: Backoff | None = None,
        metrics: DispatchMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.workers = max(workers, 1)
        self.clock = clock
        self.poll_interval = poll_interval
        self.stats = DispatchStats()
        # the process's counters: they outlive this dispatcher when a supervisor replaces it
        self.metrics = metrics if metrics is not None else DispatchMetrics()
        self.workspace = workspace_policy(settings)
        # the secret key (it may be read from a key file) once, for every claim and receipt
        self.digest = address_digester(settings.resolved_secret_key())
        self.feedback = feedback_rules(settings, digest=self.digest)
        self.database = DatabaseThread(
            database_threads(
                engine.dialect.name,
                configured=settings.dispatch_database_threads,
                workers=self.workers,
            )
        )
        self.jobs: Sequence[Job] = (
            housekeeping
            if housekeeping is not None
            else dispatch_jobs(
                engine,
                settings,
                clock=clock,
                feedback=self.feedback,
                on_recovered=self._recovered,
            )
        )
        self.restart_backoff = restart_backoff
        self._providers = dict(providers or {})
        self.stop_requested = asyncio.Event()
        self.only_ids: Collection[int] | None = None
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.busy = 0  # workers between a claim and its recorded results
        self._tasks: Supervisor | None = None
        self.outages = OutageTracker(
            after_errors=settings.failover_after_errors,
            cooldown=dt.timedelta(seconds=settings.failover_cooldown_seconds),
        )

    def _recovered(self, unknown: int, requeued: int) -> None:
        self.stats.recovered_unknown += unknown
        self.stats.recovered_requeued += requeued
        self.metrics.recovered(unknown=unknown, requeued=requeued)

    def provider(self, name: str) -> Provider:
        """The provider of account `name`, built from the settings the first time."""
        if name not in self._providers:
            options = self.settings.providers.get(name)
            if options is None:
                raise ConfigError(
                    f"provider account {name!r} is not configured "
                    f"(known: {', '.join(sorted(self.settings.providers))})"
                )
            # an account that stores state (SMPP multipart parts) uses this database
            # unless it names its own
            options = {"database_url": self.settings.database_url, **options}
            self._providers[name] = build_provider(name, options)
        return self._providers[name]

    def stop(self) -> None:
        """Ask every worker to finish its batch and return."""
        self.stop_requested.set()

    def report(self) -> dict[str, WorkerReport]:
        """Each of its supervised tasks' state while it runs (none otherwise)."""
        tasks = self._tasks
        return tasks.report() if tasks is not None else {}

    def accounts(self) -> list[str]:
        """The configured provider accounts, each served by its worker loops."""
        return sorted(self.settings.providers)

    def _account_workers(
        self,
        accounts: Sequence[str],
        *,
        once: bool,
        progress: ProgressCallback | None,
        drain: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, WorkerFactory]:
        """A factory per worker loop, named `dispatcher/<account>/<n>`."""

        def factory(account: str, index: int) -> WorkerFactory:
            return lambda: AccountWorker(
                self, account, index, once=once, progress=progress, drain=drain
            )

        return {
            f"dispatcher/{account}/{index}": factory(account, index)
            for account in accounts
            for index in range(self.workers)
        }

    async def run(
        self,
        *,
        once: bool = False,
        progress: ProgressCallback | None = None,
        only_ids: Collection[int] | None = None,
    ) -> DispatchStats:
        """Run until stopped; with `once`, until nothing is due and receipts have arrived.

        `only_ids` limits the run to these messages (a one-off send sent at once).
        """
        self.only_ids = only_ids
        accounts = self.accounts()
        sink = NetworkSink(
            self.engine,
            self.settings,
            database=self.database,
            stats=self.stats,
            metrics=self.metrics,
            clock=self.clock,
            feedback=self.feedback,
        )
        started: list[str] = []
        try:
            for name in accounts:
                await self.provider(name).start(sink.store)
                started.append(name)
            if once:
                await self._run_once(accounts, sink, progress)
            else:
                await self._run_supervised(accounts, sink, progress)
        finally:
            for name in started:
                await self.provider(name).stop()
            await sink.apply_at_stop()
            self.database.close()
        return self.stats

    def _side_tasks(self, sink: NetworkSink) -> dict[str, WorkerFactory]:
        return {
            "dispatcher/inbound": lambda: InboundApplier(sink),
            "dispatcher/housekeeping": lambda: Housekeeper(self.jobs, runner=self.database.run),
        }

    async def _run_supervised(
        self, accounts: Sequence[str], sink: NetworkSink, progress: ProgressCallback | None
    ) -> None:
        """Every task under a supervisor until `stop()`: one that dies starts again."""
        tasks = self._account_workers(accounts, once=False, progress=progress)
        supervisor = Supervisor(tasks | self._side_tasks(sink), backoff=self.restart_backoff)
        self._tasks = supervisor
        supervisor.start()
        try:
            await self.stop_requested.wait()
        finally:
            await supervisor.stop()
            self._tasks = None

    async def _run_once(
        self, accounts: Sequence[str], sink: NetworkSink, progress: ProgressCallback | None
    ) -> None:
        """The workers until none finds anything due, the side tasks supervised meanwhile.

        A worker's error stops the others and is raised (the run is a one-off: it fails
        rather than starts again). Every housekeeping job runs before the first claim and
        again whenever a worker finds nothing to send, so that the run ends with its
        campaigns started, recovered and completed as far as they can be.
        """
        drain = Housekeeper(self.jobs, runner=self.database.run)
        await drain.run_all()
        workers = [
            factory()
            for factory in self._account_workers(
                accounts, once=True, progress=progress, drain=drain.run_all
            ).values()
        ]
        side = Supervisor(self._side_tasks(sink), backoff=self.restart_backoff)
        self._tasks = side
        side.start()
        loops = [asyncio.ensure_future(worker.run()) for worker in workers]
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for loop in done:
                loop.result()  # raises the first error
        finally:
            for worker in workers:
                worker.stop()
            await asyncio.gather(*loops, return_exceptions=True)
            await side.stop()
            self._tasks = None


def run_dispatch(
    engine: Engine,
    settings: Settings,
    *,
    workers: int = 1,
    once: bool = False,
    progress: ProgressCallback | None = None,
    providers: Mapping[str, Any] | None = None,
    only_ids: Collection[int] | None = None,
    webhooks: bool = False,
    metrics: Metrics | None = None,
) -> DispatchStats:
    """Run the dispatcher in a fresh event loop (the CLI's entry point).

    With `webhooks`, the webhook delivery loop runs beside it (after it, with `once`);
    `metrics` counts what it does and reports its tasks.
    """
    dispatcher = Dispatcher(
        engine,
        settings,
        workers=workers,
        providers=providers,
        metrics=metrics.dispatch if metrics is not None else None,
    )
    if metrics is not None:
        metrics.workers.watch(dispatcher.report)

    async def main() -> DispatchStats:
        if not webhooks:
            return await dispatcher.run(once=once, progress=progress, only_ids=only_ids)
        if once:
            deliverer = WebhookDeliverer(engine, settings)
            stats = await dispatcher.run(once=True, progress=progress, only_ids=only_ids)
            await deliverer.run(once=True)
            return stats
        # supervised: a delivery loop that dies is logged and started again, not lost
        side = Supervisor({"webhooks": lambda: WebhookDeliverer(engine, settings)})
        if metrics is not None:
            metrics.workers.watch(side.report)
        side.start()
        try:
            return await dispatcher.run(progress=progress, only_ids=only_ids)
        finally:
            await side.stop()

    return asyncio.run(main())
