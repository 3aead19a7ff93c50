"""Benchmark of dispatch through one SMPP bind against a bare pipelined SMPP client.

    .venv/bin/python bench/dispatch.py [--messages 100000] [--window 64] [--workers 2]
                                       [--database-url URL] [--receipts]

Starts the node SMSC of tests/smsc on loopback, fills a fresh database (temporary SQLite
file, or a throw-away PostgreSQL schema) with N French contacts with consent, launches a
campaign to them, and dispatches it through one SMPP bind with the given window: claims,
policy re-checks, `submit_sm` and `submit_sm_resp`, statuses persisted. Then a bare
pipelined client (pre-encoded `submit_sm`, same window, nothing else) sends N PDUs to the
same SMSC: the wire limit. The last line is

    dispatch: R msg/s; wire limit: S msg/s; ratio: X; lost: N; duplicates: N

`lost` counts due messages the SMSC never accepted or the outbox does not show submitted;
`duplicates` counts recipients the SMSC accepted more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

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
from textopt.providers.smpp_pdu import HEADER, SubmitFields, build_submit_sm, with_sequence

NOW = plan.NOW  # a Wednesday morning in Paris: every French contact is due


class _BareClient(asyncio.Protocol):
    """The wire limit: bind, then keep `window` submit_sm in flight, nothing else."""

    def __init__(self, pdus: list[bytes], window: int, done: asyncio.Future[float]) -> None:
        self.pdus = pdus
        self.window = window
        self.done = done
        self.sent = 0
        self.answered = 0
        self.buffer = bytearray()
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        body = b"textopt\x00secret\x00\x00\x34\x00\x00\x00"
        transport.write(HEADER.pack(16 + len(body), 0x09, 0, 1) + body)

    def _send(self, count: int) -> None:
        assert self.transport is not None
        end = min(self.sent + count, len(self.pdus))
        self.transport.write(b"".join(self.pdus[self.sent : end]))
        self.sent = end

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        offset, answered = 0, 0
        while len(self.buffer) - offset >= 16:
            length, command, status, _ = HEADER.unpack_from(self.buffer, offset)
            if len(self.buffer) - offset < length:
                break
            offset += length
            if command == 0x80000009:
                assert status == 0, f"bind refused: {status:#x}"
                self.started = time.perf_counter()
                self._send(self.window)
            elif command == 0x80000004:
                answered += 1
        del self.buffer[:offset]
        self.answered += answered
        if answered:
            self._send(answered)
        if self.answered == len(self.pdus) and not self.done.done():
            self.done.set_result(len(self.pdus) / (time.perf_counter() - self.started))


async def wire_limit(port: int, count: int, window: int) -> float:
    """Messages per second of the bare pipelined client."""
    fields = SubmitFields(5, 0, 1, 1)
    template = build_submit_sm(
        fields,
        source="LUMIERE",
        destination="33600000000",
        short_message=b"Les soldes commencent : -20% chez Boutique Lumiere. STOP au 36111",
        data_coding=0,
    )
    pdus = [with_sequence(template, n + 2) for n in range(count)]
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    transport, _ = await loop.create_connection(
        lambda: _BareClient(pdus, window, done), "127.0.0.1", port
    )
    try:
        return await done
    finally:
        transport.close()


def fill_french_contacts(url: str, count: int) -> None:
    """N contacts with SMS consent, all in France so that all are due now (not measured)."""
    plan.COUNTRIES = [("FR", "+336", 8, "Europe/Paris", 100)]
    plan.fill_contacts(create_db_engine(url), count)


def main(argv: list[str] | None = None) -> None:
    """Run both measurements against one SMSC and print the ratio line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="dispatcher workers (one bind)")
    parser.add_argument("--batch", type=int, default=1000, help="messages per claim")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--receipts", action="store_true", help="the SMSC sends receipts too")
    parser.add_argument(
        "--breakdown", action="store_true", help="print the database work per message by statement"
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database_url, Path(workdir)) as url,
        running_smsc() as smsc,
    ):
        smsc.configure(record=False, receipts="after" if args.receipts else "none")
        dispatch_rate, due, submitted, delivered = run_dispatch(url, smsc, args)
        summary = smsc.summary()
        smsc.reset()
        smsc.configure(record=False, receipts="none")
        wire_rate = asyncio.run(wire_limit(smsc.port, args.messages, args.window))
    lost = max(due - summary["distinct_destinations"], due - submitted, 0)
    print(
        f"dispatched {due:,} due messages ({submitted:,} submitted, {delivered:,} of them "
        f"delivered by a receipt; SMSC accepted {summary['accepted']:,}) with window "
        f"{args.window}, {args.workers} worker(s)",
        file=sys.stderr,
    )
    print(
        f"dispatch: {dispatch_rate:,.0f} msg/s; wire limit: {wire_rate:,.0f} msg/s; "
        f"ratio: {dispatch_rate / wire_rate:.2f}; lost: {lost}; "
        f"duplicates: {summary['duplicates']}"
    )


def _time_database_thread(dispatcher: Dispatcher) -> list[float]:
    """[CPU seconds, wall seconds] of the jobs run in the dispatcher's database thread.

    CPU time counts only what the thread itself ran, so it holds on a machine busy with
    other work, where rates and wall times do not.
    """
    spent = [0.0, 0.0]
    run = dispatcher.database.run

    async def timed(work: Callable[[], Any]) -> Any:
        def job() -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return work()
            finally:
                spent[0] += time.thread_time() - cpu
                spent[1] += time.perf_counter() - wall

        return await run(job)

    dispatcher.database.run = timed  # type: ignore[method-assign]
    return spent


#: What a statement is, by a piece of its text (the first that matches).
_KINDS = (
    ("rate_buckets", "rate bucket (select, update)"),
    ("UPDATE messages SET status = 'submitted'", "acceptances' UPDATE"),
    ("UPDATE messages SET status=", "mark `sending` UPDATE"),
    ("json_group_array", "claim SELECT (with the re-check's columns)"),
    ("FOR UPDATE OF messages SKIP LOCKED", "claim SELECT (with the re-check's columns)"),
    ("suppressions", "re-check: suppression lookup"),
    ("webhook", "webhook and waiting-receipt check"),
    ("campaigns", "housekeeping and campaign state"),
)


def _statement_times(engine: Any) -> dict[str, float]:
    """Wall seconds spent in each kind of statement (from execute to its answer) and in
    commits, summed over the run's database threads."""
    spent: dict[str, float] = {}
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        kind = next((name for text, name in _KINDS if text in statement), None)
        if kind is None:
            kind = "other: " + " ".join(statement.split()[:4])[:60]
        spent[kind] = spent.get(kind, 0.0) + took

    def commit(conn: Any) -> None:
        conn.info["commit_started"] = time.perf_counter()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "commit", commit)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        # the pool resets a connection as it comes back, right after its commit
        at = record.info.pop("commit_started", None) if hasattr(record, "info") else None
        if at is not None:
            spent["commit"] = spent.get("commit", 0.0) + time.perf_counter() - at

    return spent


def _print_breakdown(spent: dict[str, float], busy: float, per: float) -> None:
    """The database threads' wall time per message, by statement kind, then the rest."""
    print("database work per message (wall time in the database threads):", file=sys.stderr)
    for kind, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds * per >= 0.05:
            print(f"  {seconds * per:6.1f} µs  {kind}", file=sys.stderr)
    rest = busy - sum(spent.values())
    print(f"  {rest * per:6.1f} µs  Python between statements (rows, re-check)", file=sys.stderr)


def run_dispatch(url: str, smsc: Smsc, args: argparse.Namespace) -> tuple[float, int, int, int]:
    """Fill, launch, dispatch; returns (rate, due messages, submitted, delivered)."""
    account = {
        "kind": "smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "textopt",
        "password": "secret",
        "window": args.window,
        "rate": 10_000_000,  # the bucket must not be the limit here
        "timeout": 30,
    }
    settings = Settings(
        database_url=url,
        secret_key="bench",
        brand_name="Boutique Lumiere",
        sender_ids=["LUMIERE"],
        providers={"smsc": account},
        default_provider="smsc",
        dispatch_batch_size=args.batch,
    )
    reset_settings(settings)
    engine = create_db_engine(url)
    load_metadata().create_all(engine)
    print(f"filling {args.messages:,} contacts on {engine.dialect.name}…", file=sys.stderr)
    fill_french_contacts(url, args.messages)
    with session_scope(engine) as session:
        campaign = campaigns.create_campaign(
            session,
            settings=settings,
            name="bench",
            template="Les soldes commencent : -20% chez Boutique Lumiere.",
            audience="all",
            sender_id="LUMIERE",
        )
        campaigns.launch(session, campaign=campaign, settings=settings, now=NOW)
    with session_scope(engine) as session:
        due = session.scalar(
            select(func.count()).where(Message.status == "planned", Message.send_at <= NOW)
        )
    at = NOW + dt.timedelta(seconds=1)
    dispatcher = Dispatcher(engine, settings, workers=args.workers, clock=lambda: at)
    database_cpu = _time_database_thread(dispatcher)
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    breakdown = _statement_times(engine) if args.breakdown else None
    cpu = time.process_time()
    started = time.perf_counter()
    asyncio.run(dispatcher.run(once=True))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    per = 1e6 / max(due or 0, 1)
    print(
        f"CPU per message: {cpu * per:.1f} µs in all (database thread {database_cpu[0] * per:.1f} "
        f"µs, busy {database_cpu[1] / elapsed:.0%} of the run); "
        f"{statements[0] * 1000 * per / 1e6:.0f} statements per 1,000 messages",
        file=sys.stderr,
    )
    if breakdown is not None:
        _print_breakdown(breakdown, database_cpu[1], per)
    with session_scope(engine) as session:
        submitted = session.scalar(
            select(func.count()).where(Message.status.in_(["submitted", "delivered"]))
        )
        delivered = session.scalar(select(func.count()).where(Message.status == "delivered"))
    engine.dispose()
    return (due or 0) / elapsed, int(due or 0), int(submitted or 0), int(delivered or 0)


if __name__ == "__main__":
    main()
