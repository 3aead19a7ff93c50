"""Housekeeping: delete, on a schedule, what holds personal data past its keep time.

Under `textopt serve` the supervisor runs one `Housekeeper` beside the dispatcher: every
hour it deletes the uploads and rejects files past `upload_keep_hours` and
`rejects_keep_days`, and the `Idempotency-Key` records older than
`idempotency_window_hours`. The upload and import routes purge the same way as they go, and
`POST /v1/messages` once a minute (a record found past its window is treated as gone), so a
web process without workers (`serve --no-dispatch`) keeps nothing longer either.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from textopt.accounts.service import purge_idempotency_records
from textopt.config import Settings
from textopt.contacts.uploads import purge_expired_files
from textopt.db.base import utcnow
from textopt.db.engine import session_scope

__all__ = ["Housekeeper", "SweepReport"]


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep deleted."""

    files: int
    idempotency_records: int


class Housekeeper:
    """Deletes expired files and records every `interval` seconds until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        interval: float = 3600.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.interval = interval
        self.clock = clock
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Return after the current sweep."""
        self._stop.set()

    def sweep(self) -> SweepReport:
        """Delete what is past its keep time, once (synchronous)."""
        now = self.clock()
        files = purge_expired_files(self.settings, now=now.timestamp())
        window = dt.timedelta(hours=self.settings.idempotency_window_hours)
        with session_scope(self.engine) as session:
            records = purge_idempotency_records(session, before=now - window)
        return SweepReport(files=files, idempotency_records=records)

    async def run(self) -> None:
        """Sweep now, then every `interval` seconds, until stopped."""
        while not self._stop.is_set():
            await asyncio.to_thread(self.sweep)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
