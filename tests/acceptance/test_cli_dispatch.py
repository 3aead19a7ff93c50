"""`textopt dispatch` and `textopt send` as a user runs them: the live status, the summary
when stopped, what waits until when, and the exit codes of a one-off send."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json, runner

from textopt.cli.main import app
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch.backlog import Backlog, outbox_backlog
from textopt.outbox.models import Message

ROOT = Path(__file__).resolve().parents[2]


def _status(engine: Engine, message_id: int) -> str:
    with session_scope(engine) as s:
        return str(s.scalar(select(Message.status).where(Message.id == message_id)))


def test_a_running_dispatcher_sends_what_is_queued_and_stops_on_ctrl_c(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "textopt"), "dispatch"],  # the installed command
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queued = cli_json(
            "send", "--to", "+33612345678", "--text", "Votre commande est prête", "--queue-only"
        )
        deadline = time.monotonic() + 30
        while _status(engine, queued["id"]) != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _status(engine, queued["id"]) == "delivered"
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped: 1 sent, 0 failed, nothing due or waiting" in err
    assert "Traceback" not in err


def _waiting(session: Session, key: str, send_at: dt.datetime, status: str = "planned") -> None:
    session.add(
        Message(
            channel="sms",
            purpose="marketing",
            recipient="+33612345678",
            status=status,
            send_at=send_at,
            provider="sandbox",
            idempotency_key=key,
        )
    )


def test_the_outbox_backlog_counts_what_waits_and_names_the_next_send_time(
    engine: Engine, campaign_settings: Settings
) -> None:
    now = utcnow()
    eight = now.replace(microsecond=0) + dt.timedelta(hours=5)
    with session_scope(engine) as s:
        _waiting(s, "a", eight)
        _waiting(s, "b", eight + dt.timedelta(days=1), status="queued")
        _waiting(s, "c", now - dt.timedelta(minutes=1))  # due
        _waiting(s, "d", eight - dt.timedelta(hours=1), status="blocked")  # never goes
    with session_scope(engine) as s:
        backlog = outbox_backlog(s, now=now)
    assert backlog == Backlog(due=1, waiting=2, next_send_at=eight)


def test_dispatch_once_says_what_waits_until_when_in_the_workspace_zone(
    engine: Engine, campaign_settings: Settings
) -> None:
    later = (utcnow() + dt.timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)
    with session_scope(engine) as s:
        _waiting(s, "a", later)
        _waiting(s, "b", later)
    data = cli_json("dispatch", "--once")
    assert (data["submitted"], data["due"], data["waiting"]) == (0, 0, 2)
    assert data["next_send_at"] == later.isoformat()
    assert data["stopped"] is False
    result = runner.invoke(app, ["dispatch", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    paris = later.astimezone(ZoneInfo("Europe/Paris"))
    shown = " ".join(result.stderr.split())  # as wide as the terminal: lines may wrap
    assert f"2 waiting until {paris:%Y-%m-%d %H:%M} {paris:%Z}" in shown
    assert "sent 0" in shown


def test_send_exits_3_when_the_policy_blocks_it_and_0_when_it_is_sent(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", consent_at=None)
    blocked = runner.invoke(
        app, ["send", "--marketing", "--to", "06 12 34 56 78", "--text", "Soldes -20%"]
    )
    assert blocked.exit_code == 3, blocked.output
    assert "blocked" in blocked.stdout
    as_json = runner.invoke(
        app,
        ["send", "--marketing", "--to", "06 12 34 56 78", "--text", "Soldes", "--json"],
    )
    assert as_json.exit_code == 3, as_json.output
    assert json.loads(as_json.stdout)["status"] == "blocked"
    sent = runner.invoke(app, ["send", "--to", "06 12 34 56 78", "--text", "RDV demain 10h"])
    assert sent.exit_code == 0, sent.output
    assert "Exit codes" in runner.invoke(app, ["send", "--help"]).stdout
