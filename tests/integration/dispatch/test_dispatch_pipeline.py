"""A pipelined provider gets the next batch before the last one is answered; nothing is lost."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher
from textopt.outbox.models import Message
from textopt.providers.base import OutboundMessage, ReceiptSink, SubmitOutcome, SubmitResult


class _HeldProvider:
    """Answers a batch only once the next one was handed over (or the run has no next)."""

    name = "sandbox"
    channel = "sms"
    rate = 10_000.0

    def __init__(self, *, pipelined: bool, refuse_in_first: int | None = None) -> None:
        self.pipelined = pipelined
        self.refuse_in_first = refuse_in_first  # a message of the first batch refused for now
        self.handed: list[list[int]] = []  # message ids of each batch, in the order received
        self.overlapped = 0  # batches received while an earlier one was still unanswered
        self._open = 0
        self._next = asyncio.Event()

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Hold the answer until the next batch arrives, or a while when none comes."""
        self.overlapped += self._open > 0
        self.handed.append([m.message_id for m in messages])
        first = len(self.handed) == 1
        self._next.set()
        self._next = asyncio.Event()
        self._open += 1
        try:
            # long enough for the next claim even on a busy machine: the overlap is the point
            await asyncio.wait_for(self._next.wait(), 2.0)
        except TimeoutError:
            pass  # the last batch, or a provider that is not given another while out
        finally:
            self._open -= 1
        return [self._answer(m, first) for m in messages]

    def _answer(self, message: OutboundMessage, first: bool) -> SubmitResult:
        if first and message.recipient.endswith(str(self.refuse_in_first)):
            return SubmitResult(
                message.message_id, SubmitOutcome.TEMPORARY, error_code="0x58", throttled=True
            )
        return SubmitResult(message.message_id, SubmitOutcome.ACCEPTED, f"id-{message.message_id}")


class _FirstBatchHeld:
    """Holds the first batch's answers until released; answers later batches at once."""

    name = "sandbox"
    channel = "sms"
    rate = 10_000.0
    pipelined = True

    def __init__(self) -> None:
        self.handed: list[list[int]] = []
        self.release = asyncio.Event()

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Accept every message; the first batch only once released."""
        self.handed.append([m.message_id for m in messages])
        if len(self.handed) == 1:
            await self.release.wait()
        return [
            SubmitResult(m.message_id, SubmitOutcome.ACCEPTED, f"id-{m.message_id}")
            for m in messages
        ]


def _plan(engine: Engine, settings: Settings, count: int) -> None:
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234{n:04d}")
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)


def _dispatch(engine: Engine, settings: Settings, provider: _HeldProvider) -> None:
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    dispatcher = Dispatcher(
        engine, settings, providers={"sandbox": provider}, clock=lambda: at, poll_interval=0.01
    )
    asyncio.run(dispatcher.run(once=True))


def _by_status(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        query = select(Message.status, func.count()).group_by(Message.status)
        return {str(status): int(count) for status, count in s.execute(query)}


def test_a_pipelined_provider_holds_two_batches_at_once_and_every_one_is_recorded(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"dispatch_batch_size": 4})
    _plan(engine, settings, 14)
    provider = _HeldProvider(pipelined=True)
    _dispatch(engine, settings, provider)
    assert [len(batch) for batch in provider.handed] == [4, 4, 4, 2]
    assert provider.overlapped == 3  # each batch after the first came while one was out
    ids = [i for batch in provider.handed for i in batch]
    assert len(ids) == len(set(ids)) == 14  # none handed over twice
    assert _by_status(engine) == {"submitted": 14}


def test_a_provider_that_is_not_pipelined_gets_one_batch_at_a_time(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"dispatch_batch_size": 4})
    _plan(engine, settings, 10)
    provider = _HeldProvider(pipelined=False)
    _dispatch(engine, settings, provider)
    assert provider.overlapped == 0
    assert _by_status(engine) == {"submitted": 10}


def test_after_a_throttle_the_batches_already_out_are_answered_and_recorded(
    engine: Engine, campaign_settings: Settings
) -> None:
    # The first batch's answer holds a throttle while the second batch is out: the worker
    # records both, leaves nothing in `sending`, and the refused message is queued again.
    settings = campaign_settings.model_copy(update={"dispatch_batch_size": 4})
    _plan(engine, settings, 12)
    provider = _HeldProvider(pipelined=True, refuse_in_first=2)
    _dispatch(engine, settings, provider)
    assert provider.overlapped >= 1
    assert _by_status(engine) == {"submitted": 11, "queued": 1}


def test_a_worker_cancelled_with_two_batches_out_records_the_answers_of_both(
    engine: Engine, campaign_settings: Settings
) -> None:
    # Cancelled while it waits for the first batch (the second already answered): both
    # batches' answers are still taken and recorded, none left in `sending`.
    settings = campaign_settings.model_copy(update={"dispatch_batch_size": 4})
    _plan(engine, settings, 8)
    provider = _FirstBatchHeld()
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    dispatcher = Dispatcher(
        engine, settings, providers={"sandbox": provider}, clock=lambda: at, poll_interval=0.01
    )

    async def scenario() -> None:
        run = asyncio.create_task(dispatcher.run(once=True))
        while len(provider.handed) < 2:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # the second batch is answered; the worker waits on the first
        run.cancel()
        await asyncio.sleep(0.05)
        provider.release.set()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(scenario())
    assert [len(batch) for batch in provider.handed] == [4, 4]
    assert _by_status(engine) == {"submitted": 8}
