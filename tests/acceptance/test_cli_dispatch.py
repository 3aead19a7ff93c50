"""`textopt dispatch` left running: it sends what becomes due and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, select
from tests.factories.campaigns import add_contact
from tests.factories.cli import cli_json

from textopt.config import Settings
from textopt.db.engine import session_scope
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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
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
    assert "stopped" in err
    assert "Traceback" not in err
