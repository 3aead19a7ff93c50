"""The dispatcher's hot statements are served by the partial indexes, on both databases.

The claim, the count of due messages and lease recovery name their states as literals so
that a partial index (which holds only the messages in those states) can serve them; a
bound parameter there would send the database through every message of the account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.lifecycle import complete_finished_campaigns
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.engine import session_scope
from textopt.dispatch.claim import claim_batch, due_count
from textopt.dispatch.recovery import recover_stale
from textopt.eligibility import workspace_policy

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _plan_of(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # an index it can use, it then uses
            cursor.execute("EXPLAIN " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = " | ".join(str(row) for row in cursor.fetchall())
        connection.rollback()
    return plan


def _plan_when(engine: Engine, run: Callable[[Session], Any], starts: str) -> str:
    with _statements(engine) as seen, session_scope(engine) as s:
        run(s)
    matching = [(sql, params) for sql, params in seen if sql.lstrip().startswith(starts)]
    assert matching, f"no statement starting with {starts!r} ran"
    return _plan_of(engine, *matching[0])


def _launch(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        for n in range(5):
            add_contact(s, f"+336123400{n:02d}")
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)


def test_the_claim_reads_due_messages_in_order_from_the_due_index(
    engine: Engine, campaign_settings: Settings
) -> None:
    _launch(engine, campaign_settings)

    def claim(s: Session) -> Any:
        return claim_batch(
            s,
            worker="w",
            provider="sandbox",
            rate=None,
            now=AT,
            limit=10,
            lease=dt.timedelta(seconds=60),
            workspace=workspace_policy(campaign_settings),
            digest=address_digester(campaign_settings.resolved_secret_key()),
        )

    plan = _plan_when(engine, claim, "SELECT")
    assert "ix_messages_due" in plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan  # read in order, never sorted


def test_counting_due_messages_and_recovering_leases_use_their_partial_indexes(
    engine: Engine, campaign_settings: Settings
) -> None:
    _launch(engine, campaign_settings)
    count = _plan_when(engine, lambda s: due_count(s, provider="sandbox", now=AT), "SELECT")
    assert "ix_messages_due" in count
    recover = _plan_when(engine, lambda s: recover_stale(s, now=AT), "SELECT")
    assert "ix_messages_sending" in recover


def test_finding_finished_campaigns_asks_the_open_messages_index(
    engine: Engine, campaign_settings: Settings
) -> None:
    _launch(engine, campaign_settings)
    finish = _plan_when(
        engine, lambda s: complete_finished_campaigns(s, now=AT), "UPDATE campaigns"
    )
    assert "ix_messages_open" in finish  # not a walk through every message of the campaign
