"""Benchmark of campaign planning against a raw bulk insert of the same rows.

    .venv/bin/python bench/plan.py [--contacts 1000000] [--audience real|easy]
                                   [--variants personalised,value,links] [--database-url URL]
                                   [--profile] [--floor]

Fills a fresh database (a temporary SQLite file, or a throw-away PostgreSQL schema) with N
synthetic contacts (French, Belgian and US numbers; most with SMS marketing consent; a few
suppressed). The audience is as messy as a shop's by default: 3,000 distinct first names
with a skewed frequency (a few common, a long tail), 300 cities, a points balance and a
last-purchase date per person. `--audience easy` is the old uniform one (10 first names, 2
cities), kept only as a labelled extra.

Three campaigns are planned in turn to everyone (the outbox emptied between them):
`personalised` (first name and city), `value` (a per-person balance and date: almost every
text differs) and `links` (a tracked link: a distinct URL per recipient). Then the same
number of outbox-shaped rows, each with its own text, is inserted untouched into a bare
table: the ratio of the two rates is what rendering, encoding, the policy and the unique
outbox cost. One line per variant, then the summary for the worst variant:

    plan: R msg/s; raw insert: S rows/s; ratio: X; peak RSS: M MB
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import itertools
import pstats
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

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
from textopt.outbox.models import Message

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)  # a Wednesday, 10:30 in Paris
FIRST = ["Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon", "Gabriel", "Zoé", "Noël"]
_ROOTS = [
    "Jean",
    "Marie",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Inès",
    "Jules",
    "Manon",
    "Gabriel",
    "Zoé",
    "Noël",
    "Camille",
    "Lucas",
    "Emma",
    "Nathan",
    "Sarah",
    "Théo",
    "Jade",
    "Adam",
    "Alice",
    "Raphaël",
    "Lina",
    "Arthur",
    "Rose",
    "Paul",
    "Anna",
    "Tom",
    "Éva",
    "Sacha",
    "Nina",
    "Mathis",
    "Lou",
    "Nolan",
    "Mila",
    "Ethan",
    "Julia",
    "Maël",
    "Ambre",
    "Kylian",
    "Agathe",
    "Bastien",
    "Céline",
    "Damien",
    "Élodie",
    "François",
    "Gaëlle",
    "Hélène",
]
_ENDS = ["", "-Marie", "-Pierre", "ine", "ette", "o", "an", "ia", "elle", "y", "ou", "é"]
_TOWNS = [
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Nice",
    "Nantes",
    "Strasbourg",
    "Lille",
    "Bordeaux",
    "Rennes",
    "Reims",
    "Dijon",
    "Angers",
    "Nîmes",
    "Brest",
    "Tours",
    "Metz",
    "Besançon",
    "Orléans",
    "Rouen",
    "Caen",
    "Nancy",
    "Avignon",
    "Pau",
    "Colmar",
    "Annecy",
]
_PLACES = ["Saint-", "Sainte-", "Villeneuve-", "Bourg-", "Mont-", "Pont-", ""]
_SUFFIXES = ["", "-sur-Mer", "-les-Bains", "-en-Provence", "-la-Forêt", "-du-Lac"]
COUNTRIES = [
    ("FR", "+336", 8, "Europe/Paris", 80),
    ("BE", "+32470", 6, "Europe/Brussels", 10),
    ("US", "+1", 7, "America/New_York", 10),
]


def _skewed(values: list[str]) -> list[float]:
    """Zipf-like weights: the first values common, a long tail of rare ones."""
    return [1 / (rank + 1) ** 1.07 for rank in range(len(values))]


def real_names(count: int = 3_000) -> list[str]:
    """`count` distinct first names, common ones first (compound and varied spellings)."""
    names: list[str] = []
    for end in _ENDS:
        for root in _ROOTS:
            for other in ["", *_ROOTS]:
                name = f"{root}{end}" if not other else f"{root}-{other}"
                if name not in names:
                    names.append(name)
                if len(names) == count:
                    return names
    return names


def real_cities(count: int = 300) -> list[str]:
    """`count` distinct town names, big ones first."""
    cities = list(_TOWNS)
    for suffix in _SUFFIXES:
        for place in _PLACES:
            for town in _TOWNS:
                city = f"{place}{town}{suffix}"
                if city not in cities:
                    cities.append(city)
                if len(cities) == count:
                    return cities
    return cities


def fill_contacts(
    engine: Engine, count: int, batch: int = 20_000, *, audience: str = "real"
) -> None:
    """Insert `count` contacts with consent states, in bulk (setup, not measured).

    One number in 200 sent STOP: it is on the suppression list, so planning checks every
    number against the list, as in any workspace that has been sending for a while. The
    `real` audience has skewed first names and cities and per-person values; `easy` is the
    uniform one (10 names, 2 cities).
    """
    rng = random.Random(11)
    names, cities = real_names(), real_cities()
    name_weights = list(itertools.accumulate(_skewed(names)))
    city_weights = list(itertools.accumulate(_skewed(cities)))
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
                if audience == "easy":
                    first = rng.choice(FIRST)
                    attributes: dict[str, object] = {"city": "Lyon" if n % 3 else "Paris"}
                else:
                    first = rng.choices(names, cum_weights=name_weights)[0]
                    bought = NOW.date() - dt.timedelta(days=int(rng.expovariate(1 / 120)))
                    attributes = {
                        "city": rng.choices(cities, cum_weights=city_weights)[0],
                        "points": int(rng.expovariate(1 / 400)),
                        "last_purchase": bought.strftime("%d/%m/%Y"),
                    }
                contacts.append(
                    {
                        "id": n + 1,
                        "phone": number,
                        "first_name": first,
                        "country": country,
                        "timezones": [zone],
                        "attributes": attributes,
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


#: The campaigns planned in turn: (template, tracked links).
VARIANTS: dict[str, tuple[str, bool]] = {
    "personalised": (
        "{{ first_name }}, les soldes d'hiver commencent : -20% chez Boutique Lumiere à "
        "{{ attributes.city | default('votre ville') }} !",
        False,
    ),
    "value": (
        "{{ first_name }}, vos {{ attributes.points | default(0) }} points vous attendent chez "
        "Boutique Lumiere (dernier achat le {{ attributes.last_purchase | default('-') }}) : "
        "-20% ce week-end !",
        False,
    ),
    "links": (
        "{{ first_name }}, -20% chez Boutique Lumiere ce week-end : "
        "https://boutique-lumiere.example/soldes-hiver",
        True,
    ),
}


def raw_insert(engine: Engine, count: int, batch: int = 5_000) -> tuple[float, float]:
    """Rows per second for the same number of outbox-shaped rows into a bare table, and
    per CPU second of the process.

    Each row has its own text, as a personalised campaign's rows do.
    """
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
    body = "{n}, les soldes d'hiver commencent : -20% chez Boutique Lumiere !\nSTOP au 36111"
    started, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as connection:
        for start in range(0, count, batch):
            rows = [
                {
                    "contact_id": n,
                    "body": body.format(n=n),
                    "status": "planned",
                    "reason": None,
                    "send_at": NOW,
                    "idempotency_key": f"c1-{n}",
                }
                for n in range(start, min(start + batch, count))
            ]
            connection.execute(insert(table), rows)
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def outbox_write(engine: Engine) -> float:
    """Rows per second of the outbox write alone: the rows just planned copied back into
    the outbox (its indexes, unique keys and foreign keys) by one `INSERT … SELECT`, with
    no Python and no driver in the way: what no planning can beat."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE bench_outbox_copy AS SELECT * FROM messages")
        count = connection.exec_driver_sql("SELECT count(*) FROM bench_outbox_copy").scalar()
        connection.execute(delete(Message))
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO messages SELECT * FROM bench_outbox_copy")
    elapsed = time.perf_counter() - started
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bench_outbox_copy")
    return int(count or 0) / elapsed


def plan_variant(
    engine: Engine, settings: Settings, name: str, *, profile: bool, floor: bool = False
) -> tuple[int, float, float, int]:
    """Plan one variant's campaign to everyone; (audience, seconds, CPU seconds of the
    process (every thread), distinct texts)."""
    template, track_links = VARIANTS[name]
    with session_scope(engine) as session:
        session.execute(delete(Message))  # each variant starts from an empty outbox
        campaign = create_campaign(
            session,
            settings=settings,
            name=f"bench {name}",
            template=template,
            audience="all",
            sender_id="LUMIERE",
            track_links=track_links,
        )
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        if profiler:
            profiler.enable()
        report = plan_campaign(
            session, campaign=session.merge(campaign), settings=settings, now=NOW
        )
        if profiler:
            profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with session_scope(engine) as session:
        texts = session.scalar(select(func.count(func.distinct(Message.body))))
    print(
        f"  {name}: planned {report.audience:,} ({report.planned:,} to send, "
        f"{sum(report.blocked.values()):,} excluded) in {elapsed:.1f} s ({cpu:.1f} s CPU)",
        file=sys.stderr,
    )
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    if floor:
        rate = outbox_write(engine)
        print(
            f"  {name}: the outbox write alone: {rate:,.0f} rows/s; planning reaches "
            f"{report.audience / elapsed / rate:.2f} of it",
            file=sys.stderr,
        )
    return report.audience, elapsed, cpu, int(texts or 0)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark: a line per variant, then the summary of the worst."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--audience", choices=("real", "easy"), default="real")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--profile", action="store_true", help="print the planning hot spots")
    parser.add_argument(
        "--floor", action="store_true", help="also time the outbox write alone, per variant"
    )
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose among {', '.join(VARIANTS)}")
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database_url, Path(workdir)) as url,
    ):
        settings = Settings(
            database_url=url,
            secret_key="bench",
            brand_name="Boutique Lumiere",
            sender_ids=["LUMIERE"],
        )
        reset_settings(settings)
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        print(
            f"filling {args.contacts:,} contacts ({args.audience} audience) on "
            f"{engine.dialect.name}…",
            file=sys.stderr,
        )
        fill_contacts(engine, args.contacts, audience=args.audience)
        results = {
            name: plan_variant(engine, settings, name, profile=args.profile, floor=args.floor)
            for name in variants
        }
        raw_rate, raw_cpu_rate = raw_insert(
            engine, max(audience for audience, _, _, _ in results.values())
        )
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    label = "" if args.audience == "real" else " (easy audience)"
    rates = {}
    for name, (audience, elapsed, cpu, texts) in results.items():
        rates[name] = audience / elapsed
        # per CPU second: steadier than the wall clock on a machine others share
        print(
            f"variant {name}{label}: {rates[name]:,.0f} msg/s; ratio: "
            f"{rates[name] / raw_rate:.2f}; per CPU second: {audience / cpu:,.0f} msg "
            f"(ratio {audience / cpu / raw_cpu_rate:.2f}); distinct texts: {texts:,}"
        )
    worst = min(rates, key=lambda name: rates[name])
    print(
        f"plan: {rates[worst]:,.0f} msg/s; raw insert: {raw_rate:,.0f} rows/s; "
        f"ratio: {rates[worst] / raw_rate:.2f}; peak RSS: {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
