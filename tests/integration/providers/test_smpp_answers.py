"""An appointment reminder and its answer through the node SMSC: the dispatcher submits the
reminder, the patient's OUI arrives as a deliver_sm, and the dispatcher records the answer's
event and submits the acknowledgement."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact
from tests.servers.smsc import Smsc

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.worker import Dispatcher
from textopt.events.service import list_events
from textopt.inbound.models import InboundMessage
from textopt.outbox.models import Message
from textopt.questions.models import Question

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)
ACK = "Merci, votre rendez-vous est confirmé."


def test_a_reminder_submitted_over_smpp_is_answered_by_a_deliver_sm(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    with session_scope(engine) as s:
        patient = add_contact(s, "+33612345670")
        reminder, _ = enqueue_message(
            s,
            settings=smpp_settings,
            to="+33612345670",
            text="RDV demain 10h. OUI pour confirmer, ANNULER pour annuler.",
            asks="appointment",
            asks_reference="rdv-77",
            now=AT,
        )
        patient_id, reminder_id = patient.id, reminder.id

    def handled() -> int:
        with session_scope(engine) as s:
            rows = s.scalars(select(InboundMessage).where(InboundMessage.handled_at.isnot(None)))
            return len(rows.all())

    def submits() -> int:
        return len(smsc.state()["submits"])

    async def scenario() -> None:
        dispatcher = Dispatcher(engine, smpp_settings, clock=lambda: AT, poll_interval=0.01)
        running = asyncio.create_task(dispatcher.run())
        try:
            for _ in range(500):  # the reminder goes out first
                if await asyncio.to_thread(submits) >= 1:
                    break
                await asyncio.sleep(0.02)
            await asyncio.to_thread(
                smsc.send_mo, sender="33612345670", text="Oui", source_addr_ton=1
            )
            for _ in range(500):
                if await asyncio.to_thread(handled) == 1 and await asyncio.to_thread(submits) >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            dispatcher.stop()
            await running

    asyncio.run(scenario())
    assert [sub["to"] for sub in smsc.state()["submits"]] == ["33612345670"] * 2
    with session_scope(engine) as s:
        ack = s.scalars(select(Message).where(Message.id != reminder_id)).one()
        assert (ack.body, ack.purpose) == (ACK, "transactional")
        assert ack.status in ("submitted", "delivered")
        [inbound] = s.scalars(select(InboundMessage)).all()
        assert inbound.action == "question_confirmed"
        [question] = s.scalars(select(Question)).all()
        assert (question.message_id, question.answer) == (reminder_id, "confirmed")
        assert question.inbound_message_id == inbound.id
        [event] = list_events(s, contact_id=patient_id)
        assert event.type == "appointment_confirmed"
        assert event.properties["appointment_id"] == "rdv-77"
        assert event.id == question.event_id
