"""Run the real dispatcher in its own process with a fixed clock (to kill it, or race it).

    python -m tests.servers.dispatch_process 2026-11-25T10:01:00+01:00 [--forever]

Settings come from the environment (TEXTOPT_*), as for the `textopt` command.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from textopt.config import Settings, load_settings
from textopt.db.engine import create_db_engine
from textopt.dispatch.worker import Dispatcher

ROOT = Path(__file__).resolve().parents[2]


def dispatcher_environment(settings: Settings, **sandbox: object) -> dict[str, str]:
    """The environment of a dispatcher process on the test's database and sandbox (with
    `sandbox` options changed), importing this tree's code."""
    env = os.environ.copy()
    env["TEXTOPT_DATABASE_URL"] = settings.database_url
    env["TEXTOPT_PROVIDERS"] = json.dumps({"sandbox": {**settings.providers["sandbox"], **sandbox}})
    env["TEXTOPT_BRAND_NAME"] = settings.brand_name
    env["TEXTOPT_DISPATCH_BATCH_SIZE"] = "5"
    env["TEXTOPT_DISPATCH_LEASE_SECONDS"] = "60"
    env["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{ROOT}"
    return env


def start_dispatcher(at: dt.datetime, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    """A dispatcher process with its clock standing at `at` (`--forever`: until killed)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.servers.dispatch_process", at.isoformat(), *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
