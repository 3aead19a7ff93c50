"""The multipart parts store: written in bulk, read by index, purged once receipts are long due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, event, insert, select
from tests.servers.smsc import Smsc, run_provider

from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.providers import OutboundMessage, Receipt
from textopt.providers.models import SmsPart
from textopt.providers.smpp import SmppProvider
from textopt.providers.smpp_store import (
    StoredPart,
    find_parts,
    mark_parts,
    purge_parts,
    save_parts,
)

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
LONG_GSM = "Soldes d'hiver chez Boutique : -20% sur tout le magasin jusqu'a dimanche. " * 4


def _parts(key: str, count: int) -> list[StoredPart]:
    return [StoredPart(f"{key}-{i}", key, i, count, None, None) for i in range(1, count + 1)]


def _old_parts(
    engine: Engine, account: str, key: str, *, age: dt.timedelta, now: dt.datetime = NOW
) -> None:
    with session_scope(engine) as s:
        s.execute(
            insert(SmsPart),
            [
                {
                    "account": account,
                    "part_id": p.part_id,
                    "message_key": key,
                    "part_index": p.part_index,
                    "total": p.total,
                    "created_at": now - age,
                }
                for p in _parts(key, 2)
            ],
        )


def test_parts_are_marked_in_one_statement_and_found_from_any_part(engine: Engine) -> None:
    with session_scope(engine) as s:
        save_parts(s, account="a", parts=_parts("m1", 3) + _parts("m2", 2))
        save_parts(s, account="b", parts=_parts("m1", 2))  # same ids, another account
    statements: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with session_scope(engine) as s:
            mark_parts(
                s,
                account="a",
                outcomes=[("m1-1", "DELIVRD", None), ("m1-3", "UNDELIV", "0x45")],
            )
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert sum(st.lstrip().startswith("UPDATE") for st in statements) == 1

    with session_scope(engine) as s:
        found = find_parts(s, account="a", part_ids=["m1-2"])
    assert list(found) == ["m1"]
    by_index = {p.part_index: (p.stat, p.error_code) for p in found["m1"]}
    assert by_index == {1: ("DELIVRD", None), 2: (None, None), 3: ("UNDELIV", "0x45")}
    with session_scope(engine) as s:
        assert {p.stat for p in find_parts(s, account="b", part_ids=["m1-1"])["m1"]} == {None}


def test_purging_forgets_only_old_parts_of_that_account(engine: Engine) -> None:
    _old_parts(engine, "a", "old", age=dt.timedelta(days=8))
    _old_parts(engine, "a", "recent", age=dt.timedelta(days=1))
    _old_parts(engine, "b", "other", age=dt.timedelta(days=8))
    with session_scope(engine) as s:
        assert purge_parts(s, account="a", before=NOW - dt.timedelta(days=7)) == 2
    with session_scope(engine) as s:
        left = set(s.scalars(select(SmsPart.message_key)))
    assert left == {"recent", "other"}


def test_the_provider_purges_parts_past_their_keep_days_as_it_stores_new_ones(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    now = dt.datetime.now(dt.UTC)
    _old_parts(engine, "smpp-test", "last-month", age=dt.timedelta(days=30), now=now)
    _old_parts(engine, "smpp-test", "yesterday", age=dt.timedelta(days=1), now=now)

    async def send(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await provider.submit([OutboundMessage(1, "key-1", "+33600000001", LONG_GSM)])

    run_provider(smsc, send, database_url=settings.database_url, parts_keep_days=7)
    with session_scope(engine) as s:
        kept = sorted(s.scalars(select(SmsPart.message_key)))
    assert kept.count("yesterday") == 2
    assert "last-month" not in kept
    assert len(kept) == 4  # and the new message's two parts
