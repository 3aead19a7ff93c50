"""The dispatcher's housekeeping jobs: what keeps the outbox moving besides sending.

Each is a named `Job` for the dispatcher's `Housekeeper` (`textopt.housekeeping`), run in
the dispatcher's database thread, each in its own transaction:

- `start_due_campaigns`: scheduled campaigns whose time has come start running;
- `recover_stale`: messages left in `sending` by a worker that died are resolved;
- `resolve_orphan_receipts`: receipts that overtook the provider's answer find it;
- `close_unanswered`: SMS whose receipt never came end as `unknown` (`no_receipt`);
- `complete_finished_campaigns`: running campaigns with nothing open are completed;
- `run_flows`: flows' triggers start occurrences, their due steps run (`textopt.flows.jobs`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import Engine

from textopt.campaigns.lifecycle import complete_finished_campaigns, start_due_campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.feedback import FeedbackRules
from textopt.dispatch.receipts import UNANSWERED_EVERY, close_unanswered, resolve_orphan_receipts
from textopt.dispatch.recovery import recover_stale
from textopt.flows.jobs import flow_jobs
from textopt.housekeeping import Job
from textopt.logs import log_event

__all__ = ["OUTBOX_EVERY", "dispatch_jobs"]

log = logging.getLogger(__name__)

#: Seconds between two runs of the outbox's quick jobs (what worker 0 did between batches).
OUTBOX_EVERY = 1.0


def dispatch_jobs(
    engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime],
    feedback: FeedbackRules,
    on_recovered: Callable[[int, int], None] | None = None,
) -> list[Job]:
    """The dispatcher's jobs; `on_recovered(unknown, requeued)` hears of each recovery."""

    def start_campaigns() -> None:
        with session_scope(engine) as session:
            started = start_due_campaigns(session, now=clock())
        if started:
            log_event(log, logging.INFO, "campaigns started", count=started)

    def recover() -> None:
        with session_scope(engine) as session:
            unknown, requeued = recover_stale(session, now=clock())
        if unknown or requeued:
            # a worker died mid-send (here or in another process): worth a look
            log_event(
                log, logging.WARNING, "stale sending recovered", unknown=unknown, requeued=requeued
            )
            if on_recovered is not None:
                on_recovered(unknown, requeued)

    def resolve_orphans() -> None:
        with session_scope(engine) as session:
            matched = resolve_orphan_receipts(session, now=clock(), feedback=feedback)
        if matched:
            log_event(log, logging.INFO, "early receipts applied", count=matched)

    def close_without_receipt() -> None:
        with session_scope(engine) as session:
            closed = close_unanswered(
                session,
                now=clock(),
                validity=dt.timedelta(hours=settings.receipt_validity_hours),
                grace=dt.timedelta(hours=settings.receipt_grace_hours),
                # also across dispatchers of this process: a restart loop does not search
                # the outbox at each restart
                every=UNANSWERED_EVERY,
            )
        if closed:
            log_event(log, logging.INFO, "closed without receipt", count=closed)

    def complete_campaigns() -> None:
        with session_scope(engine) as session:
            completed = complete_finished_campaigns(session, now=clock())
        if completed:
            log_event(log, logging.INFO, "campaigns completed", count=completed)

    return [
        Job("start_due_campaigns", OUTBOX_EVERY, start_campaigns),
        Job("recover_stale", OUTBOX_EVERY, recover),
        Job("resolve_orphan_receipts", OUTBOX_EVERY, resolve_orphans),
        Job("close_unanswered", UNANSWERED_EVERY.total_seconds(), close_without_receipt),
        Job("complete_finished_campaigns", OUTBOX_EVERY, complete_campaigns),
        *flow_jobs(engine, settings, clock=clock),
    ]
