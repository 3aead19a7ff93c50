"""A workspace keyword sent as SMPP MOs to the dispatcher: each answered once, through the
node SMSC, in the language of the sender's number."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact
from tests.servers.smsc import Smsc

from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher
from textopt.inbound.models import InboundMessage
from textopt.inbound.workspace_keywords import create_keyword
from textopt.outbox.models import Message

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)
FR = "Ouvert du lundi au samedi, 9h-19h."
EN = "Open Monday to Saturday, 9am-7pm."


def test_horaires_sent_as_smpp_mos_is_answered_once_per_number_in_its_language(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345670")
        create_keyword(
            s,
            actor=Actor("cli", None, "cli:test", frozenset()),
            word="HORAIRES",
            texts={"fr": FR, "en": EN},
            now=AT,
        )

    def handled() -> int:
        with session_scope(engine) as s:
            rows = s.scalars(select(InboundMessage).where(InboundMessage.handled_at.isnot(None)))
            return len(rows.all())

    def _mo(sender: str, text: str) -> None:
        smsc.send_mo(sender=sender, text=text, source_addr_ton=1)  # international: +44...

    async def scenario() -> None:
        dispatcher = Dispatcher(engine, smpp_settings, clock=lambda: AT, poll_interval=0.01)
        running = asyncio.create_task(dispatcher.run())
        try:
            for _ in range(500):  # until the dispatcher's bind is up to receive them
                try:
                    await asyncio.to_thread(
                        smsc.send_mo, sender="33612345670", text="horaires ", source_addr_ton=1
                    )
                    break
                except Exception:  # the SMSC answers 409 while nobody is bound
                    await asyncio.sleep(0.02)
            await asyncio.to_thread(_mo, "447911123456", "Horaires ?")
            await asyncio.to_thread(_mo, "447911123456", "HORAIRES")
            for _ in range(500):
                submitted = await asyncio.to_thread(lambda: len(smsc.state()["submits"]))
                if await asyncio.to_thread(handled) == 3 and submitted >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            dispatcher.stop()
            await running

    asyncio.run(scenario())
    submits = smsc.state()["submits"]
    assert sorted(sub["to"] for sub in submits) == ["33612345670", "447911123456"]
    with session_scope(engine) as s:
        actions = sorted((m.phone or "", m.action or "") for m in s.scalars(select(InboundMessage)))
        assert actions == [
            ("+33612345670", "keyword_answered"),
            ("+447911123456", "keyword_answered"),
            ("+447911123456", "keyword_rate_limited"),
        ]
        replies = {
            m.recipient: (m.body, m.status)
            for m in s.scalars(select(Message).where(Message.campaign_id.is_(None)))
        }
    assert replies["+33612345670"][0] == FR
    assert replies["+447911123456"][0] == EN
    assert {status for _, status in replies.values()} <= {"submitted", "delivered"}
    assert len(replies) == 2
