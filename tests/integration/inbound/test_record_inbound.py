"""Inbound messages on both databases: STOP, START, HELP, OUI, unknown numbers, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact, journal_keys
from tests.factories.inbound import RECEIVED, text_in
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent, SuppressionReason
from textopt.dispatch.worker import Dispatcher
from textopt.gdpr.service import erase_person
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.inbound.service import erase_inbound, list_inbound
from textopt.outbox.models import Message

ALICE = "+33612345678"


def _events(session: Session, contact_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        (event.action, event.source, proof.data if proof else None)
        for event, proof in consent.history(session, contact_id=contact_id)
    ]


def _replies(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.campaign_id.is_(None))))


def test_stop_revokes_with_the_inbound_id_as_proof_suppresses_and_confirms_once(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    result = text_in(
        session, campaign_settings, sender="06 12 34 56 78", text="Stop", message_id="mo-1"
    )
    session.commit()
    assert result.created
    assert result.action == InboundAction.STOPPED
    inbound = result.message
    assert (inbound.contact_id, inbound.sender, inbound.phone, inbound.keyword) == (
        alice.id,
        "06 12 34 56 78",  # as it came
        ALICE,
        "stop",
    )
    action, source, proof = _events(session, alice.id)[-1]
    assert (action, source) == ("revoked", "keyword")
    assert proof is not None
    assert proof["inbound_message_id"] == inbound.id
    assert proof["phone"] == ALICE
    assert inbound.consent_event_id == session.scalar(select(func.max(ConsentEvent.id)))
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone=ALICE, channel="sms") == [
        "keyword"
    ]
    [reply] = _replies(session)
    assert reply.id == inbound.reply_message_id
    assert (reply.recipient, reply.purpose, reply.status) == (ALICE, "transactional", "planned")
    assert reply.body == "Vous ne recevrez plus de SMS de Boutique. START pour vous réabonner."

    again = text_in(session, campaign_settings, sender=ALICE, text="Stop", message_id="mo-1")
    session.commit()
    assert not again.created
    assert again.message.id == inbound.id
    assert again.reply is not None
    assert again.reply.id == reply.id
    assert len(_events(session, alice.id)) == 2  # the grant and one revocation
    assert len(_replies(session)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_a_second_stop_changes_nothing_and_is_not_answered(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="mo-1")
    second = text_in(
        session, campaign_settings, sender=ALICE, text="stop please", message_id="mo-2"
    )
    session.commit()
    assert second.created
    assert second.action == InboundAction.ALREADY_STOPPED
    assert second.reply is None
    assert len(_events(session, alice.id)) == 2
    assert len(_replies(session)) == 1


def test_a_free_text_wish_to_stop_is_honoured_and_answered_in_the_keyword_language(
    session: Session, campaign_settings: Settings
) -> None:
    add_contact(session, "+34612345678", language="fr")
    result = text_in(session, campaign_settings, sender="+34612345678", text="Baja por favor")
    assert result.action == InboundAction.STOPPED
    assert result.message.language == "es"
    assert result.reply is not None
    assert result.reply.body is not None
    assert result.reply.body.startswith("Ya no recibira SMS")


def test_start_after_stop_grants_again_lifts_the_stop_and_confirms(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="mo-1")
    later = RECEIVED + dt.timedelta(days=2)
    result = text_in(
        session, campaign_settings, sender=ALICE, text="start", message_id="mo-2", at=later
    )
    session.commit()
    assert result.action == InboundAction.RESTARTED
    action, source, proof = _events(session, alice.id)[-1]
    assert (action, source) == ("granted", "keyword")
    assert proof is not None
    assert proof["inbound_message_id"] == result.message.id
    assert (
        consent.suppression_reasons(session, digest=TEST_DIGEST, phone=ALICE, channel="sms") == []
    )
    state = consent.current_consent(session, contact_id=alice.id)[("sms", "marketing")]
    assert (state.status, state.source) == ("granted", "keyword")
    assert result.reply is not None
    assert "réactivé" in (result.reply.body or "")


def test_start_never_lifts_an_erasure(session: Session, campaign_settings: Settings) -> None:
    alice = add_contact(session, ALICE)
    text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="mo-1")
    erase_person(session, settings=campaign_settings, contact=alice)
    result = text_in(session, campaign_settings, sender=ALICE, text="START", message_id="mo-2")
    session.commit()
    assert result.action == InboundAction.START_REFUSED
    assert result.message.contact_id is None  # the erased contact is no longer found
    assert result.reply is None
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone=ALICE, channel="sms") == [
        "erasure",
        "keyword",
    ]


def test_start_never_lifts_a_complaint(session: Session, campaign_settings: Settings) -> None:
    alice = add_contact(session, ALICE)
    consent.suppress(
        session, digest=TEST_DIGEST, phone=ALICE, channel="sms", reason=SuppressionReason.COMPLAINT
    )
    result = text_in(session, campaign_settings, sender=ALICE, text="START")
    assert result.action == InboundAction.START_REFUSED
    assert [a for a, _, _ in _events(session, alice.id)] == ["granted"]
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone=ALICE, channel="sms") == [
        "complaint"
    ]


def test_help_answers_with_the_brand_contact_frequency_and_stop(
    session: Session, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"support_contact": "boutique.example/aide"})
    add_contact(session, ALICE)
    result = text_in(session, settings, sender=ALICE, text="AIDE")
    assert result.action == InboundAction.HELPED
    assert result.reply is not None
    assert result.reply.body == (
        "Boutique : boutique.example/aide, 4 SMS par mois au plus. STOP pour vous désabonner."
    )


def test_help_to_a_us_number_says_message_and_data_rates_may_apply(
    session: Session, campaign_settings: Settings
) -> None:
    result = text_in(session, campaign_settings, sender="+13055550123", text="HELP")
    assert result.reply is not None
    assert "Msg & data rates may apply." in (result.reply.body or "")


def test_oui_confirms_a_pending_double_opt_in(
    session: Session, campaign_settings: Settings
) -> None:
    bob = add_contact(session, "+33698765432", consent_at=None)
    asked = consent.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=bob.id,
        channel="sms",
        purpose="marketing",
        action="requested",
        source="form",
        occurred_at=RECEIVED - dt.timedelta(minutes=5),
        proof={"phone": bob.phone},
    )
    result = text_in(session, campaign_settings, sender="+33698765432", text="Oui")
    session.commit()
    assert result.action == InboundAction.CONFIRMED
    action, source, proof = _events(session, bob.id)[-1]
    assert (action, source) == ("confirmed", "keyword")
    assert proof is not None
    assert proof["inbound_message_id"] == result.message.id
    assert proof["confirms_event"] == asked.id
    assert result.reply is not None
    assert "confirmée" in (result.reply.body or "")

    twice = text_in(session, campaign_settings, sender="+33698765432", text="OUI", message_id="x")
    assert twice.action == InboundAction.NOTHING_TO_CONFIRM
    assert twice.reply is None


def test_yes_without_a_pending_double_opt_in_confirms_nothing(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)  # a plain grant, no confirmation asked
    result = text_in(session, campaign_settings, sender=ALICE, text="yes")
    assert result.action == InboundAction.NOTHING_TO_CONFIRM
    assert [a for a, _, _ in _events(session, alice.id)] == ["granted"]
    assert result.reply is None


def test_stop_from_an_unknown_number_suppresses_it_and_is_stored(
    session: Session, campaign_settings: Settings
) -> None:
    result = text_in(session, campaign_settings, sender="+33611111111", text="ARRÊT")
    session.commit()
    assert result.action == InboundAction.STOPPED
    assert result.message.contact_id is None
    assert result.message.consent_event_id is None
    assert consent.suppression_reasons(
        session, digest=TEST_DIGEST, phone="+33611111111", channel="sms"
    ) == ["keyword"]
    assert result.reply is not None
    assert result.reply.contact_id is None


def test_every_inbound_message_is_stored_and_visible_on_the_contact(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    for n, text in enumerate(("Bonjour, ouvert dimanche ?", "non-stop deals", "Merci !")):
        result = text_in(
            session,
            campaign_settings,
            sender=ALICE,
            text=text,
            message_id=f"mo-{n}",
            at=RECEIVED + dt.timedelta(minutes=n),
        )
        assert result.action == InboundAction.STORED
        assert result.reply is None
    session.commit()
    texts = [m.text for m in list_inbound(session, contact_id=alice.id)]
    assert texts == ["Merci !", "non-stop deals", "Bonjour, ouvert dimanche ?"]
    session.refresh(alice)
    assert alice.last_activity_at == RECEIVED + dt.timedelta(minutes=2)
    assert [a for a, _, _ in _events(session, alice.id)] == ["granted"]


def test_the_stop_confirmation_reaches_the_network_exactly_once_when_the_webhook_is_retried(
    engine: Engine, session: Session, campaign_settings: Settings, journal: Path
) -> None:
    add_contact(session, ALICE)
    text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="mo-1")
    session.commit()
    dispatcher = Dispatcher(engine, campaign_settings, clock=lambda: RECEIVED, poll_interval=0.01)
    asyncio.run(dispatcher.run(once=True))
    text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="mo-1")
    session.commit()
    asyncio.run(
        Dispatcher(engine, campaign_settings, clock=lambda: RECEIVED, poll_interval=0.01).run(
            once=True
        )
    )
    [key] = journal_keys(journal)
    assert key.startswith("inbound-")
    assert key.endswith("-reply")


def test_erasing_inbound_messages_empties_their_number_and_text(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    text_in(session, campaign_settings, sender=ALICE, text="Bonjour", message_id="mo-1")
    text_in(session, campaign_settings, sender="+33611111111", text="Salut", message_id="mo-2")
    text_in(session, campaign_settings, sender="+33622222222", text="Hello", message_id="mo-3")
    assert erase_inbound(session, contact_ids=[alice.id], numbers=["+33611111111"]) == 2
    rows = {m.provider_message_id: (m.sender, m.text) for m in list_inbound(session)}
    assert rows == {
        "mo-1": (None, None),
        "mo-2": (None, None),
        "mo-3": ("+33622222222", "Hello"),
    }
    assert erase_inbound(session, contact_ids=[], numbers=[]) == 0


def test_a_message_with_a_nul_character_is_stored_with_a_replacement(
    session: Session, campaign_settings: Settings
) -> None:
    result = text_in(session, campaign_settings, sender=ALICE, text="STOP\x00")
    session.commit()
    assert result.message.text == "STOP\ufffd"
    assert result.action == InboundAction.STOPPED  # the stray character is punctuation
