"""The dispatcher: asyncio workers that claim, send and record, one provider account each.

Database work is synchronous SQLAlchemy run in one thread of the dispatcher's own, in turn
(SQLite takes one writer at a time; a second thread would only wait for the lock); providers
are asyncio. A worker loop: recover stale leases and start due campaigns, claim a batch
within the account's rate (tokens in segments, shared through the database), submit it,
record the answers. Receipts and MOs come from the providers in batches through
`_store_from_network`, committed before the provider acknowledges them to the network; the
MOs' keywords (STOP...) are applied from the stored rows right after, each in its own
transaction, and again after a restart for any a crash left unapplied.

The loop is a pipeline while all goes well: as a batch goes on the wire, the next one is
claimed and the previous one's answers recorded in the database thread, so the database
work overlaps the wire instead of alternating with it. After any answer but an acceptance
(throttling, errors, a lost link), the worker goes back to one step at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from textopt.campaigns.lifecycle import complete_finished_campaigns, start_due_campaigns
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch import service
from textopt.dispatch.bounces import record_email_bounces
from textopt.dispatch.claim import ClaimReport, claim_batch, due_count
from textopt.dispatch.failover import OutageTracker, move_due_messages
from textopt.dispatch.feedback import feedback_rules, record_submit_feedback
from textopt.eligibility import workspace_policy
from textopt.errors import ConfigError
from textopt.inbound.service import (
    apply_inbound,
    mark_inbound_failed,
    pending_inbound,
    store_inbound,
)
from textopt.providers.base import Provider, Receipt, SubmitOutcome, SubmitResult, build_provider
from textopt.providers.mo import InboundSms
from textopt.supervisor import Supervisor
from textopt.vocab import Channel
from textopt.webhooks.delivery import WebhookDeliverer

__all__ = ["DispatchStats", "Dispatcher", "run_dispatch"]

log = logging.getLogger(__name__)

_APPLY_PAGE = 200  # stored MOs read per turn of the database thread
_APPLY_TURN = 0.05  # seconds of applying per turn (a STOP takes about 10 ms)
_APPLY_AT_STOP = 5.0  # seconds a stopping dispatcher goes on applying stored MOs


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
    inbound: int = 0  # MOs (STOP, START, HELP, OUI...) stored and applied
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
        # the secret key (it may be read from a key file) once, for every claim and receipt
        self.digest = address_digester(settings.resolved_secret_key())
        self.feedback = feedback_rules(settings, digest=self.digest)
        self._providers = dict(providers or {})
        self._inbound_due = asyncio.Event()  # stored MOs may wait to be applied
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
            # an account that stores state (SMPP multipart parts) uses this database
            # unless it names its own
            options = {"database_url": self.settings.database_url, **options}
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

    async def _store_from_network(self, items: Sequence[Receipt | InboundSms]) -> None:
        """The providers' sink: receipts applied and MOs stored, committed when it returns.

        The provider answers the network (deliver_sm_resp) only after this returns; it
        raises only when the database could not take the batch (kept and tried again).
        """
        receipts: list[Receipt] = []
        messages: list[InboundSms] = []
        for item in items:
            if isinstance(item, Receipt):
                receipts.append(item)
            else:
                messages.append(item)
        self.stats.receipts += await self._db(lambda: self._store_batch(receipts, messages))
        if messages:
            self._inbound_due.set()

    def _store_batch(self, receipts: list[Receipt], messages: list[InboundSms]) -> int:
        """One transaction for the batch; item by item if it fails, skipping what is bad."""
        try:
            return self._store_items(receipts, messages)
        except Exception as exc:
            if _outage(exc):
                raise
            log.warning("storing a batch from the network failed (%s); storing one by one", exc)
        applied = 0
        alone: list[tuple[list[Receipt], list[InboundSms]]] = [([r], []) for r in receipts]
        alone += [([], [m]) for m in messages]
        for one in alone:
            try:
                applied += self._store_items(*one)
            except Exception as exc:
                if _outage(exc):
                    raise
                log.exception("skipped what the network sent, as it came: %r", one)
        return applied

    def _store_items(self, receipts: list[Receipt], messages: list[InboundSms]) -> int:
        now = self.clock()
        with session_scope(self.engine) as session:
            applied = service.record_receipts(
                session, receipts=receipts, now=now, feedback=self.feedback
            )
            store_inbound(
                session,
                messages=messages,
                now=now,
                default_region=self.settings.default_region,
                digest=self.digest,
            )
        return applied

    async def _apply_stored_inbound(self) -> None:
        """Apply the keywords of stored MOs as they come (a task of `run`)."""
        while True:
            await self._inbound_due.wait()
            self._inbound_due.clear()
            try:
                more = await self._db(self._apply_pending)
            except Exception:  # the database is away: the rows wait, tried again
                log.exception("applying stored inbound messages failed; trying again")
                await asyncio.sleep(1.0)
                more = True
            if more:
                self._inbound_due.set()

    def _apply_pending(self) -> bool:
        """Apply a page of stored MOs, each in its own transaction; True when more may wait."""
        with session_scope(self.engine) as session:
            ids = pending_inbound(session, limit=_APPLY_PAGE)
        # a turn holds the database thread at most this long: the storing of what the
        # network sends next (its acknowledgements wait on it) and the claims go between
        until = time.monotonic() + _APPLY_TURN
        for inbound_id in ids:
            if time.monotonic() > until:
                return True
            try:
                with session_scope(self.engine) as session:
                    result = apply_inbound(
                        session, inbound_id=inbound_id, settings=self.settings, now=self.clock()
                    )
            except Exception as exc:
                if _outage(exc):
                    raise
                # kept as failed with its error for a person to read, never tried forever
                log.exception("inbound message %s could not be applied", inbound_id)
                with session_scope(self.engine) as session:
                    mark_inbound_failed(
                        session, inbound_id=inbound_id, error=repr(exc), now=self.clock()
                    )
                continue
            if result is not None:
                self.stats.inbound += 1
        return len(ids) == _APPLY_PAGE

    async def _housekeeping(self) -> None:
        def work() -> tuple[int, int]:
            now = self.clock()
            with session_scope(self.engine) as session:
                start_due_campaigns(session, now=now)
                recovered = service.recover_stale(session, now=now)
                service.resolve_orphan_receipts(session, now=now, feedback=self.feedback)
                service.close_unanswered(
                    session,
                    now=now,
                    validity=dt.timedelta(hours=self.settings.receipt_validity_hours),
                    grace=dt.timedelta(hours=self.settings.receipt_grace_hours),
                    every=service.UNANSWERED_EVERY,
                )
                complete_finished_campaigns(session, now=now)
            return recovered

        unknown, requeued = await self._db(work)
        self.stats.recovered_unknown += unknown
        self.stats.recovered_requeued += requeued
        self._inbound_due.set()  # stored by another process, or before a crash

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
                    digest=self.digest,
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
                    feedback=self.feedback,
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
                        rules=self.feedback,
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
        self._inbound_due = asyncio.Event()
        self._inbound_due.set()  # MOs a crash left stored and unapplied
        applier = asyncio.create_task(self._apply_stored_inbound())
        started: list[str] = []
        try:
            for name in accounts:
                await self._provider(name).start(self._store_from_network)
                started.append(name)
            tasks = [
                asyncio.create_task(self._worker_loop(name, index, once, progress))
                for name in accounts
                for index in range(self.workers)
            ]
            await asyncio.gather(*tasks)
        finally:
            for name in started:
                await self._provider(name).stop()
            applier.cancel()
            await asyncio.gather(applier, return_exceptions=True)
            try:  # what the providers stored last is applied before the run ends (for a
                # few seconds at most: a longer backlog waits, stored, for the next run)
                until = time.monotonic() + _APPLY_AT_STOP
                while await self._db(self._apply_pending) and time.monotonic() < until:
                    pass
            except Exception:  # left stored: the next run applies it
                log.exception("applying stored inbound messages at stop failed")
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


def _outage(exc: BaseException) -> bool:
    """Whether an error says the database is away (try again), not that the input is bad."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(
        getattr(exc, "connection_invalidated", False)
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
