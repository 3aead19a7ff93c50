"""What the network sends us, handed to the sink in batches and acknowledged after commit.

A provider `put`s each receipt or MO it reads together with the acknowledgement the network
waits for (an SMPP `deliver_sm_resp`). One task hands everything queued so far to the sink
(`ReceiptSink`: it returns once the batch is committed) and only then sends the
acknowledgements. While one batch commits, the next one gathers, so batches grow with the
load: a storm of STOP replies commits hundreds per transaction, a lone MO commits at once.

A batch the sink could not store (the database is away) is kept and tried again after a
pause, never acknowledged before; the network's own retries cover a process that dies
meanwhile (an SMSC sends again what it saw no answer to).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from textopt.providers.base import Receipt, ReceiptSink
from textopt.providers.mo import InboundSms

__all__ = ["Acknowledge", "Handover"]

log = logging.getLogger(__name__)

#: Tells the network that what it sent is stored (an SMPP deliver_sm_resp, for instance).
Acknowledge = Callable[[], None]


class Handover:
    """One provider's queue of network input on its way to the sink, and its acknowledgements."""

    def __init__(
        self,
        label: str,
        *,
        prepare: Callable[[], Awaitable[None]] | None = None,
        retry_after: float = 1.0,
    ) -> None:
        self.label = label
        # Work a provider must finish before a batch is handed over (SMPP: look up and store
        # multipart parts); it may `put` more into the batch.
        self._prepare = prepare
        self.retry_after = retry_after
        self._sink: ReceiptSink | None = None
        self._items: list[Receipt | InboundSms] = []
        self._acks: list[Acknowledge] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self, sink: ReceiptSink) -> None:
        """Begin handing over to `sink` (call from the event loop)."""
        self._sink = sink
        self._closing = False
        if self._task is None:
            # events of this loop: a provider may be started again in another one
            self._wake, self._idle = asyncio.Event(), asyncio.Event()
            self._idle.set()
            if self._items or self._acks:
                self.wake()
            self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, items: Sequence[Receipt | InboundSms], ack: Acknowledge | None = None) -> None:
        """Queue what one network message said (possibly nothing) and its acknowledgement."""
        self._items.extend(items)
        if ack is not None:
            self._acks.append(ack)
        self.wake()

    def wake(self) -> None:
        """Run a cycle soon (something for `prepare` may be waiting too)."""
        self._idle.clear()
        self._wake.set()

    async def drain(self) -> None:
        """Until everything queued so far is stored and acknowledged (or the retries go on)."""
        if self._task is None:
            await self.flush()
            return
        self.wake()
        await self._idle.wait()

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Hand over what is left (within `timeout`), then end the task.

        What could not be stored by then stays unacknowledged: the network sends it again.
        """
        if self._task is not None:
            try:
                await asyncio.wait_for(self.drain(), timeout)
            except TimeoutError:
                log.warning(
                    "%s: stopping with %d items not stored (not acknowledged: sent again)",
                    self.label,
                    len(self._items),
                )
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        else:
            await self.flush()

    async def _run(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                await self.flush()
            except Exception:  # the database may be briefly away: kept, and tried again
                log.exception(
                    "%s: storing what the network sent failed; %d acknowledgements wait",
                    self.label,
                    len(self._acks),
                )
                await asyncio.sleep(self.retry_after)
                self._wake.set()
                continue
            if not self._wake.is_set():
                self._idle.set()

    async def flush(self) -> None:
        """One cycle: prepare, store the batch, then acknowledge it."""
        if self._prepare is not None:
            await self._prepare()
        items, acks = self._items, self._acks
        self._items, self._acks = [], []
        if items:
            if self._sink is None:
                raise RuntimeError(f"{self.label}: input arrived before start")
            try:
                await self._sink(items)
            except BaseException:
                self._items, self._acks = items + self._items, acks + self._acks
                raise
        for ack in acks:
            try:
                ack()
            except Exception:  # a closed session: the network sends it again
                log.warning("%s: an acknowledgement could not be sent", self.label)
