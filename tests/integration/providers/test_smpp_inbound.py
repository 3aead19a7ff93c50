"""MOs and receipts through the node SMSC: stored before they are acknowledged, whoever
sends them.

The SMSC here answers what it sees like a real one: an MO or a receipt left unanswered when
its session closes is delivered again at the next bind, and `mo_acks` lists those that got
a deliver_sm_resp with status 0: each of those must be stored and applied, even when the
dispatcher is killed (SIGKILL) in the middle of a storm of STOP replies or of receipts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import TEST_DIGEST
from tests.servers.smsc import Smsc

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent.service import current_consent, suppression_reasons
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher
from textopt.inbound.models import InboundMessage
from textopt.outbox.models import Message

ROOT = Path(__file__).resolve().parents[3]
AT = WEDNESDAY_10H + dt.timedelta(minutes=1)


def _stored(engine: Engine) -> list[tuple[str | None, str | None, str | None, str | None]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                InboundMessage.sender,
                InboundMessage.phone,
                InboundMessage.text,
                InboundMessage.action,
            ).order_by(InboundMessage.id)
        )
        return [tuple(row) for row in rows]


def _wait_bound(smsc: Smsc, timeout: float = 20.0) -> None:
    state = smsc.wait_for(lambda st: bool(st["sessions"]), timeout=timeout)
    assert state["sessions"], "the dispatcher never bound"


HOSTILE: list[dict[str, Any]] = [
    {"from": "36111", "text": "STOP"},  # a short code
    {"from": "Orange", "text": "Votre forfait est epuise"},  # an alphanumeric operator notice
    {"from": "", "text": "STOP"},  # no sender at all
    {"from": "3362000135", "text": "STOP"},  # too short to be a number
    {"from": "0612345678", "text": "Bonjour"},  # national format
    {"from": "33699999999", "hex": "d800d8", "data_coding": 8},  # UCS-2 cut in the middle
    {"from": "33699999998", "hex": "1b1b1b80ff", "data_coding": 0},  # not GSM 7-bit
    {"from": "33699999997", "text": "x" * 250},  # as long as a short_message goes
]


def test_no_sender_stops_the_dispatcher_and_a_stop_after_them_applies(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345670").id
    done: list[int] = []

    async def scenario() -> None:
        dispatcher = Dispatcher(engine, smpp_settings, clock=lambda: AT, poll_interval=0.01)
        running = asyncio.create_task(dispatcher.run())
        try:
            await asyncio.to_thread(_wait_bound, smsc)
            await asyncio.to_thread(smsc.send_mos, HOSTILE)
            await asyncio.to_thread(smsc.send_mo, sender="33612345670", text="STOP")
            for _ in range(1000):
                acks = await asyncio.to_thread(smsc.mo_acks)
                if len(acks["acked"]) == len(HOSTILE) + 1 and dispatcher.stats.inbound >= 9:
                    break
                assert not running.done(), "the dispatcher stopped"
                await asyncio.sleep(0.02)
            done.append(dispatcher.stats.inbound)
        finally:
            dispatcher.stop()
            await running

    asyncio.run(scenario())
    assert done == [len(HOSTILE) + 1]
    stored = _stored(engine)
    assert len(stored) == len(HOSTILE) + 1
    senders = [sender for sender, _phone, _text, _action in stored]
    assert senders[:5] == ["36111", "Orange", "", "3362000135", "0612345678"]
    assert stored[-1][1:] == ("+33612345670", "STOP", "stopped")
    assert all(action is not None and action != "failed" for *_, action in stored)
    assert stored[0][3] == "not_a_number"  # a short code's STOP: nothing to suppress
    assert stored[4][1] == "+33612345678"  # the national number, in the workspace's region
    assert "\ufffd" in (stored[5][2] or "")  # the cut UCS-2 character, kept as replaced
    assert stored[7][2] == "x" * 250
    with session_scope(engine) as s:
        state = current_consent(s, contact_id=contact_id)[("sms", "marketing")]
        assert state.status == "revoked"
        assert suppression_reasons(s, digest=TEST_DIGEST, phone="+33612345670") == ["keyword"]


def _environment(settings: Settings) -> dict[str, str]:
    env = os.environ.copy()
    env["TEXTOPT_DATABASE_URL"] = settings.database_url
    env["TEXTOPT_PROVIDERS"] = json.dumps(settings.providers)
    env["TEXTOPT_DEFAULT_PROVIDER"] = "smsc"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])  # this tree's code
    return env


def _dispatcher(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.servers.dispatch_process", AT.isoformat(), "--forever"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


STORM = 240


@pytest.mark.slow
def test_a_stop_storm_survives_a_killed_dispatcher_every_acknowledged_stop_applied(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    numbers = [f"+336{n:08d}" for n in range(STORM)]
    with session_scope(engine) as s:
        for number in numbers[::3]:  # a third of them are contacts, the rest unknown numbers
            add_contact(s, number)
    env = _environment(smpp_settings)
    smsc.configure(mo_retry_ms=100)
    storm = [
        {"from": number.removeprefix("+"), "text": "STOP", "source_addr_ton": 1}  # international
        for number in numbers
    ]
    process = _dispatcher(env)
    kills = 0
    try:
        _wait_bound(smsc)
        smsc.send_mos(storm, interval_ms=5)  # 240 STOPs over 1.2 s
        for _round in range(3):  # killed mid-storm, three times, then started again
            seen = len(smsc.mo_acks()["acked"])
            smsc.wait_for(lambda _st, seen=seen: len(smsc.mo_acks()["acked"]) > seen + 20)
            _kill(process)
            kills += 1
            acked = {"+" + a["from"] for a in smsc.mo_acks()["acked"]}
            with session_scope(engine) as s:
                stored = set(s.scalars(select(InboundMessage.sender)))
            assert acked <= stored, f"acknowledged, not stored: {sorted(acked - stored)[:5]}"
            process = _dispatcher(env)
            _wait_bound(smsc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the SMSC sends again what it saw unanswered
            acks = smsc.mo_acks()
            if len(acks["acked"]) >= STORM and not acks["waiting"] and _unapplied(engine) == 0:
                break
            time.sleep(0.05)
    finally:
        _kill(process)
    assert kills == 3
    acked_numbers = {"+" + a["from"] for a in smsc.mo_acks()["acked"]}
    assert acked_numbers == set(numbers)
    with session_scope(engine) as s:
        stored = s.execute(select(InboundMessage.phone, InboundMessage.action)).all()
        assert {phone for phone, _ in stored} == set(numbers)
        assert {action for _, action in stored} <= {"stopped", "already_stopped"}
        for number in numbers:
            assert suppression_reasons(s, digest=TEST_DIGEST, phone=number) == ["keyword"], number
    assert _unapplied(engine) == 0


def _unapplied(engine: Engine) -> int:
    with session_scope(engine) as s:
        count = s.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.handled_at.is_(None))
        )
        return int(count or 0)


RECEIPTS = 150


@pytest.mark.slow
def test_a_receipt_storm_survives_a_killed_dispatcher_every_acknowledged_receipt_applied(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    with session_scope(engine) as s:
        for n in range(RECEIPTS):
            add_contact(s, f"+336{n:08d}")
        campaign = new_campaign(s, smpp_settings)
        campaigns.launch(s, campaign=campaign, settings=smpp_settings, now=WEDNESDAY_10H)
    smsc.configure(receipts="hold", release_interval_ms=8)  # 150 receipts over 1.2 s
    env = _environment(smpp_settings)
    process = _dispatcher(env)
    kills = 0
    try:
        _wait_bound(smsc)
        smsc.wait_for(lambda st: len(st["submits"]) >= RECEIPTS, timeout=60)
        _wait_for(lambda: _statuses(engine).get("submitted", 0) == RECEIPTS)
        smsc.release()
        for _round in range(3):
            seen = len(smsc.mo_acks()["receipts"])
            smsc.wait_for(lambda _st, seen=seen: len(smsc.mo_acks()["receipts"]) > seen + 10)
            _kill(process)
            kills += 1
            acked = set(smsc.mo_acks()["receipts"])
            assert acked <= _delivered_ids(engine), "a receipt acknowledged and not applied"
            process = _dispatcher(env)
            _wait_bound(smsc)
            smsc.release()  # what found no bind meanwhile (the unanswered go again by itself)
        _wait_for(lambda: _statuses(engine) == {"delivered": RECEIPTS})
    finally:
        _kill(process)
    assert kills == 3
    assert _statuses(engine) == {"delivered": RECEIPTS}
    assert set(smsc.mo_acks()["receipts"]) == _delivered_ids(engine)


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def _statuses(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        rows = s.execute(select(Message.status, func.count()).group_by(Message.status))
        return {status: int(count) for status, count in rows}


def _delivered_ids(engine: Engine) -> set[str]:
    with session_scope(engine) as s:
        query = select(Message.provider_message_id).where(Message.status == "delivered")
        return {pid for pid in s.scalars(query) if pid}
