"""A dispatcher killed with SIGKILL mid-flow: after a restart no marketing step is sent twice
and none is skipped; two runners racing on PostgreSQL write each step once."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, journal_keys
from tests.factories.flows import active_flow, add_event, flow_messages, runs
from tests.servers.dispatch_process import dispatcher_environment, start_dispatcher

from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.flows.jobs import run_flows
from textopt.flows.models import FlowStepLog
from textopt.outbox.states import FINAL_STATES

WELCOME = {
    "name": "Bienvenue",
    "trigger": {"kind": "event", "event": "signed_up"},
    "steps": [
        {"kind": "send", "purpose": "marketing", "template": "Bienvenue ! -10% avec BIENVENUE"},
        {"kind": "wait", "duration": "1h"},
        {"kind": "send", "purpose": "marketing", "template": "Votre code BIENVENUE expire bientot"},
    ],
}
PEOPLE = 40


def _sign_up(engine: Engine, settings: Settings, at: dt.datetime) -> None:
    with session_scope(engine) as s:
        active_flow(s, WELCOME, now=at - dt.timedelta(minutes=5))
        for n in range(PEOPLE):
            contact = add_contact(s, f"+3361299{n:04d}")
            add_event(s, settings, contact, "signed_up", now=at - dt.timedelta(minutes=1))


def test_a_dispatcher_killed_mid_flow_never_sends_a_step_twice_nor_skips_one(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    _sign_up(engine, campaign_settings, WEDNESDAY_10H)
    env = dispatcher_environment(campaign_settings, submit_latency=0.2, rate=50)
    first = start_dispatcher(WEDNESDAY_10H, env, "--forever")
    deadline = time.monotonic() + 60
    while len(journal_keys(journal)) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert len(journal_keys(journal)) < 2 * PEOPLE

    # restarted after the wait: the rest of the flow runs, the lost batch is resolved
    second = start_dispatcher(WEDNESDAY_10H + dt.timedelta(hours=2), env)
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err

    messages = flow_messages(engine)
    keys = [m.idempotency_key for m in messages]
    assert len(keys) == 2 * PEOPLE == len(set(keys))  # every step of every occurrence, once
    sent = Counter(journal_keys(journal))
    assert all(sent[key] <= 1 for key in keys), sent.most_common(3)
    firsts = [m for m in messages if m.idempotency_key.endswith("-1")]
    assert all(m.status in FINAL_STATES for m in firsts)
    # the second promotion waits for the frequency cap: deferred with its reason, never lost
    assert all(m.status != "blocked" for m in messages)
    assert all(run.state == "completed" for run in runs(engine))


@pytest.mark.postgres
def test_two_runners_at_once_write_each_step_once(
    engine: Engine, campaign_settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: runners take turns")
    _sign_up(engine, campaign_settings, WEDNESDAY_10H)
    errors: list[BaseException] = []

    def runner(name: str) -> None:
        try:
            for minutes in (0, 0, 90, 90):
                run_flows(
                    engine, campaign_settings, now=WEDNESDAY_10H + dt.timedelta(minutes=minutes),
                    owner=name,
                )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(f"runner-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    keys = [m.idempotency_key for m in flow_messages(engine)]
    assert len(keys) == 2 * PEOPLE == len(set(keys))
    with session_scope(engine) as s:
        done = s.execute(
            select(FlowStepLog.run_id, FlowStepLog.step, FlowStepLog.outcome).where(
                FlowStepLog.outcome.in_(("sent", "skipped"))
            )
        ).all()
    assert len(done) == 2 * PEOPLE == len({(run, step) for run, step, _ in done}), Counter(
        (step, outcome) for _, step, outcome in done
    )
