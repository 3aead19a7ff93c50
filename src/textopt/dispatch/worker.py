"""The dispatcher: asyncio workers that claim, send and record, one provider account each.

Database work is synchronous SQLAlchemy run in one thread of the dispatcher's own, in turn
(SQLite takes one writer at a time; a second thread would only wait for the lock); providers
are asyncio. A worker loop: recover stale leases and start due campaigns, claim a batch
within the account's rate (tokens in segments, shared through the database), submit it,
record the answers, and record receipts as they arrive, in bulk.

The loop is a pipeline while all goes well: as a batch goes on the wire, the next one is
claimed and the previous one's answers recorded in the database thread, so the database
work overlaps the wire instead of alternating with it. After any answer but an acceptance
(throttling, errors, a lost link), the worker goes back to one step at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine

from textopt.campaigns.facts import workspace_policy
from textopt.campaigns.lifecycle import complete_finished_campaigns, start_due_campaigns
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch import service
from textopt.dispatch.bounces import record_email_bounces
from textopt.dispatch.claim import ClaimReport, claim_batch, due_count
from textopt.dispatch.failover import OutageTracker, move_due_messages
from textopt.errors import ConfigError
from textopt.inbound.service import record_sms
from textopt.providers.base import Provider, Receipt, SubmitOutcome, SubmitResult, build_provider
from textopt.providers.mo import InboundSms
from textopt.vocab import Channel
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["DispatchStats", "Dispatcher", "run_dispatch"]


@dataclass(slots=True)
class DispatchStats:
    """Running totals of one dispatcher run."""

    submitted: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    blocked: int = 0
    deferred: int = 0
    receipts: int = 0
    recovered_unknown: int = 0
    recovered_requeued: int = 0
    throttled: int = 0
    failed_over: int = 0  # due messages moved to a fallback account during an outage
    by_provider: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[DispatchStats], None]
_T = TypeVar("_T")


class Dispatcher:
    """Workers for every configured provider account, sharing one receipt queue."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        workers: int = 1,
        providers: Mapping[str, Provider] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        poll_interval: float = 0.2,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.workers = max(workers, 1)
        self.clock = clock
        self.poll_interval = poll_interval
        self.stats = DispatchStats()
        self.workspace = workspace_policy(settings)
        self._providers = dict(providers or {})
        self._receipts: list[Receipt] = []
        self._inbound: list[InboundSms] = []
        self._stop = asyncio.Event()
        self._only_ids: Collection[int] | None = None
        self._identity = f"{socket.gethostname()}:{os.getpid()}"
        self._busy = 0  # workers between a claim and its recorded results
        self._executor: ThreadPoolExecutor | None = None
        self.outages = OutageTracker(
            after_errors=settings.failover_after_errors,
            cooldown=dt.timedelta(seconds=settings.failover_cooldown_seconds),
        )

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

    async def _db(self, work: Callable[[], _T]) -> _T:
        """Run database work in the dispatcher's database thread (one job at a time)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="textopt-dispatch-db")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def stop(self) -> None:
        """Ask every worker to finish its batch and return."""
        self._stop.set()

    def _on_receipt(self, item: Receipt | InboundSms) -> None:
        if isinstance(item, InboundSms):
            self._inbound.append(item)
        else:
            self._receipts.append(item)

    async def _flush_inbound(self) -> None:
        """Store the messages people sent (STOP, START, HELP, OUI...) and apply them."""
        if not self._inbound:
            return
        batch, self._inbound = self._inbound, []

        def record() -> None:
            for sms in batch:  # each in its own transaction: one bad message loses no other
                with session_scope(self.engine) as session:
                    record_sms(session, sms=sms, settings=self.settings, now=self.clock())

        await self._db(record)

    async def _flush_receipts(self) -> None:
        await self._flush_inbound()
        if not self._receipts:
            return
        batch, self._receipts = self._receipts, []

        def record() -> int:
            with session_scope(self.engine) as session:
                return service.record_receipts(session, receipts=batch, now=self.clock())

        self.stats.receipts += await self._db(record)

    async def _housekeeping(self) -> None:
        def work() -> tuple[int, int]:
            now = self.clock()
            with session_scope(self.engine) as session:
                start_due_campaigns(session, now=now)
                recovered = service.recover_stale(session, now=now)
                service.resolve_orphan_receipts(session, now=now)
                complete_finished_campaigns(session, now=now)
            return recovered

        unknown, requeued = await self._db(work)
        self.stats.recovered_unknown += unknown
        self.stats.recovered_requeued += requeued

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
    ) -> Callable[[], service.ResultReport]:
        name = provider.name

        def record() -> service.ResultReport:
            with session_scope(self.engine) as session:
                report = service.record_results(
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
                return report

        return record

    def _count(self, name: str, claimed: ClaimReport) -> None:
        self.stats.blocked += claimed.blocked + claimed.expired
        self.stats.deferred += claimed.deferred

    async def _recorded(
        self,
        name: str,
        recording: asyncio.Future[service.ResultReport],
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
        await self._flush_receipts()
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
        await self._recorded(name, asyncio.ensure_future(self._db(job)), progress)

    async def _work(
        self, name: str, worker: str, progress: ProgressCallback | None, *, keeper: bool
    ) -> int:
        """Claim, send and record batches while there are some; returns how many were sent.

        While every answer is an acceptance, up to `dispatch_batches_in_flight` claimed
        batches are handed to a pipelined provider at once (its window never drains between
        two), and the next claim and the last recording run in the database thread meanwhile.
        After any other answer, the batches already handed over are answered and recorded,
        and the worker starts again one batch at a time. The `keeper` worker does the
        housekeeping between batches, at most once a second.
        """
        provider = self._provider(name)
        rate = float(self.settings.providers.get(name, {}).get("rate", provider.rate))
        claim = self._claim_job(name, worker, rate)
        # only a provider whose batches share one window gains from several at once (SMPP);
        # others would open a connection per batch
        pipelined = getattr(provider, "pipelined", False)
        depth = self.settings.dispatch_batches_in_flight if pipelined else 1
        sent = 0
        kept = time.monotonic()
        more = True  # the last claim took its whole budget: more may be due
        ahead: asyncio.Future[ClaimReport] | None = None
        flying: deque[asyncio.Future[list[SubmitResult]]] = deque()
        recording: asyncio.Future[service.ResultReport] | None = None
        try:
            while True:
                while more and len(flying) < depth:
                    if ahead is None:
                        if self._stop.is_set():
                            more = False
                            break
                        if self.outages.in_outage(name, now=self.clock()):
                            await self._fail_over(name)
                        claimed = await self._db(claim)
                    else:
                        claimed, ahead = await ahead, None
                    self._count(name, claimed)
                    if not claimed.sending:
                        more = False
                        break
                    # claimed, so sent, even when asked to stop: leases must not run out
                    flying.append(asyncio.ensure_future(provider.submit(claimed.sending)))
                    sent += len(claimed.sending)
                    more = claimed.tokens_left == 0
                    if more and not self._stop.is_set():
                        ahead = asyncio.ensure_future(self._db(claim))  # while it is out
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
                    self._db(self._record_job(provider, worker, results))
                )
                if self.outages.observe(name, results, now=self.clock()):
                    await self._fail_over(name)
                if not all(r.outcome == SubmitOutcome.ACCEPTED for r in results):
                    # the slow way: what is claimed is sent and recorded, one batch at a time
                    more = False
                    last, recording = recording, None
                    await self._recorded(name, last, progress)
                    if ahead is not None:
                        claimed, ahead = await ahead, None
                        self._count(name, claimed)
                        if claimed.sending:
                            flying.append(asyncio.ensure_future(provider.submit(claimed.sending)))
                            sent += len(claimed.sending)
                    while flying:
                        results = await asyncio.shield(flying[0])
                        flying.popleft()
                        await self._record_now(name, provider, worker, results, progress)
                    return sent
                if keeper and time.monotonic() - kept > 1.0:
                    await self._housekeeping()
                    kept = time.monotonic()
        finally:
            # cancelled or failed mid-batch: the database work still ends, and what the
            # provider answered is recorded (the rest waits for lease recovery)
            if ahead is not None:
                await asyncio.gather(ahead, return_exceptions=True)
            answered = await asyncio.gather(*flying, return_exceptions=True)
            if recording is not None:
                await self._recorded(name, recording, progress)
            for answer in answered:
                if isinstance(answer, list):
                    await self._record_now(name, provider, worker, answer, progress)

    async def _fail_over(self, name: str) -> None:
        """Move the due messages of an account in outage to their fallback accounts."""

        def work() -> int:
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
            return sum(report.moved.values())

        self.stats.failed_over += await self._db(work)

    def _accounts(self) -> list[str]:
        return sorted(self.settings.providers)

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
        for name in accounts:
            await self._provider(name).start(self._on_receipt)
        try:
            tasks = [
                asyncio.create_task(self._worker_loop(name, index, once, progress))
                for name in accounts
                for index in range(self.workers)
            ]
            await asyncio.gather(*tasks)
        finally:
            for name in accounts:
                await self._provider(name).stop()
            await self._flush_receipts()
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
        return self.stats

    async def _worker_loop(
        self, name: str, index: int, once: bool, progress: ProgressCallback | None
    ) -> None:
        worker = f"{self._identity}/{name}/{index}"
        idle_rounds = 0
        while not self._stop.is_set():
            if index == 0:
                await self._housekeeping()
            self._busy += 1
            try:
                sent = await self._work(name, worker, progress, keeper=index == 0)
            finally:
                self._busy -= 1
            if sent:
                idle_rounds = 0
                continue
            await self._flush_receipts()
            if once:
                due = await self._db(lambda: self._due_now(name))
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
        deliverer = WebhookDeliverer(engine, settings)
        if once:
            stats = await dispatcher.run(once=True, progress=progress, only_ids=only_ids)
            await deliverer.run(once=True)
            return stats
        task = asyncio.create_task(deliverer.run())
        try:
            return await dispatcher.run(progress=progress, only_ids=only_ids)
        finally:
            deliverer.stop()
            await task

    return asyncio.run(main())
