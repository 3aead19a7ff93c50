"""Benchmark of a STOP storm: MOs stored before they are acknowledged, then applied.

    .venv/bin/python bench/inbound.py [--mos 5000] [--database-url URL]

Starts the node SMSC of tests/smsc on loopback and a fresh database (temporary SQLite file,
or a throw-away PostgreSQL schema) holding N French contacts with consent, runs the
dispatcher bound to the SMSC, and has the SMSC deliver N MOs at once: a STOP from every
contact, as after a campaign that annoyed everyone. Each `deliver_sm_resp` leaves only once
the MO is committed; each STOP is then applied (ledger revocation, suppression, the one
confirmation queued). Then the same storm goes to an SMPP provider whose sink stores
nothing, on the same SMSC: the wire limit of MOs. The last line is

    inbound: R MO/s acknowledged after commit; applied: A MO/s; wire: W MO/s; ratio: X; lost: N

`lost` counts MOs the SMSC saw acknowledged that are not stored, or stored and not applied.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import plan
from import_contacts import fresh_database
from tests.servers.smsc import Smsc, running_smsc, smpp_account

from textopt.config import Settings, reset_settings
from textopt.contacts.models import Contact
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata
from textopt.dispatch.worker import Dispatcher
from textopt.inbound.models import InboundMessage
from textopt.providers import Receipt, build_provider
from textopt.providers.mo import InboundSms
from textopt.providers.smpp import SmppProvider

NOW = plan.NOW


def _storm(numbers: Sequence[str]) -> list[dict[str, object]]:
    return [{"from": n.removeprefix("+"), "text": "STOP", "source_addr_ton": 1} for n in numbers]


def _wait(check: Callable[[], bool], what: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


async def stored_and_applied(url: str, smsc: Smsc, numbers: list[str]) -> tuple[float, float]:
    """The storm through the dispatcher; (acknowledged MO/s, applied MO/s)."""
    account = smpp_account(smsc, window=64, timeout=30, database_url=url)
    settings = Settings(
        database_url=url,
        secret_key="bench",
        brand_name="Boutique Lumiere",
        providers={"smsc": account},
        default_provider="smsc",
    )
    reset_settings(settings)
    engine = create_db_engine(url)
    at = NOW + dt.timedelta(seconds=1)
    dispatcher = Dispatcher(engine, settings, clock=lambda: at, poll_interval=0.05)
    running = asyncio.create_task(dispatcher.run())
    await asyncio.to_thread(_wait, lambda: bool(smsc.state()["sessions"]), "the bind")
    started = time.perf_counter()
    await asyncio.to_thread(smsc.send_mos, _storm(numbers))
    count = len(numbers)
    await asyncio.to_thread(
        _wait, lambda: len(smsc.mo_acks()["acked"]) >= count, "the acknowledgements"
    )
    acknowledged = time.perf_counter() - started
    await asyncio.to_thread(_wait, lambda: dispatcher.stats.inbound >= count, "the STOPs")
    applied = time.perf_counter() - started
    dispatcher.stop()
    await running
    engine.dispose()
    return count / acknowledged, count / applied


async def wire(smsc: Smsc, numbers: list[str]) -> float:
    """The same storm to a provider whose sink keeps nothing: MO/s."""
    provider = build_provider("smsc", smpp_account(smsc, window=64, timeout=30))
    assert isinstance(provider, SmppProvider)
    got: list[int] = []

    async def sink(items: Sequence[Receipt | InboundSms]) -> None:
        got.append(len(items))

    await provider.start(sink)
    await asyncio.to_thread(_wait, lambda: bool(smsc.state()["sessions"]), "the bind")
    started = time.perf_counter()
    await asyncio.to_thread(smsc.send_mos, _storm(numbers))
    await asyncio.to_thread(
        _wait, lambda: len(smsc.mo_acks()["acked"]) >= len(numbers), "the acknowledgements"
    )
    rate = len(numbers) / (time.perf_counter() - started)
    await provider.stop()
    return rate


def main(argv: list[str] | None = None) -> None:
    """Run both measurements against one SMSC and print the ratio line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mos", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database_url, Path(workdir)) as url,
        running_smsc() as smsc,
    ):
        engine = create_db_engine(url)
        load_metadata().create_all(engine)
        print(f"filling {args.mos:,} contacts on {engine.dialect.name}…", file=sys.stderr)
        plan.fill_contacts(engine, args.mos)
        with session_scope(engine) as session:
            numbers = [p for p in session.scalars(select(Contact.phone)) if p]
        rate, applied_rate = asyncio.run(stored_and_applied(url, smsc, numbers))
        acked = {"+" + a["from"] for a in smsc.mo_acks()["acked"]}
        with session_scope(engine) as session:
            stored = set(session.scalars(select(InboundMessage.sender)))
            unapplied = session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.handled_at.is_(None))
            )
        engine.dispose()
        smsc.reset()
        wire_rate = asyncio.run(wire(smsc, numbers))
    lost = len(acked - stored) + int(unapplied or 0)
    print(
        f"inbound: {rate:,.0f} MO/s acknowledged after commit; applied: {applied_rate:,.0f} "
        f"MO/s; wire: {wire_rate:,.0f} MO/s; ratio: {rate / wire_rate:.2f}; lost: {lost}"
    )


if __name__ == "__main__":
    main()
