"""What the network sends back: receipts applied and MOs stored in one commit, then the
MOs' keywords (STOP...) applied from the stored rows.

`NetworkSink.store` is every provider's sink (`providers.base.ReceiptSink`): it returns
once the batch is committed, and only then does the provider acknowledge it to the network
(an SMPP `deliver_sm_resp`). `InboundApplier` is a supervised task of the dispatcher that
applies the stored MOs as they come, each in its own transaction, and after a restart any a
crash left unapplied.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.db_thread import DatabaseThread
from textopt.dispatch.feedback import FeedbackRules
from textopt.dispatch.receipts import record_receipts
from textopt.dispatch.stats import DispatchStats
from textopt.inbound.service import (
    apply_inbound,
    mark_inbound_failed,
    pending_inbound,
    store_inbound,
)
from textopt.logs import log_event
from textopt.metrics import DispatchMetrics
from textopt.providers.base import Receipt
from textopt.providers.mo import InboundSms

__all__ = ["InboundApplier", "NetworkSink", "database_away"]

log = logging.getLogger(__name__)

_APPLY_PAGE = 200  # stored MOs read per turn of the database thread
_APPLY_TURN = 0.05  # seconds of applying per turn (a STOP takes about 10 ms)
_APPLY_AT_STOP = 5.0  # seconds a stopping dispatcher goes on applying stored MOs
_LOOK_EVERY = 1.0  # seconds between looks for MOs stored by another process


def database_away(exc: BaseException) -> bool:
    """Whether an error says the database is away (try again), not that the input is bad."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(
        getattr(exc, "connection_invalidated", False)
    )


class NetworkSink:
    """Stores what the providers hand over and applies the stored MOs' keywords."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        database: DatabaseThread,
        stats: DispatchStats,
        metrics: DispatchMetrics,
        clock: Callable[[], dt.datetime],
        feedback: FeedbackRules,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.feedback = feedback
        self.database = database
        self.stats = stats
        self.metrics = metrics
        self.clock = clock
        self.inbound_due = asyncio.Event()  # stored MOs may wait to be applied
        self.inbound_due.set()  # MOs a crash left stored and unapplied

    async def store(self, items: Sequence[Receipt | InboundSms]) -> None:
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
        applied = await self.database.run(lambda: self._store_batch(receipts, messages))
        self.stats.receipts += applied
        self.metrics.received([r.at for r in receipts], applied=applied, now=self.clock())
        log_event(
            log,
            logging.INFO,
            "stored from network",
            receipts=len(receipts),
            applied=applied,
            inbound=len(messages),
        )
        if messages:
            self.inbound_due.set()

    def _store_batch(self, receipts: list[Receipt], messages: list[InboundSms]) -> int:
        """One transaction for the batch; item by item if it fails, skipping what is bad."""
        try:
            return self._store_items(receipts, messages)
        except Exception as exc:
            if database_away(exc):
                raise
            log_event(
                log,
                logging.WARNING,
                "storing from network failed; storing one by one",
                error=type(exc).__name__,
                detail=str(exc).splitlines()[0] if str(exc) else "",
            )
        applied = 0
        alone: list[tuple[list[Receipt], list[InboundSms]]] = [([r], []) for r in receipts]
        alone += [([], [m]) for m in messages]
        for one in alone:
            try:
                applied += self._store_items(*one)
            except Exception as exc:
                if database_away(exc):
                    raise
                log.exception("skipped what the network sent, as it came: %r", one)
        return applied

    def _store_items(self, receipts: list[Receipt], messages: list[InboundSms]) -> int:
        now = self.clock()
        with session_scope(self.engine) as session:
            applied = record_receipts(session, receipts=receipts, now=now, feedback=self.feedback)
            store_inbound(
                session,
                messages=messages,
                now=now,
                default_region=self.settings.default_region,
                digest=self.feedback.digest,
            )
        return applied

    def apply_pending(self) -> bool:
        """Apply a page of stored MOs, each in its own transaction; True when more may wait."""
        with session_scope(self.engine) as session:
            ids = pending_inbound(session, limit=_APPLY_PAGE)
        # a turn holds the database thread at most this long: the storing of what the
        # network sends next (its acknowledgements wait on it) and the claims go between
        until = time.monotonic() + _APPLY_TURN
        applied = 0
        try:
            for inbound_id in ids:
                if time.monotonic() > until:
                    return True
                try:
                    with session_scope(self.engine) as session:
                        result = apply_inbound(
                            session, inbound_id=inbound_id, settings=self.settings, now=self.clock()
                        )
                except Exception as exc:
                    if database_away(exc):
                        raise
                    # kept as failed with its error for a person to read, never tried forever
                    log.exception("inbound message %s could not be applied", inbound_id)
                    with session_scope(self.engine) as session:
                        mark_inbound_failed(
                            session, inbound_id=inbound_id, error=repr(exc), now=self.clock()
                        )
                    continue
                if result is not None:
                    applied += 1
                    self.stats.inbound += 1
        finally:
            if applied:
                log_event(log, logging.INFO, "inbound applied", count=applied)
        return len(ids) == _APPLY_PAGE

    async def apply_at_stop(self) -> None:
        """Apply what the providers stored last (a few seconds at most; the rest waits)."""
        try:
            until = time.monotonic() + _APPLY_AT_STOP
            while await self.database.run(self.apply_pending) and time.monotonic() < until:
                pass
        except Exception:  # left stored: the next run applies it
            log.exception("applying stored inbound messages at stop failed")


class InboundApplier:
    """Applies stored MOs as they come, until stopped (a supervised task of the dispatcher).

    An error that says the database is away ends the task: the supervisor logs it and
    starts another after its backoff, and the rows wait, stored.
    """

    def __init__(self, sink: NetworkSink) -> None:
        self.sink = sink
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Return after the page under way."""
        self._stop.set()
        self.sink.inbound_due.set()  # wakes the wait

    async def run(self) -> None:
        """Apply pages of stored MOs whenever some may wait, and look once a second."""
        due = self.sink.inbound_due
        due.set()  # a fresh applier looks at once: its predecessor may have died mid-page
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                # MOs stored by another process (or before a crash) are found this way too
                await asyncio.wait_for(due.wait(), _LOOK_EVERY)
            if self._stop.is_set():
                return
            due.clear()
            if await self.sink.database.run(self.sink.apply_pending):
                due.set()
