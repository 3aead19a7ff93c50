"""The dispatcher says what it does: a failover and a worker's error are in the log."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher
from textopt.outbox.models import Message, MessageEvent
from textopt.providers.base import (
    OutboundMessage,
    Provider,
    ReceiptSink,
    SubmitResult,
    build_provider,
)
from textopt.supervisor import Backoff


def _launch(engine: Engine, settings: Settings, count: int, provider: str) -> None:
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234{n:04d}", tags=("vip", "client"))
        campaign = new_campaign(s, settings, provider=provider)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return vars(record)


def test_a_failover_is_logged_with_the_accounts_and_counts(
    engine: Engine,
    campaign_settings: Settings,
    journal: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = {**campaign_settings.providers["sandbox"], "journal": str(journal)}
    settings = campaign_settings.model_copy(
        update={
            "providers": {
                "primary": {**sandbox, "fallback": ["backup"], "outage_after": 4},
                "backup": dict(sandbox),
            },
            "failover_after_errors": 3,
        }
    )
    _launch(engine, settings, 12, "primary")
    dispatcher = Dispatcher(engine, settings, clock=lambda: WEDNESDAY_10H, poll_interval=0.01)
    with caplog.at_level(logging.INFO, logger="textopt.dispatch"):
        stats = asyncio.run(dispatcher.run(once=True))

    assert stats.failed_over == 8
    outage = [r for r in caplog.records if _fields(r).get("event") == "provider outage"]
    assert outage
    assert outage[0].levelno == logging.WARNING
    moves = [r for r in caplog.records if _fields(r).get("event") == "failed over"]
    assert [(r.levelno, _fields(r)["account"]) for r in moves] == [(logging.WARNING, "primary")]
    assert _fields(moves[0])["moved"] == 8
    assert "failed over account=primary moved=8 to=backup:8" in moves[0].getMessage()
    # batches are logged as batches: never a line per message at INFO
    claims = [r for r in caplog.records if _fields(r).get("event") == "claimed"]
    assert claims
    assert all(r.levelno == logging.INFO for r in claims)
    assert sum(_fields(r)["count"] for r in claims) == 12 + 8  # the 8 moved: claimed again
    assert len(claims) < 20


class _FailsOnce:
    """The sandbox, except that its first submit raises (a bug in an adapter, say)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name
        self.channel = inner.channel
        self.rate = inner.rate
        self.pipelined = inner.pipelined
        self.calls = 0

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Start the sandbox."""
        await self.inner.start(on_receipt)

    async def stop(self) -> None:
        """Stop the sandbox."""
        await self.inner.stop()

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Raise the first time, then send through the sandbox."""
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("adapter bug: lost the batch")
        return await self.inner.submit(messages)


def test_a_worker_that_dies_is_logged_and_started_again(
    engine: Engine, campaign_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = campaign_settings.model_copy(update={"dispatch_batch_size": 1})
    _launch(engine, settings, 4, "sandbox")
    flaky = _FailsOnce(build_provider("sandbox", settings.providers["sandbox"]))
    started = time.monotonic()
    dispatcher = Dispatcher(
        engine,
        settings,
        # time goes on: the account's token bucket refills between batches
        clock=lambda: WEDNESDAY_10H + dt.timedelta(seconds=time.monotonic() - started),
        poll_interval=0.01,
        providers={"sandbox": flaky},
        restart_backoff=Backoff(first=0.01, maximum=0.05),
    )

    async def scenario() -> None:
        run = asyncio.ensure_future(dispatcher.run())
        deadline = time.monotonic() + 20
        # the batch the bug took waits for its lease (the provider may have sent it); one
        # claimed ahead meanwhile is queued again; the rest goes after the restart
        while dispatcher.stats.submitted < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        report = dispatcher.report()
        dispatcher.stop()
        await run
        assert report["dispatcher/sandbox/0"].restarts >= 1
        assert report["dispatcher/sandbox/0"].last_error is not None

    with caplog.at_level(logging.INFO, logger="textopt"):
        asyncio.run(scenario())

    assert dispatcher.stats.submitted == 3  # all but the batch the bug took
    with session_scope(engine) as s:
        left = s.scalars(select(Message.status).where(Message.status != "delivered")).all()
        released = s.scalars(
            select(MessageEvent.message_id).where(MessageEvent.status == "queued")
        ).all()
    assert left == ["sending"]  # the one the provider may have sent: never sent twice
    assert len(released) <= 1  # the one claimed ahead, if the claim was that quick
    died = [r for r in caplog.records if _fields(r).get("event") == "died; restarting"]
    assert [(_fields(r)["task"], _fields(r)["error"]) for r in died] == [
        ("dispatcher/sandbox/0", "RuntimeError")
    ]
    assert died[0].levelno == logging.ERROR
    assert died[0].exc_info is not None  # the traceback goes with it
    assert "adapter bug: lost the batch" in caplog.text
