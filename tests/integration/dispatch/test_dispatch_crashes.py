"""A dispatcher killed mid-send, and dispatchers racing: no duplicate, nothing lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, journal_keys, new_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.outbox.models import Message
from textopt.outbox.states import FINAL_STATES
from textopt.vocab import Purpose

ROOT = Path(__file__).resolve().parents[3]


def _environment(settings: Settings, **sandbox: object) -> dict[str, str]:
    env = os.environ.copy()
    env["TEXTOPT_DATABASE_URL"] = settings.database_url
    env["TEXTOPT_PROVIDERS"] = json.dumps({"sandbox": {**settings.providers["sandbox"], **sandbox}})
    env["TEXTOPT_DISPATCH_BATCH_SIZE"] = "5"
    env["TEXTOPT_DISPATCH_LEASE_SECONDS"] = "60"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])  # this tree's code
    return env


def _dispatcher(at: dt.datetime, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.servers.dispatch_process", at.isoformat(), *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _plan(engine: Engine, settings: Settings, marketing: int, transactional: int) -> None:
    with session_scope(engine) as s:
        for n in range(marketing + transactional):
            add_contact(s, f"+3361234{n:04d}", tags=("vip",) if n < marketing else ("client",))
        promo = new_campaign(s, settings)
        campaigns.launch(s, campaign=promo, settings=settings, now=WEDNESDAY_10H)
        if transactional:
            reminder = new_campaign(
                s,
                settings,
                text="Rappel : votre rendez-vous demain a 10h",
                audience="tag:client",
                purpose=Purpose.TRANSACTIONAL,
            )
            campaigns.launch(s, campaign=reminder, settings=settings, now=WEDNESDAY_10H)


def _messages(engine: Engine) -> list[tuple[str, str, str]]:
    with session_scope(engine) as s:
        return [
            (m.idempotency_key, m.purpose, m.status)
            for m in s.scalars(select(Message).order_by(Message.id))
        ]


def test_a_killed_dispatcher_loses_nothing_and_never_repeats_a_promotion(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    _plan(engine, campaign_settings, marketing=30, transactional=15)
    env = _environment(campaign_settings, submit_latency=0.3, rate=50)
    first = _dispatcher(WEDNESDAY_10H + dt.timedelta(minutes=1), env, "--forever")
    deadline = time.monotonic() + 60
    while len(journal_keys(journal)) < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)  # in the middle of a batch: accepted, answer not recorded
    first.communicate(timeout=30)
    killed_at = _messages(engine)
    assert any(status == "sending" for _, _, status in killed_at), killed_at
    assert any(status == "planned" for _, _, status in killed_at)

    # Restarted once the lease is over: the lost batch is resolved, the rest is sent.
    second = _dispatcher(WEDNESDAY_10H + dt.timedelta(minutes=5), env)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err

    final = _messages(engine)
    assert len(final) == 45
    assert all(status in FINAL_STATES for _, _, status in final), Counter(s for *_, s in final)
    sent = Counter(journal_keys(journal))
    before = {key: status for key, _, status in killed_at}
    for key, purpose, status in final:
        if purpose == "marketing":
            assert sent[key] <= 1, f"promotion {key} sent {sent[key]} times"
            assert status in ("delivered", "unknown")
            assert (status == "unknown") == (before[key] == "sending")
        else:
            assert sent[key] >= 1  # at least once, with the same idempotency key
            assert status == "delivered"


def test_two_dispatcher_processes_never_send_the_same_message(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    _plan(engine, campaign_settings, marketing=120, transactional=0)
    env = _environment(campaign_settings, submit_latency=0.01)
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    racers = [_dispatcher(at, env) for _ in range(2)]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    keys = journal_keys(journal)
    assert len(keys) == 120
    assert len(set(keys)) == 120
    submitted = [int(out.split()[0].split("=")[1]) for out, _ in outputs]
    assert sum(submitted) == 120
    assert all(status == "delivered" for _, _, status in _messages(engine))
