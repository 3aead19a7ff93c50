"""The dispatcher sending a campaign through the SMPP provider to the node SMSC."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import (
    WEDNESDAY_10H,
    add_contact,
    new_campaign,
    run_dispatcher,
    statuses,
)
from tests.factories.keys import TEST_DIGEST
from tests.servers.smsc import Smsc

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.outbox.models import Message, MessageEvent

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)
LONG = "Soldes d'hiver chez Boutique : -20% sur tout le magasin jusqu'a dimanche soir. " * 3


def _campaign(engine: Engine, settings: Settings, text: str, count: int = 3) -> int:
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234567{n}")
        campaign = new_campaign(s, settings, text=text)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return campaign.id


@pytest.mark.parametrize("receipts", ["after", "before"])
def test_a_campaign_is_delivered_through_smpp_with_receipts_recorded(
    engine: Engine, smpp_settings: Settings, smsc: Smsc, receipts: str
) -> None:
    smsc.configure(receipts=receipts, resp_delay_ms=20)
    short = _campaign(engine, smpp_settings, "Soldes -20% chez Boutique")
    stats = run_dispatcher(engine, smpp_settings, at=AT)
    assert stats.submitted == 3
    assert {status for status, _ in statuses(engine, short).values()} == {"delivered"}
    with session_scope(engine) as s:
        ids = set(s.scalars(select(Message.provider_message_id)))
        assert ids == {sub["id"] for sub in smsc.state()["submits"]}
        events = s.scalars(select(MessageEvent).where(MessageEvent.status == "delivered")).all()
        assert len(events) == 3
        assert all(e.detail["receipt"] == "delivered" for e in events)


def test_a_multipart_campaign_is_delivered_once_every_part_is(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    smsc.configure(part_stat={"2": "UNDELIV"})
    campaign = _campaign(engine, smpp_settings, LONG, count=2)
    run_dispatcher(engine, smpp_settings, at=AT)
    with session_scope(engine) as s:
        segments = list(s.scalars(select(Message.segments)))
    assert min(segments) > 1
    assert len(smsc.state()["submits"]) == sum(segments)
    assert {status for status, _ in statuses(engine, campaign).values()} == {"failed"}
    with session_scope(engine) as s:
        reasons = set(s.scalars(select(Message.reason)))
    assert reasons == {"receipt_failed"}


@pytest.mark.parametrize("form", ["text", "tlv"])
def test_an_acceptd_receipt_ends_the_message_unknown_with_the_smscs_word_kept(
    engine: Engine, smpp_settings: Settings, smsc: Smsc, form: str
) -> None:
    smsc.configure(receipt_form=form, receipt_stat={"336": "ACCEPTD"})
    campaign = _campaign(engine, smpp_settings, "Soldes -20% chez Boutique", count=2)
    run_dispatcher(engine, smpp_settings, at=AT)
    assert set(statuses(engine, campaign).values()) == {("unknown", "receipt_unknown")}
    with session_scope(engine) as s:
        events = s.scalars(select(MessageEvent).where(MessageEvent.status == "unknown")).all()
    assert [e.detail["stat"] for e in events] == ["ACCEPTD", "ACCEPTD"]


def test_dispatch_stops_with_one_clear_line_when_the_bind_is_refused(
    engine: Engine, smpp_settings: Settings, smsc: Smsc, tmp_path: Path
) -> None:
    account = {**smpp_settings.providers["smsc"], "password": "wrong"}
    env = {**os.environ, "TEXTOPT_PROVIDERS": json.dumps({"smsc": account})}
    textopt = Path(sys.executable).with_name("textopt")
    result = subprocess.run(
        [str(textopt), "dispatch", "--once"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "ESME_RINVPASWD" in result.stderr
    assert f"127.0.0.1:{smsc.port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "wrong" not in result.stderr  # the password is never shown


def test_a_stop_sent_as_an_smpp_mo_revokes_consent_and_is_stored(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    import asyncio

    from textopt.consent.service import current_consent, suppression_reasons
    from textopt.dispatch.worker import Dispatcher
    from textopt.inbound.models import InboundMessage

    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345670").id

    def stored() -> list[str]:
        with session_scope(engine) as s:
            return [t or "" for t in s.scalars(select(InboundMessage.text))]

    async def scenario() -> None:
        dispatcher = Dispatcher(engine, smpp_settings, clock=lambda: AT, poll_interval=0.01)
        running = asyncio.create_task(dispatcher.run())
        try:
            for _ in range(500):  # until the dispatcher's bind is up to receive it
                try:
                    await asyncio.to_thread(
                        smsc.send_mo, sender="33612345670", text="Arrêt", ucs2=True
                    )
                    break
                except Exception:  # the SMSC answers 409 while nobody is bound
                    await asyncio.sleep(0.02)
            for _ in range(500):
                if await asyncio.to_thread(stored):
                    break
                await asyncio.sleep(0.02)
        finally:
            dispatcher.stop()
            await running

    asyncio.run(scenario())
    assert stored() == ["Arrêt"]
    with session_scope(engine) as s:
        state = current_consent(s, contact_id=contact_id)[("sms", "marketing")]
        assert (state.status, state.source) == ("revoked", "keyword")
        assert suppression_reasons(s, digest=TEST_DIGEST, phone="+33612345670") == ["keyword"]
