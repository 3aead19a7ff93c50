"""Housekeeping: files and Idempotency-Keys are deleted on a schedule past their keep time."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

from sqlalchemy import Engine

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.gdpr.retention import Housekeeper


def test_the_housekeeper_deletes_files_past_their_keep_time_as_it_starts(
    engine: Engine, settings: Settings
) -> None:
    folder = Path(str(settings.upload_dir))
    folder.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    ages = {
        "upload.csv": dt.timedelta(hours=25),
        "export-x.csv": dt.timedelta(hours=30),
        "kept.csv": dt.timedelta(hours=23),
        "t.rejects.csv": dt.timedelta(days=8),
        "u.rejects.csv": dt.timedelta(days=6),
    }
    for name, age in ages.items():
        (folder / name).write_text("phone\n+33612345678\n")
        at = (now - age).timestamp()
        os.utime(folder / name, (at, at))
    keeper = Housekeeper(engine, settings, interval=3600, clock=lambda: now)

    async def one_sweep() -> None:
        task = asyncio.create_task(keeper.run())
        await asyncio.sleep(0.2)
        keeper.stop()
        await task

    asyncio.run(one_sweep())
    assert sorted(p.name for p in folder.iterdir()) == ["kept.csv", "u.rejects.csv"]
