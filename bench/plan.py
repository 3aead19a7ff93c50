"""Benchmark of campaign planning against a raw bulk insert of the same rows.

    .venv/bin/python bench/plan.py [--contacts 1000000] [--database-url URL] [--profile]

Fills a fresh database (a temporary SQLite file, or a throw-away PostgreSQL schema) with N
synthetic contacts (French, Belgian and US numbers; most with SMS marketing consent; a few
suppressed), plans a personalised marketing campaign to all of them, then inserts the same
number of outbox-shaped rows untouched into a bare table. The ratio of the two rates is
what rendering, encoding, the policy and the unique outbox cost. The last line is

    plan: R msg/s; raw insert: S rows/s; ratio: X; peak RSS: M MB
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, Table, Text, insert

sys.path.insert(0, str(Path(__file__).parent))
from import_contacts import fresh_database

from textopt.campaigns.planning import plan_campaign
from textopt.campaigns.service import create_campaign
from textopt.config import Settings, reset_settings
from textopt.consent.ledger import GENESIS_HASH, event_hash
from textopt.consent.models import ConsentEvent, ConsentState, LedgerHead, Suppression
from textopt.consent.suppression import address_digest
from textopt.contacts.models import Contact
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)  # a Wednesday, 10:30 in Paris
FIRST = ["Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon", "Gabriel", "Zoé", "Noël"]
COUNTRIES = [
    ("FR", "+336", 8, "Europe/Paris", 80),
    ("BE", "+32470", 6, "Europe/Brussels", 10),
    ("US", "+1", 7, "America/New_York", 10),
]


def fill_contacts(engine: Engine, count: int, batch: int = 20_000) -> None:
    """Insert `count` contacts with consent states, in bulk (setup, not measured).

    One number in 200 sent STOP: it is on the suppression list, so planning checks every
    number against the list, as in any workspace that has been sending for a while.
    """
    rng = random.Random(11)
    key = b"bench"  # the benchmark's secret key
    weights = [c[4] for c in COUNTRIES]
    created = NOW - dt.timedelta(days=100)
    event_id, prev_hash = 0, GENESIS_HASH
    with engine.begin() as connection:
        for start in range(0, count, batch):
            contacts, states, stops, grants = [], [], [], []
            for n in range(start, min(start + batch, count)):
                country, prefix, digits, zone, _ = rng.choices(COUNTRIES, weights)[0]
                number = f"{prefix}{n % 10**digits:0{digits}d}"
                if country == "US":  # New York area codes, so the state is known
                    number = f"+1{(212, 646, 917)[n % 3]}{n % 10**digits:0{digits}d}"
                contacts.append(
                    {
                        "id": n + 1,
                        "phone": number,
                        "first_name": rng.choice(FIRST),
                        "country": country,
                        "timezones": [zone],
                        "attributes": {"city": "Lyon" if n % 3 else "Paris"},
                        "is_customer": n % 4 == 0,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                if n % 200 == 7:
                    stops.append(
                        {
                            "digest": address_digest(number, key=key),
                            "channel": "sms",
                            "reason": "keyword",
                        }
                    )
                if n % 10:  # 90% consent, each from its own ledger event
                    grants.append(n + 1)
            connection.execute(insert(Contact), contacts)
            # A real chain, written in bulk: the planner only trusts states the ledger backs.
            events = []
            for contact_id in grants:
                event_id += 1
                fields = {
                    "event_id": event_id,
                    "contact_id": contact_id,
                    "channel": "sms",
                    "purpose": "marketing",
                    "action": "granted",
                    "source": "form",
                    "occurred_at": created,
                    "recorded_at": created,
                    "consent_text_version": None,
                    "proof_digest": None,
                    "prev_hash": prev_hash,
                }
                prev_hash = event_hash(**fields)
                events.append({**fields, "id": fields.pop("event_id"), "hash": prev_hash})
                states.append(
                    {
                        "contact_id": contact_id,
                        "channel": "sms",
                        "purpose": "marketing",
                        "status": "granted",
                        "source": "form",
                        "since": created,
                        "event_id": event_id,
                    }
                )
            if events:
                connection.execute(insert(ConsentEvent), events)
                connection.execute(insert(ConsentState), states)
            if stops:
                connection.execute(insert(Suppression), stops)
        connection.execute(
            insert(LedgerHead), [{"id": 1, "last_event_id": event_id, "last_hash": prev_hash}]
        )


def raw_insert(engine: Engine, count: int, batch: int = 5_000) -> float:
    """Rows per second for the same number of outbox-shaped rows into a bare table."""
    table = Table(
        "bench_raw_outbox",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("contact_id", Integer),
        Column("body", Text),
        Column("status", Text),
        Column("reason", Text),
        Column("send_at", DateTime(timezone=True)),
        Column("idempotency_key", Text),
    )
    table.create(engine)
    body = "Léa, les soldes d'hiver commencent : -20% chez Boutique Lumiere !\nSTOP au 36111"
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, count, batch):
            rows = [
                {
                    "contact_id": n,
                    "body": body,
                    "status": "planned",
                    "reason": None,
                    "send_at": NOW,
                    "idempotency_key": f"c1-{n}",
                }
                for n in range(start, min(start + batch, count))
            ]
            connection.execute(insert(table), rows)
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the ratio line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--profile", action="store_true", help="print the planning hot spots")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database_url, Path(workdir)) as url,
    ):
        settings = Settings(database_url=url, secret_key="bench", brand_name="Boutique Lumiere")
        reset_settings(settings)
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        print(f"filling {args.contacts:,} contacts on {engine.dialect.name}…", file=sys.stderr)
        fill_contacts(engine, args.contacts)
        with session_scope(engine) as session:
            campaign = create_campaign(
                session,
                settings=settings,
                name="bench",
                template="{{ first_name }}, les soldes d'hiver commencent : -20% chez "
                "Boutique Lumiere à {{ attributes.city }} !",
                audience="all",
                sender_id="LUMIERE",
            )
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        with session_scope(engine) as session:
            if profiler:
                profiler.enable()
            report = plan_campaign(
                session, campaign=session.merge(campaign), settings=settings, now=NOW
            )
            if profiler:
                profiler.disable()
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        plan_rate = report.audience / elapsed
        raw_rate = raw_insert(engine, report.audience)
        engine.dispose()
    print(
        f"planned {report.audience:,} ({report.planned:,} to send, "
        f"{sum(report.blocked.values()):,} excluded) in {elapsed:.1f} s",
        file=sys.stderr,
    )
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    print(
        f"plan: {plan_rate:,.0f} msg/s; raw insert: {raw_rate:,.0f} rows/s; "
        f"ratio: {plan_rate / raw_rate:.2f}; peak RSS: {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
