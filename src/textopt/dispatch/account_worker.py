"""One worker loop of one provider account: claim, submit, record, as a pipeline.

While all goes well, as a batch goes on the wire the next one is claimed and the previous
one's answers recorded in the dispatcher's database thread, so the database work overlaps
the wire instead of alternating with it. After any answer but an acceptance (throttling,
errors, a lost link), the worker goes back to one step at a time. Each loop is a supervised
task of the `Dispatcher` (`dispatch.worker`), whose shared state it reads: settings, clock,
database thread, totals, outages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textopt.db.engine import session_scope
from textopt.dispatch.answers import ResultReport, record_results
from textopt.dispatch.bounces import record_email_bounces
from textopt.dispatch.claim import ClaimReport, claim_batch, due_count, reserve_tokens
from textopt.dispatch.failover import move_due_messages
from textopt.dispatch.feedback import record_submit_feedback
from textopt.dispatch.recovery import release_unsent
from textopt.dispatch.stats import DispatchStats
from textopt.logs import log_event
from textopt.providers.base import OutboundMessage, Provider, SubmitOutcome, SubmitResult
from textopt.vocab import Channel

if TYPE_CHECKING:
    from textopt.dispatch.worker import Dispatcher

__all__ = ["AccountWorker", "ProgressCallback"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[DispatchStats], None]


class AccountWorker:
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
        self.drain = drain  # with `once`: every housekeeping job, run when nothing is due
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the batches under way and return."""
        self.stopping.set()

    def _stopped(self) -> bool:
        return self.dispatcher.stop_requested.is_set() or self.stopping.is_set()

    async def run(self) -> None:
        """Claim, send and record until stopped (with `once`, until nothing is due)."""
        dispatcher = self.dispatcher
        name = self.account
        identity = f"{dispatcher.identity}/{name}/{self.index}"
        idle_rounds = 0
        while not self._stopped():
            dispatcher.busy += 1
            try:
                sent = await self._work(name, identity, self.progress, self._stopped)
            finally:
                dispatcher.busy -= 1
            if sent:
                idle_rounds = 0
                continue
            if self.once:
                if self.drain is not None:
                    await self.drain()  # the run may end: campaigns completed, and so on
                due = await dispatcher.database.run(lambda: self._due_now(name))
                # a busy worker may still hand its messages over to this one (failover)
                if due == 0 and not dispatcher.busy:
                    idle_rounds += 1
                    if idle_rounds >= 2:  # one more round for the last receipts
                        return
            await asyncio.sleep(dispatcher.poll_interval)

    def _due_now(self, name: str) -> int:
        with session_scope(self.dispatcher.engine) as session:
            # every served account's: a failover may hand this worker another's messages
            return sum(
                due_count(
                    session,
                    provider=account,
                    now=self.dispatcher.clock(),
                    only_ids=self.dispatcher.only_ids,
                )
                for account in self.dispatcher.accounts()
            )

    def _claim_job(self, name: str, worker: str, rate: float) -> Callable[[], ClaimReport]:
        dispatcher = self.dispatcher
        limit = dispatcher.settings.dispatch_batch_size
        # On PostgreSQL the tokens are taken in a transaction of their own: the bucket's row
        # stays locked until its transaction ends, and held through the claim it would make
        # every claim of the account, in every thread and process, wait for the one before.
        # (A claim that fails after it loses at most one second of the account's rate.)
        apart = dispatcher.engine.dialect.name == "postgresql"

        def claim() -> ClaimReport:
            now = dispatcher.clock()
            reserved = None
            if apart:
                with session_scope(dispatcher.engine) as session:
                    reserved = reserve_tokens(
                        session, account=name, rate=rate, wanted=limit, now=now
                    )
                if reserved <= 0:
                    return ClaimReport()
            with session_scope(dispatcher.engine) as session:
                return claim_batch(
                    session,
                    worker=worker,
                    provider=name,
                    rate=rate,
                    now=now,
                    limit=limit,
                    lease=dt.timedelta(seconds=dispatcher.settings.dispatch_lease_seconds),
                    workspace=dispatcher.workspace,
                    digest=dispatcher.digest,
                    only_ids=dispatcher.only_ids,
                    reserved=reserved,
                )

        return claim

    def _record_job(
        self, provider: Provider, worker: str, results: list[SubmitResult]
    ) -> Callable[[], ResultReport]:
        name = provider.name

        def record() -> ResultReport:
            with session_scope(self.dispatcher.engine) as session:
                report = record_results(
                    session,
                    worker=worker,
                    provider=name,
                    results=results,
                    now=self.dispatcher.clock(),
                    max_attempts=self.dispatcher.settings.dispatch_max_attempts,
                    feedback=self.dispatcher.feedback,
                )
                if provider.channel == Channel.EMAIL:
                    record_email_bounces(
                        session,
                        results=results,
                        limit=self.dispatcher.settings.email_bounce_limit,
                        now=self.dispatcher.clock(),
                    )
                else:
                    record_submit_feedback(
                        session,
                        provider=name,
                        results=results,
                        rules=self.dispatcher.feedback,
                        now=self.dispatcher.clock(),
                    )
                return report

        return record

    def _count(self, name: str, worker: str, claimed: ClaimReport) -> None:
        self.dispatcher.stats.blocked += claimed.blocked + claimed.expired
        self.dispatcher.stats.deferred += claimed.deferred
        self.dispatcher.metrics.claimed(
            name,
            sending=len(claimed.sending),
            blocked=claimed.blocked,
            expired=claimed.expired,
            deferred=claimed.deferred,
        )
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
        stats = self.dispatcher.stats
        stats.submitted += report.submitted
        stats.retried += report.retried
        stats.failed += report.failed
        stats.expired += report.expired
        stats.throttled += report.throttled
        stats.by_provider[name] = stats.by_provider.get(name, 0) + report.submitted
        self.dispatcher.metrics.answered(
            name,
            {
                "submitted": report.submitted,
                "retried": report.retried,
                "failed": report.failed,
                "expired": report.expired,
                "unknown": report.unknown,
            },
            throttled=report.throttled,
        )
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
            progress(self.dispatcher.stats)
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
        await self._recorded(
            name, asyncio.ensure_future(self.dispatcher.database.run(job)), progress
        )

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
        provider = self.dispatcher.provider(name)
        rate = float(self.dispatcher.settings.providers.get(name, {}).get("rate", provider.rate))
        claim = self._claim_job(name, worker, rate)
        depth = self.dispatcher.settings.dispatch_batches_in_flight if provider.pipelined else 1
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
                        if self.dispatcher.outages.in_outage(name, now=self.dispatcher.clock()):
                            await self._fail_over(name)
                        claimed = await self.dispatcher.database.run(claim)
                    else:
                        claimed, ahead = await ahead, None
                    self._count(name, worker, claimed)
                    if not claimed.sending:
                        more = False
                        break
                    # claimed, so sent, even when asked to stop: leases must not run out
                    flying.append(asyncio.ensure_future(self._submit(provider, claimed.sending)))
                    sent += len(claimed.sending)
                    more = claimed.tokens_left == 0
                    if more and not stopped():
                        # the next claim, while this batch is out
                        ahead = asyncio.ensure_future(self.dispatcher.database.run(claim))
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
                    self.dispatcher.database.run(self._record_job(provider, worker, results))
                )
                if self.dispatcher.outages.observe(name, results, now=self.dispatcher.clock()):
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
                            flying.append(
                                asyncio.ensure_future(self._submit(provider, claimed.sending))
                            )
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

    async def _submit(self, provider: Provider, batch: list[OutboundMessage]) -> list[SubmitResult]:
        """Hand a batch to the provider, timing its answer (the submit latency metric)."""
        started = time.perf_counter()
        try:
            return await provider.submit(batch)
        finally:
            self.dispatcher.metrics.submit_took(provider.name, time.perf_counter() - started)

    async def _release(self, name: str, worker: str, claimed: ClaimReport) -> None:
        """Queue again a claimed batch no provider has seen (the worker is failing)."""
        ids = [message.message_id for message in claimed.sending]

        def work() -> list[int]:
            with session_scope(self.dispatcher.engine) as session:
                return release_unsent(session, worker=worker, ids=ids, now=self.dispatcher.clock())

        try:
            released = await self.dispatcher.database.run(work)
        except Exception as exc:  # they wait for their lease to end, as after a crash
            log_event(log, logging.ERROR, "release failed", account=name, exc_info=exc)
            return
        log_event(log, logging.WARNING, "released unsent", account=name, count=len(released))

    async def _fail_over(self, name: str) -> None:
        """Move the due messages of an account in outage to their fallback accounts."""

        def work() -> tuple[dict[str, int], int, int]:
            now = self.dispatcher.clock()
            with session_scope(self.dispatcher.engine) as session:
                report = move_due_messages(
                    session,
                    account=name,
                    providers=self.dispatcher.settings.providers,
                    is_down=lambda account: self.dispatcher.outages.in_outage(account, now=now),
                    now=now,
                    horizon=self.dispatcher.outages.cooldown,
                )
            return report.moved, report.kept_ambiguous, report.no_target

        moved, kept, stranded = await self.dispatcher.database.run(work)
        self.dispatcher.stats.failed_over += sum(moved.values())
        self.dispatcher.metrics.failed_over(name, sum(moved.values()))
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
