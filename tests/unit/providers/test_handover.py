"""The handover of network input: acknowledged after the sink commits, batched, kept on failure."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from textopt.providers.base import Receipt, ReceiptStatus
from textopt.providers.handover import Handover
from textopt.providers.mo import InboundSms

AT = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _receipt(n: int) -> Receipt:
    return Receipt("smsc", str(n), ReceiptStatus.DELIVERED, AT)


class _Sink:
    """A sink whose commits the test releases one at a time, or fails."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.failures = 0

    async def __call__(self, items: Sequence[Receipt | InboundSms]) -> None:
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database is away")
        self.batches.append([i.provider_message_id for i in items])


def test_nothing_is_acknowledged_before_its_batch_is_committed_and_batches_grow() -> None:
    acked: list[int] = []

    async def scenario() -> None:
        sink = _Sink()
        handover = Handover("test", retry_after=0.01)
        handover.start(sink)
        handover.put([_receipt(1)], lambda: acked.append(1))
        await asyncio.sleep(0.01)  # the first batch is committing (held by the gate)
        for n in range(2, 6):  # these arrive meanwhile
            handover.put([_receipt(n)], lambda n=n: acked.append(n))
        handover.put([], lambda: acked.append(6))  # a PDU that stores nothing
        await asyncio.sleep(0.01)
        assert acked == []
        sink.gate.set()
        await handover.drain()
        assert sink.batches == [["1"], ["2", "3", "4", "5"]]
        assert acked == [1, 2, 3, 4, 5, 6]
        await handover.stop()

    asyncio.run(scenario())


def test_a_batch_the_sink_refuses_is_kept_unacknowledged_and_stored_later() -> None:
    acked: list[int] = []

    async def scenario() -> None:
        sink = _Sink()
        sink.failures = 2
        handover = Handover("test", retry_after=0.01)
        handover.start(sink)
        handover.put([_receipt(1)], lambda: acked.append(1))
        sink.gate.set()
        await asyncio.sleep(0.005)
        assert acked == []  # refused: not acknowledged
        await handover.drain()
        assert sink.batches == [["1"]]
        assert acked == [1]
        await handover.stop()

    asyncio.run(scenario())


def test_stopping_with_the_database_away_gives_up_without_acknowledging() -> None:
    acked: list[int] = []

    async def scenario() -> None:
        sink = _Sink()
        sink.failures = 1000
        sink.gate.set()
        handover = Handover("test", retry_after=0.01)
        handover.start(sink)
        handover.put([_receipt(1)], lambda: acked.append(1))
        await handover.stop(timeout=0.1)  # bounded: the network sends it again
        assert acked == []

    asyncio.run(scenario())


def test_an_acknowledgement_that_cannot_be_sent_does_not_stop_the_others() -> None:
    acked: list[int] = []

    def closed() -> None:
        raise ConnectionResetError("the session is closed")

    async def scenario() -> None:
        sink = _Sink()
        sink.gate.set()
        handover = Handover("test")
        handover.start(sink)
        handover.put([_receipt(1)], closed)
        handover.put([_receipt(2)], lambda: acked.append(2))
        await handover.stop()

    asyncio.run(scenario())
    assert acked == [2]
