"""Benchmark of `textopt events import` and of `event:` segment counts.

    .venv/bin/python bench/events.py [--contacts 20000] [--events 100000] [--database-url URL]

Generates a shop's export of past orders (`;`, numbers in national notation, a customer's
number on each of their orders, three properties), imports it into a fresh database (a
temporary SQLite file, or a throw-away schema on PostgreSQL) next to a raw bulk insert of the
same rows into a bare table, imports it again (every row already recorded), then counts
`event:` segments after the database's statistics are refreshed. The last line is

    import: R rows/s; raw insert: S rows/s; ratio: X; again: A rows/s; counts: C ms (worst)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from import_contacts import fresh_database
from sqlalchemy import insert, text

from textopt.accounts.service import Actor
from textopt.campaigns.segments import count_audience
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata
from textopt.events.importer import import_events

TYPES = ["order_shipped", "order_delivered", "visit", "review_left"]
FILTERS = [
    "event:order_shipped",
    "event:order_shipped within 7d",
    "consent:sms and event:order_delivered within 3d and not event:review_left",
    "event:order_shipped within 24h and not event:visit within 30d",
]
OPERATOR = Actor("cli", None, "cli:bench", frozenset())


def _national(n: int) -> str:
    digits = f"{10_000_000 + n:08d}"
    return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def write_events(path: Path, *, contacts: int, events: int, now: dt.datetime) -> None:
    """Past events of `contacts` customers over 90 days, a few customers ordering often."""
    rng = random.Random(11)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["téléphone", "type", "occurred_at", "order", "total", "carrier"])
        for n in range(events):
            who = min(int(rng.paretovariate(1.2)) - 1, contacts - 1)
            who = (who * 7919 + n % 3) % contacts if n % 2 else rng.randrange(contacts)
            at = now - dt.timedelta(seconds=rng.randrange(90 * 86_400))
            writer.writerow(
                [_national(who), rng.choice(TYPES), at.isoformat(timespec="seconds"),
                 f"A-{n}", f"{rng.randrange(500, 20_000) / 100:.2f}", "La Poste"]
            )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    now = utcnow()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        source = Path(tmp) / "orders.csv"
        write_events(source, contacts=args.contacts, events=args.events, now=now)
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        with session_scope(engine) as s:
            s.execute(
                insert(Contact),
                [
                    {"phone": "+336" + _national(i)[3:].replace(" ", ""), "timezones": [],
                     "attributes": {}}
                    for i in range(args.contacts)
                ],
            )  # fmt: skip
        timings: dict[str, float] = {}
        for run in ("import", "again"):
            started = time.perf_counter()
            with session_scope(engine) as s:
                report = import_events(
                    s, path=source, default_region="FR", secret=b"bench" * 8, actor=OPERATOR,
                    now=now,
                )  # fmt: skip
            timings[run] = time.perf_counter() - started
            assert report.committed, report.errors[:3]
            print(f"{run}: {report.recorded} recorded, {report.already_recorded} already "
                  f"recorded in {timings[run]:.1f} s", flush=True)  # fmt: skip
        started = time.perf_counter()
        with source.open(encoding="utf-8", newline="") as handle, engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_raw (a TEXT, b TEXT, c TEXT, d TEXT, "
                                    "e TEXT, f TEXT)"))  # fmt: skip
            rows = list(csv.reader(handle, delimiter=";"))[1:]
            for start in range(0, len(rows), 1_000):
                connection.execute(
                    text("INSERT INTO bench_raw VALUES (:a, :b, :c, :d, :e, :f)"),
                    [dict(zip("abcdef", row, strict=True)) for row in rows[start : start + 1_000]],
                )
        timings["raw"] = time.perf_counter() - started
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        worst = 0.0
        for text_filter in FILTERS:
            with session_scope(engine) as s:
                started = time.perf_counter()
                count = count_audience(s, filter=text_filter, now=now)
                took = (time.perf_counter() - started) * 1000
            worst = max(worst, took)
            print(f"{count:>7} contacts  {took:6.0f} ms  {text_filter}", flush=True)
        engine.dispose()
    rate = args.events / timings["import"]
    raw = args.events / timings["raw"]
    print(
        f"import: {rate:,.0f} rows/s; raw insert: {raw:,.0f} rows/s; ratio: {rate / raw:.3f}; "
        f"again: {args.events / timings['again']:,.0f} rows/s; counts: {worst:.0f} ms (worst)"
    )


if __name__ == "__main__":
    main()
