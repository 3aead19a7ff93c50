"""Flows as housekeeping: read the triggers, then run the due steps (the dispatcher's job,
and `textopt flows run --once`)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable

from sqlalchemy import Engine

from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.flows.runner import ExitWatch, RunTally, end_on_exit_events, run_due
from textopt.flows.triggers import scan_triggers
from textopt.housekeeping import Job
from textopt.logs import log_event

__all__ = ["FLOWS_EVERY", "flow_jobs", "run_flows", "runner_identity"]

log = logging.getLogger(__name__)

#: Seconds between two passes of the flows job in a dispatcher.
FLOWS_EVERY = 5.0
#: Batches of due occurrences one pass of the job moves at most: the job shares the
#: dispatcher's database thread with its claims, so a backlog is moved over several passes.
JOB_BATCHES = 10


def runner_identity() -> str:
    """This process's name as the owner of a lease: host, pid and a random token."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def run_flows(
    engine: Engine,
    settings: Settings,
    *,
    now: dt.datetime,
    owner: str | None = None,
    max_batches: int = 50,
    exits: ExitWatch | None = None,
) -> tuple[int, RunTally]:
    """One pass: start the occurrences the triggers found (one transaction), end those the
    exit events received since the last pass end (`exits`: where the last pass stopped;
    None, the last hour), then claim and run every due step; returns (occurrences started,
    what the runner did)."""
    with session_scope(engine) as session:
        started = scan_triggers(session, default_zone=settings.workspace_timezone, now=now)
    watch = exits if exits is not None else ExitWatch()
    with session_scope(engine) as session:
        ended, last = end_on_exit_events(session, settings=settings, after=watch.after, now=now)
    watch.after = last  # committed: those events are not read again
    tally = run_due(
        engine,
        settings=settings,
        owner=owner or runner_identity(),
        now=now,
        max_batches=max_batches,
    )
    tally.add(ended)
    return started, tally


def flow_jobs(engine: Engine, settings: Settings, *, clock: Callable[[], dt.datetime]) -> list[Job]:
    """The dispatcher's flows job."""
    owner = runner_identity()
    exits = ExitWatch()

    def move_flows() -> None:
        started, tally = run_flows(
            engine, settings, now=clock(), owner=owner, max_batches=JOB_BATCHES, exits=exits
        )
        if started or tally.claimed or tally.exited:
            log_event(
                log,
                logging.INFO,
                "flows moved",
                started=started,
                sent=tally.sent,
                skipped=tally.skipped,
                exited=tally.exited,
                completed=tally.completed,
            )

    return [Job("run_flows", FLOWS_EVERY, move_flows)]
