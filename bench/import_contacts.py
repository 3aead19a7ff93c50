"""Benchmark of `textopt contacts import` against a raw bulk insert of the same rows.

    .venv/bin/python bench/import_contacts.py [--rows 200000] [--database-url URL]
        [--batch-size 5000] [--profile]

Generates a French-style CSV (`;`, UTF-8 with BOM, consent columns, a few bad rows), imports
it into a fresh database (a temporary SQLite file, or a throw-away schema on PostgreSQL), then
reads the same file and bulk-inserts its rows untouched into a bare table: the gap between
the two rates is what validation, upsert, tags and the consent ledger cost. The last line is

    import: R rows/s; raw insert: S rows/s; ratio: X; peak RSS: M MB

where the ratio is R / S (1.0 would mean the import costs no more than a bare insert).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from sqlalchemy import Column, Engine, MetaData, Table, Text, insert, text

from textopt.config import Settings, reset_settings
from textopt.contacts.importer import import_contacts
from textopt.db.engine import create_db_engine
from textopt.db.registry import load_metadata

FIRST = ["Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon", "Gabriel", "Zoé", "Noël"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Müller", "Lefèvre"]
HEADER = [
    "téléphone", "prénom", "nom", "email", "tags", "ville", "consent_sms_marketing",
    "consent_at", "consent_source", "consent_text_version", "consent_ip",
]  # fmt: skip


def write_rows(path: Path, rows: int, seed: int = 7, *, with_consent: bool = True) -> None:
    """A `;`-separated UTF-8-with-BOM file; about 1 row in 200 is invalid."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for n in range(rows):
            digits = f"{10_000_000 + n:08d}"
            phone = f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
            if n % 200 == 199:
                phone = phone[:8]  # too short
            first, last = rng.choice(FIRST), rng.choice(LAST)
            consent = ["oui", f"{rng.randint(1, 28):02d}/03/2024 10:{n % 60:02d}", "form",
                       "sms-fr-v1", f"198.51.100.{n % 250}"]  # fmt: skip
            if n % 10 == 0 or not with_consent:
                consent = ["", "", "", "", ""]
            writer.writerow(
                [
                    phone,
                    first,
                    last,
                    f"c{n}@example.fr",
                    "vip|promo" if n % 3 else "promo",
                    f"ville-{n % 50}",
                    *consent,
                ]
            )


@contextmanager
def fresh_database(url: str | None, workdir: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file in `workdir` or a new PostgreSQL schema."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite:///{workdir / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def raw_insert(engine: Engine, path: Path, batch_size: int) -> int:
    """Read the same file and insert its cells untouched into a bare table, batch by batch."""
    metadata = MetaData()
    table = Table("bench_raw", metadata, *(Column(f"c{i}", Text) for i in range(len(HEADER))))
    metadata.create_all(engine)
    statement = insert(table)
    total = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        while batch := list(islice(reader, batch_size)):
            with engine.begin() as connection:
                connection.execute(
                    statement, [{f"c{i}": v for i, v in enumerate(row)} for row in batch]
                )
            total += len(batch)
    return total


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="print the import's hot spots")
    parser.add_argument(
        "--without-consent", action="store_true", help="leave the consent columns empty"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        workdir = Path(tmp)
        settings = Settings(database_url=url, secret_key="bench", default_region="FR")
        reset_settings(settings)
        source = workdir / "contacts.csv"
        started = time.perf_counter()
        write_rows(source, args.rows, with_consent=not args.without_consent)
        print(f"generated {args.rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = import_contacts(engine, settings=settings, path=source, batch_size=args.batch_size)
        if profiler:
            profiler.disable()
        import_seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"import: {report.created} created, {report.rejected_total} rejected, "
            f"{report.consents_recorded} consents in {import_seconds:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        raw_rows = raw_insert(engine, source, args.batch_size)
        raw_seconds = time.perf_counter() - started
        engine.dispose()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    import_rate = report.rows_read / import_seconds
    raw_rate = raw_rows / raw_seconds
    print(
        f"import: {import_rate:,.0f} rows/s; raw insert: {raw_rate:,.0f} rows/s; "
        f"ratio: {import_rate / raw_rate:.3f}; peak RSS: {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
