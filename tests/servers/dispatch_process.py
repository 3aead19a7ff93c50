"""Run the real dispatcher in its own process with a fixed clock (to kill it, or race it).

    python -m tests.servers.dispatch_process 2026-11-25T10:01:00+01:00 [--forever]

Settings come from the environment (TEXTOPT_*), as for the `textopt` command.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from textopt.config import load_settings
from textopt.db.engine import create_db_engine
from textopt.dispatch.worker import Dispatcher


def main() -> None:
    """Dispatch once (or until killed) with the clock standing at argv[1]."""
    at = dt.datetime.fromisoformat(sys.argv[1])
    forever = "--forever" in sys.argv
    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    dispatcher = Dispatcher(engine, settings, clock=lambda: at, poll_interval=0.01)
    stats = asyncio.run(dispatcher.run(once=not forever))
    print(
        f"submitted={stats.submitted} unknown={stats.recovered_unknown} "
        f"requeued={stats.recovered_requeued}"
    )


if __name__ == "__main__":
    main()
