"""Scale-out: K dispatcher processes on one PostgreSQL, against the node SMSC.

    .venv/bin/python bench/scaleout.py [--database-url URL] [--processes 1,2,4]
                                       [--messages 20000] [--accounts 2]
                                       [--rate 300] [--seconds 60]

For each K, two runs on a fresh PostgreSQL schema, each with K `Dispatcher` processes
(separate Python processes, as on separate machines) sharing the outbox through
`SKIP LOCKED` claims and the rate buckets in the database:

- **throughput**: N messages in `--accounts` campaigns, one per provider account (each a
  bind to the SMSC, no rate limit), dispatched until nothing is due; prints msg/s, the
  scaling ratio to K=1, duplicates (recipients the SMSC accepted twice) and lost messages;
- **rate limit**: one account limited to `--rate` segments per second and `--seconds` worth
  of messages; prints the rate the SMSC actually received (from its own clock, first to
  last submit, and again after the first second, when the bucket's burst of one second's
  worth has gone) against the configured one, and duplicates.

The last line is

    scaleout: K=1 R msg/s (x1.00); K=2 R msg/s (xS); …; rate error: max E % (after the
    first second: F %); duplicates: 0; lost: 0

Every process's clock is the benchmark's fixed Wednesday morning plus the wall time since
the run started, so all of them agree on what is due and on the buckets' refills.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import plan
from import_contacts import fresh_database
from tests.servers.smsc import Smsc, running_smsc

from textopt.campaigns import service as campaigns
from textopt.config import Settings, reset_settings
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata
from textopt.dispatch.worker import Dispatcher
from textopt.outbox.models import Message

NOW = plan.NOW  # a Wednesday morning in Paris: every French contact is due
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORKERS_PER_PROCESS = 2


@dataclass(frozen=True)
class Outcome:
    """One run of K processes."""

    processes: int
    due: int
    elapsed: float
    accepted: int
    duplicates: int
    submitted: int
    received_rate: float  # the SMSC's own clock, first to last submit
    steady_rate: float  # the same after the bucket's first second (its burst)

    @property
    def rate(self) -> float:
        """Due messages per second of wall time, K processes together."""
        return self.due / self.elapsed

    @property
    def lost(self) -> int:
        """Due messages the SMSC did not accept or the outbox does not show submitted."""
        return max(self.due - self.accepted + self.duplicates, self.due - self.submitted, 0)


def _account(smsc: Smsc, rate: float) -> dict[str, Any]:
    return {
        "kind": "smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "textopt",
        "password": "secret",
        "window": 64,
        "rate": rate,
        "timeout": 30,
    }


def _settings(url: str, accounts: dict[str, dict[str, Any]]) -> Settings:
    return Settings(
        database_url=url,
        secret_key="bench",
        brand_name="Boutique Lumiere",
        sender_ids=["LUMIERE"],
        providers=accounts,
        default_provider=next(iter(accounts)),
        dispatch_batch_size=500,
    )


def _prepare(url: str, settings: Settings, messages: int) -> int:
    """Contacts, one campaign per account over its share of them, launched; the due count."""
    reset_settings(settings)
    engine = create_db_engine(url)
    load_metadata().create_all(engine)
    plan.COUNTRIES = [("FR", "+336", 8, "Europe/Paris", 100)]
    plan.fill_contacts(engine, messages)
    names = list(settings.providers)
    with engine.begin() as connection:
        # each account's campaign gets its own share: one message per person, caps untouched
        connection.execute(
            text(
                "INSERT INTO contact_tags (contact_id, tag) "
                f"SELECT id, 'share' || (id % {len(names)}) FROM contacts"
            )
        )
    for index, name in enumerate(names):
        with session_scope(engine) as session:
            campaign = campaigns.create_campaign(
                session,
                settings=settings,
                name=f"bench {name}",
                template="Les soldes commencent : -20% chez Boutique Lumiere.",
                audience=f"tag:share{index}",
                sender_id="LUMIERE",
                provider=name,
            )
            campaigns.launch(session, campaign=campaign, settings=settings, now=NOW)
    with session_scope(engine) as session:
        due = session.scalar(
            select(func.count()).where(Message.status == "planned", Message.send_at <= NOW)
        )
    engine.dispose()
    return int(due or 0)


def _run(url: str, settings: Settings, smsc: Smsc, processes: int, messages: int) -> Outcome:
    due = _prepare(url, settings, messages)
    smsc.reset()
    smsc.configure(record=True, receipts="none")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(settings.model_dump(mode="json"), handle)
    start_wall = time.time() + 3.0  # every child starts its clock at the same instant
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", handle.name, str(start_wall)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for _ in range(processes)
    ]
    codes = [child.wait() for child in children]
    elapsed = time.time() - start_wall
    os.unlink(handle.name)
    if any(codes):
        raise SystemExit(f"a dispatcher process failed: exit codes {codes}")
    state = smsc.state()
    stamps = sorted(int(s["at"]) for s in state["submits"] if not s["status"])
    received = _rate(stamps)
    steady = _rate([at for at in stamps if at >= stamps[0] + 1000]) if stamps else 0.0
    summary = smsc.summary()
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        submitted = session.scalar(
            select(func.count()).where(Message.status.in_(["submitted", "delivered"]))
        )
    engine.dispose()
    return Outcome(
        processes=processes,
        due=due,
        elapsed=elapsed,
        accepted=int(summary["accepted"]),
        duplicates=int(summary["duplicates"]),
        submitted=int(submitted or 0),
        received_rate=received,
        steady_rate=steady,
    )


def _rate(stamps: list[int]) -> float:
    """Submits per second between the first and the last of these (milliseconds)."""
    if len(stamps) < 2 or stamps[-1] == stamps[0]:
        return 0.0
    return (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1000)


def child(settings_file: str, start_wall: float) -> None:
    """One dispatcher process: run until nothing is due, on the shared clock."""
    settings = Settings(**json.loads(Path(settings_file).read_text()))
    reset_settings(settings)
    engine = create_db_engine(settings.database_url)

    def clock() -> dt.datetime:
        return NOW + dt.timedelta(seconds=max(time.time() - start_wall, 0.0))

    time.sleep(max(start_wall - time.time(), 0.0))
    dispatcher = Dispatcher(engine, settings, workers=WORKERS_PER_PROCESS, clock=clock)
    asyncio.run(dispatcher.run(once=True))
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Both runs for each K; one line per run, then the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL URL")
    parser.add_argument("--processes", default="1,2,4", help="comma-separated K values")
    parser.add_argument("--messages", type=int, default=20_000, help="throughput run")
    parser.add_argument("--accounts", type=int, default=2, help="throughput run's accounts")
    parser.add_argument("--rate", type=float, default=300.0, help="rate run's segments/s")
    parser.add_argument("--seconds", type=float, default=60.0, help="rate run's length")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], float(args.child[1]))
        return
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("scale-out needs PostgreSQL: SQLite serialises writers on one machine")
    ks = [int(k) for k in args.processes.split(",")]
    print(f"{os.cpu_count()} cores; {WORKERS_PER_PROCESS} workers per process", file=sys.stderr)
    throughput: list[Outcome] = []
    limited: list[Outcome] = []
    with tempfile.TemporaryDirectory() as workdir, running_smsc() as smsc:
        for k in ks:
            free = {f"smsc{n}": _account(smsc, 10_000_000) for n in range(args.accounts)}
            with fresh_database(args.database_url, Path(workdir)) as url:
                outcome = _run(url, _settings(url, free), smsc, k, args.messages)
            throughput.append(outcome)
            print(
                f"throughput K={k}: {outcome.due:,} due in {outcome.elapsed:.1f} s, "
                f"{outcome.rate:,.0f} msg/s ({args.accounts} accounts); "
                f"lost {outcome.lost}, duplicates {outcome.duplicates}"
            )
            one = {"smsc0": _account(smsc, args.rate)}
            count = int(args.rate * args.seconds)
            with fresh_database(args.database_url, Path(workdir)) as url:
                outcome = _run(url, _settings(url, one), smsc, k, count)
            limited.append(outcome)
            error = (outcome.received_rate - args.rate) / args.rate * 100
            print(
                f"rate limit K={k}: {outcome.due:,} due; the SMSC received "
                f"{outcome.received_rate:,.1f} segments/s for {args.rate:,.0f} configured "
                f"({error:+.1f} %; {outcome.steady_rate:,.1f} after the first second's burst); "
                f"lost {outcome.lost}, duplicates {outcome.duplicates}"
            )
    base = throughput[0].rate
    parts = [f"K={o.processes} {o.rate:,.0f} msg/s (x{o.rate / base:.2f})" for o in throughput]
    worst = max(abs(o.received_rate - args.rate) / args.rate * 100 for o in limited)
    steady = max(abs(o.steady_rate - args.rate) / args.rate * 100 for o in limited)
    duplicates = sum(o.duplicates for o in throughput + limited)
    lost = sum(o.lost for o in throughput + limited)
    print(
        f"scaleout: {'; '.join(parts)}; rate error: max {worst:.1f} % "
        f"(after the first second: {steady:.1f} %); "
        f"duplicates: {duplicates}; lost: {lost}"
    )


if __name__ == "__main__":
    main()
