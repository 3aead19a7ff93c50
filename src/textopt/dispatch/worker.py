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

The worker loop is a pipeline while all goes well: as a batch goes on the wire, the next one
is claimed and the previous one's answers recorded in the database thread, so the database
work overlaps the wire instead of alternating with it. After any answer but an acceptance
(throttling, errors, a lost link), the worker goes back to one step at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from textopt.campaigns.facts import workspace_policy
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch.answers import ResultReport, record_results
from textopt.dispatch.bounces import record_email_bounces
from textopt.dispatch.claim import ClaimReport, claim_batch, due_count
from textopt.dispatch.db_thread import DatabaseThread
from textopt.dispatch.failover import OutageTracker, move_due_messages
from textopt.dispatch.feedback import record_submit_feedback
from textopt.dispatch.from_network import InboundApplier, NetworkSink
from textopt.dispatch.housekeeping import dispatch_jobs
from textopt.dispatch.recovery import release_unsent
from textopt.dispatch.stats import DispatchStats
from textopt.errors import ConfigError
from textopt.housekeeping import Housekeeper, Job
from textopt.logs import log_event
from textopt.providers.base import Provider, SubmitOutcome, SubmitResult, build_provider
from textopt.supervisor import Backoff, Supervisor, WorkerFactory, WorkerReport
from textopt.vocab import Channel
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["DispatchStats", "Dispatcher", "run_dispatch"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[DispatchStats], None]


class _AccountWorker:
    """One worker loop of one provider account (a supervised task of the dispatcher)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        account: str,
        index: int,
        *,
        once: bool,
        progress: ProgressCallback | None,
        drain: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.account = account
        self.index = index
        self.once = once
        self.progress = progress
        self.drain = drain
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the batches under way and return."""
        self.stopping.set()

    async def run(self) -> None:
        """Claim, send and record until stopped (with `once`, until nothing is due)."""
        await self.dispatcher._worker_loop(self)


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
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.workers = max(workers, 1)
        self.clock = clock
        self.poll_interval = poll_interval
        self.stats = DispatchStats()
        self.workspace = workspace_policy(settings)
        self.database = DatabaseThread()
        self.jobs: Sequence[Job] = (
            housekeeping
            if housekeeping is not None
            else dispatch_jobs(engine, settings, clock=clock, on_recovered=self._recovered)
        )
        self.restart_backoff = restart_backoff
        self._providers = dict(providers or {})
        self._stop = asyncio.Event()
        self._only_ids: Collection[int] | None = None
        self._identity = f"{socket.gethostname()}:{os.getpid()}"
        self._busy = 0  # workers between a claim and its recorded results
        self._tasks: Supervisor | None = None
        self.outages = OutageTracker(
            after_errors=settings.failover_after_errors,
            cooldown=dt.timedelta(seconds=settings.failover_cooldown_seconds),
        )

    def _recovered(self, unknown: int, requeued: int) -> None:
        self.stats.recovered_unknown += unknown
        self.stats.recovered_requeued += requeued

    def _provider(self, name: str) -> Provider:
        if name not in self._providers:
            options = self.settings.providers.get(name)
            if options is None:
                raise ConfigError(
                    f"provider account {name!r} is not configured "
                    f"(known: {', '.join(sorted(self.settings.providers))})"
                )
            self._providers[name] = build_provider(name, options)
        return self._providers[name]

    def stop(self) -> None:
        """Ask every worker to finish its batch and return."""
        self._stop.set()

    def report(self) -> dict[str, WorkerReport]:
        """Each of its supervised tasks' state while it runs (none otherwise)."""
        tasks = self._tasks
        return tasks.report() if tasks is not None else {}

    def _claim_job(self, name: str, worker: str, rate: float) -> Callable[[], ClaimReport]:
        def claim() -> ClaimReport:
            with session_scope(self.engine) as session:
                return claim_batch(
                    session,
                    worker=worker,
                    provider=name,
                    rate=rate,
                    now=self.clock(),
                    limit=self.settings.dispatch_batch_size,
                    lease=dt.timedelta(seconds=self.settings.dispatch_lease_seconds),
                    workspace=self.workspace,
                    only_ids=self._only_ids,
                )

        return claim

    def _record_job(
        self, provider: Provider, worker: str, results: list[SubmitResult]
    ) -> Callable[[], ResultReport]:
        name = provider.name

        def record() -> ResultReport:
            with session_scope(self.engine) as session:
                report = record_results(
                    session,
                    worker=worker,
                    provider=name,
                    results=results,
                    now=self.clock(),
                    max_attempts=self.settings.dispatch_max_attempts,
                )
                if provider.channel == Channel.EMAIL:
                    record_email_bounces(
                        session,
                        results=results,
                        limit=self.settings.email_bounce_limit,
                        now=self.clock(),
                    )
                else:
                    record_submit_feedback(
                        session,
                        provider=name,
                        results=results,
                        settings=self.settings,
                        now=self.clock(),
                    )
                return report

        return record

    def _count(self, name: str, worker: str, claimed: ClaimReport) -> None:
        self.stats.blocked += claimed.blocked + claimed.expired
        self.stats.deferred += claimed.deferred
        busy = claimed.sending or claimed.blocked or claimed.expired or claimed.deferred
        log_event(
            log,
            logging.INFO if busy else logging.DEBUG,  # an idle poll is not news
            "claimed",
            account=name,
            worker=worker,
            count=len(claimed.sending),
            deferred=claimed.deferred,
            blocked=claimed.blocked,
            expired=claimed.expired,
        )

    async def _recorded(
        self,
        name: str,
        recording: asyncio.Future[ResultReport],
        progress: ProgressCallback | None,
    ) -> None:
        """Count a batch's recorded answers; slow down if the provider asked."""
        report = await asyncio.shield(recording)  # a cancelled worker's recording still ends
        self.stats.submitted += report.submitted
        self.stats.retried += report.retried
        self.stats.failed += report.failed
        self.stats.expired += report.expired
        self.stats.throttled += report.throttled
        self.stats.by_provider[name] = self.stats.by_provider.get(name, 0) + report.submitted
        log_event(
            log,
            logging.INFO,
            "submitted",
            account=name,
            submitted=report.submitted,
            retried=report.retried,
            failed=report.failed,
            expired=report.expired,
            throttled=report.throttled,
            unknown=report.unknown,
            late=report.late,
        )
        if progress is not None:
            progress(self.stats)
        if report.throttled:
            await asyncio.sleep(min(1.0, 0.1 * report.throttled))  # the provider asked

    async def _record_now(
        self,
        name: str,
        provider: Provider,
        worker: str,
        results: list[SubmitResult],
        progress: ProgressCallback | None,
    ) -> None:
        """Record one batch's answers and wait for it (the slow way, and when stopping)."""
        job = self._record_job(provider, worker, results)
        await self._recorded(name, asyncio.ensure_future(self.database.run(job)), progress)

    async def _work(
        self,
        name: str,
        worker: str,
        progress: ProgressCallback | None,
        stopped: Callable[[], bool],
    ) -> int:
        """Claim, send and record batches while there are some; returns how many were sent.

        While every answer is an acceptance, up to `dispatch_batches_in_flight` claimed
        batches are handed to a pipelined provider at once (its window never drains between
        two), and the next claim and the last recording run in the database thread meanwhile.
        After any other answer, the batches already handed over are answered and recorded,
        and the worker starts again one batch at a time.
        """
        provider = self._provider(name)
        rate = float(self.settings.providers.get(name, {}).get("rate", provider.rate))
        claim = self._claim_job(name, worker, rate)
        depth = self.settings.dispatch_batches_in_flight if provider.pipelined else 1
        sent = 0
        more = True  # the last claim took its whole budget: more may be due
        ahead: asyncio.Future[ClaimReport] | None = None
        flying: deque[asyncio.Future[list[SubmitResult]]] = deque()
        recording: asyncio.Future[ResultReport] | None = None
        try:
            while True:
                while more and len(flying) < depth:
                    if ahead is None:
                        if stopped():
                            more = False
                            break
                        if self.outages.in_outage(name, now=self.clock()):
                            await self._fail_over(name)
                        claimed = await self.database.run(claim)
                    else:
                        claimed, ahead = await ahead, None
                    self._count(name, worker, claimed)
                    if not claimed.sending:
                        more = False
                        break
                    # claimed, so sent, even when asked to stop: leases must not run out
                    flying.append(asyncio.ensure_future(provider.submit(claimed.sending)))
                    sent += len(claimed.sending)
                    more = claimed.tokens_left == 0
                    if more and not stopped():
                        ahead = asyncio.ensure_future(self.database.run(claim))  # while it is out
                if not flying:
                    return sent
                # shielded, and left in `flying` until its recording starts: a worker
                # cancelled meanwhile still takes the batch's answers and records them on
                # the way out (`finally`). Starting it only after the previous one is counted
                # measured faster than starting it at once.
                results = await asyncio.shield(flying[0])
                if recording is not None:
                    last, recording = recording, None
                    await self._recorded(name, last, progress)
                flying.popleft()
                recording = asyncio.ensure_future(
                    self.database.run(self._record_job(provider, worker, results))
                )
                if self.outages.observe(name, results, now=self.clock()):
                    log_event(log, logging.WARNING, "provider outage", account=name)
                    await self._fail_over(name)
                if not all(r.outcome == SubmitOutcome.ACCEPTED for r in results):
                    # the slow way: what is claimed is sent and recorded, one batch at a time
                    more = False
                    last, recording = recording, None
                    await self._recorded(name, last, progress)
                    if ahead is not None:
                        claimed, ahead = await ahead, None
                        self._count(name, worker, claimed)
                        if claimed.sending:
                            flying.append(asyncio.ensure_future(provider.submit(claimed.sending)))
                            sent += len(claimed.sending)
                    while flying:
                        results = await asyncio.shield(flying[0])
                        flying.popleft()
                        await self._record_now(name, provider, worker, results, progress)
                    return sent
        finally:
            # cancelled or failed mid-batch: the database work still ends, and what the
            # provider answered is recorded (the rest waits for lease recovery); a batch
            # claimed ahead was never handed over: it goes back to the queue
            if ahead is not None:
                (unsent,) = await asyncio.gather(ahead, return_exceptions=True)
                if isinstance(unsent, ClaimReport) and unsent.sending:
                    await self._release(name, worker, unsent)
            answered = await asyncio.gather(*flying, return_exceptions=True)
            if recording is not None:
                await self._recorded(name, recording, progress)
            for answer in answered:
                if isinstance(answer, list):
                    await self._record_now(name, provider, worker, answer, progress)

    async def _release(self, name: str, worker: str, claimed: ClaimReport) -> None:
        """Queue again a claimed batch no provider has seen (the worker is failing)."""
        ids = [message.message_id for message in claimed.sending]

        def work() -> list[int]:
            with session_scope(self.engine) as session:
                return release_unsent(session, worker=worker, ids=ids, now=self.clock())

        try:
            released = await self.database.run(work)
        except Exception as exc:  # they wait for their lease to end, as after a crash
            log_event(log, logging.ERROR, "release failed", account=name, exc_info=exc)
            return
        log_event(log, logging.WARNING, "released unsent", account=name, count=len(released))

    async def _fail_over(self, name: str) -> None:
        """Move the due messages of an account in outage to their fallback accounts."""

        def work() -> tuple[dict[str, int], int, int]:
            now = self.clock()
            with session_scope(self.engine) as session:
                report = move_due_messages(
                    session,
                    account=name,
                    providers=self.settings.providers,
                    is_down=lambda account: self.outages.in_outage(account, now=now),
                    now=now,
                    horizon=self.outages.cooldown,
                )
            return report.moved, report.kept_ambiguous, report.no_target

        moved, kept, stranded = await self.database.run(work)
        self.stats.failed_over += sum(moved.values())
        if moved or kept or stranded:
            log_event(
                log,
                logging.WARNING,
                "failed over",
                account=name,
                moved=sum(moved.values()),
                to=",".join(f"{target}:{count}" for target, count in sorted(moved.items())),
                kept_ambiguous=kept,
                no_target=stranded,
            )

    def _accounts(self) -> list[str]:
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
            return lambda: _AccountWorker(
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
        self._only_ids = only_ids
        accounts = self._accounts()
        sink = NetworkSink(
            self.engine, self.settings, database=self.database, stats=self.stats, clock=self.clock
        )
        started: list[str] = []
        try:
            for name in accounts:
                await self._provider(name).start(sink.store)
                started.append(name)
            if once:
                await self._run_once(accounts, sink, progress)
            else:
                await self._run_supervised(accounts, sink, progress)
        finally:
            for name in started:
                await self._provider(name).stop()
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
            await self._stop.wait()
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

    async def _worker_loop(self, worker: _AccountWorker) -> None:
        name, index = worker.account, worker.index
        identity = f"{self._identity}/{name}/{index}"

        def stopped() -> bool:
            return self._stop.is_set() or worker.stopping.is_set()

        idle_rounds = 0
        while not stopped():
            self._busy += 1
            try:
                sent = await self._work(name, identity, worker.progress, stopped)
            finally:
                self._busy -= 1
            if sent:
                idle_rounds = 0
                continue
            if worker.once:
                if worker.drain is not None:
                    await worker.drain()  # the run may end: campaigns completed, and so on
                due = await self.database.run(lambda: self._due_now(name))
                # a busy worker may still hand its messages over to this one (failover)
                if due == 0 and not self._busy:
                    idle_rounds += 1
                    if idle_rounds >= 2:  # one more round for the last receipts
                        return
            await asyncio.sleep(self.poll_interval)

    def _due_now(self, name: str) -> int:
        with session_scope(self.engine) as session:
            # every served account's: a failover may hand this worker another's messages
            return sum(
                due_count(session, provider=account, now=self.clock(), only_ids=self._only_ids)
                for account in self._accounts()
            )


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
) -> DispatchStats:
    """Run the dispatcher in a fresh event loop (the CLI's entry point).

    With `webhooks`, the webhook delivery loop runs beside it (after it, with `once`).
    """
    dispatcher = Dispatcher(engine, settings, workers=workers, providers=providers)

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
        side.start()
        try:
            return await dispatcher.run(progress=progress, only_ids=only_ids)
        finally:
            await side.stop()

    return asyncio.run(main())
