"""Conversations on both databases: opened with the stored message (batch path included),
counted unread, reopened, replied to conversationally within 24 hours and through the policy
after, STOP honoured, assigned, closed, erased; `message.received` written with the message."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.factories.keys import TEST_DIGEST

from textopt.accounts.models import AuditEntry, Role
from textopt.accounts.service import Actor, create_user
from textopt.config import Settings
from textopt.conversations.models import Conversation, ConversationReply
from textopt.conversations.replies import reply_to_conversation, reply_window
from textopt.conversations.service import (
    assign_conversation,
    close_conversation,
    list_conversations,
    mark_read,
    reopen_conversation,
    thread,
    unread_total,
)
from textopt.errors import ValidationError
from textopt.gdpr.service import erase_person
from textopt.inbound.service import store_inbound
from textopt.outbox.models import Message
from textopt.providers.mo import InboundSms
from textopt.webhooks.models import WebhookDelivery, WebhookEndpoint

OPERATOR = Actor("cli", None, "cli:test", frozenset())
PARIS = "+33612345678"
UNKNOWN = "+33698765432"
#: A Wednesday at 23:00 in Paris (22:00 UTC): outside every marketing window.
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=dt.UTC)


def _conversation(session: Session, **where: object) -> Conversation:
    return session.scalars(select(Conversation).filter_by(**where)).one()


def test_messages_open_one_conversation_per_contact_or_number_and_count_unread(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, PARIS, first_name="Alice")
    text_in(session, campaign_settings, sender=PARIS, text="Bonjour", message_id="1", at=NIGHT)
    text_in(
        session,
        campaign_settings,
        sender=PARIS,
        text="Vous êtes là ?",
        message_id="2",
        at=NIGHT + dt.timedelta(minutes=5),
    )
    text_in(
        session, campaign_settings, sender=UNKNOWN, text="Qui est-ce ?", message_id="3", at=NIGHT
    )
    session.commit()
    known = _conversation(session, contact_id=alice.id)
    stranger = _conversation(session, phone=UNKNOWN)
    assert (known.state, known.unread_count, known.phone) == ("open", 2, None)
    assert known.last_inbound_at == NIGHT + dt.timedelta(minutes=5)
    assert (stranger.contact_id, stranger.unread_count) == (None, 1)
    assert unread_total(session) == 3
    [first, second] = list_conversations(session, show="open")
    assert (first.conversation.id, first.name, first.last_text) == (
        known.id,
        "Alice",
        "Vous êtes là ?",
    )
    assert (second.number, second.name) == (UNKNOWN, UNKNOWN)
    assert [e.text for e in thread(session, conversation=known)] == ["Bonjour", "Vous êtes là ?"]


def test_a_batch_from_the_network_opens_each_conversation_once_and_a_retry_counts_nothing(
    session: Session, campaign_settings: Settings
) -> None:
    batch = [
        InboundSms(
            "sandbox", f"mo-{i}", PARIS if i % 2 else UNKNOWN, "+33700000000", f"m{i}", NIGHT
        )
        for i in range(10)
    ]
    stored = store_inbound(
        session, messages=batch, now=NIGHT, default_region="FR", digest=TEST_DIGEST
    )
    again = store_inbound(
        session, messages=batch, now=NIGHT, default_region="FR", digest=TEST_DIGEST
    )
    session.commit()
    assert (len(stored), again) == (10, [])
    counts = {c.phone: c.unread_count for c in session.scalars(select(Conversation))}
    assert counts == {PARIS: 5, UNKNOWN: 5}


def test_a_closed_conversation_is_reopened_by_the_next_message_and_changes_are_audited(
    session: Session, campaign_settings: Settings
) -> None:
    add_contact(session, PARIS)
    text_in(session, campaign_settings, sender=PARIS, text="Bonjour", message_id="1", at=NIGHT)
    session.commit()
    conversation = session.scalars(select(Conversation)).one()
    user = create_user(
        session,
        email="agent@example.org",
        password="a long passphrase",
        role=Role.MARKETER,
        created_by=OPERATOR,
    )
    assign_conversation(
        session,
        actor=OPERATOR,
        conversation_id=conversation.id,
        user="agent@example.org",
        now=NIGHT,
    )
    assert [
        s.conversation.id for s in list_conversations(session, show="mine", user_id=user.id)
    ] == [conversation.id]
    assert list_conversations(session, show="mine", user_id=None) == []  # nobody's own
    create_user(
        session,
        email="reader@example.org",
        password="a long passphrase",
        role=Role.VIEWER,
        created_by=OPERATOR,
    )
    with pytest.raises(ValidationError, match="cannot open the inbox"):
        assign_conversation(
            session,
            actor=OPERATOR,
            conversation_id=conversation.id,
            user="reader@example.org",
            now=NIGHT,
        )
    mark_read(session, conversation_id=conversation.id, now=NIGHT)
    close_conversation(session, actor=OPERATOR, conversation_id=conversation.id, now=NIGHT)
    session.commit()
    assert (conversation.state, conversation.unread_count, unread_total(session)) == (
        "closed",
        0,
        0,
    )
    assert list_conversations(session, show="open") == []
    text_in(
        session,
        campaign_settings,
        sender=PARIS,
        text="Encore moi",
        message_id="2",
        at=NIGHT + dt.timedelta(hours=1),
    )
    session.commit()
    session.refresh(conversation)
    assert (conversation.state, conversation.unread_count, conversation.closed_at) == (
        "open",
        1,
        None,
    )
    close_conversation(session, actor=OPERATOR, conversation_id=conversation.id, now=NIGHT)
    reopen_conversation(session, actor=OPERATOR, conversation_id=conversation.id, now=NIGHT)
    session.commit()
    actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-4:] == [
        "conversation.assign",
        "conversation.close",
        "conversation.close",
        "conversation.reopen",
    ]
    with pytest.raises(ValidationError, match="not a list of the inbox"):
        list_conversations(session, show="everything")


def test_a_reply_within_24_hours_is_conversational_even_at_night_and_without_consent(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, PARIS, consent_at=None)
    text_in(
        session, campaign_settings, sender=PARIS, text="Ma commande ?", message_id="1", at=NIGHT
    )
    session.commit()
    conversation = _conversation(session, contact_id=alice.id)
    now = NIGHT + dt.timedelta(minutes=10)
    result = reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=conversation.id,
        text="Elle part demain {{ first_name }}",
        now=now,
    )
    session.commit()
    message = result.message
    # no brand, no STOP footer, sent now at 23:10 Paris time, the text as written
    assert (result.reply.kind, message.purpose) == ("conversational", "transactional")
    assert (message.status, message.reason, message.send_at) == ("planned", None, now)
    assert message.body == "Elle part demain {{ first_name }}"
    assert (message.recipient, message.provider) == (PARIS, "sandbox")
    assert (conversation.unread_count, conversation.last_activity_at) == (0, now)
    [entry] = [e for e in thread(session, conversation=conversation) if e.direction == "out"]
    assert (entry.reply, entry.message) == (result.reply, message)
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "conversation.reply")
    ).one()
    assert (audit.actor_label, audit.detail["kind"], audit.detail["message_id"]) == (
        "cli:test",
        "conversational",
        message.id,
    )


def test_after_24_hours_the_user_chooses_and_the_policy_decides_with_its_reason(
    session: Session, campaign_settings: Settings
) -> None:
    add_contact(session, PARIS, consent_at=None)
    add_contact(session, UNKNOWN)  # consent to marketing
    for number, key in ((PARIS, "1"), (UNKNOWN, "2")):
        text_in(session, campaign_settings, sender=number, text="Bonjour", message_id=key, at=NIGHT)
    session.commit()
    later = NIGHT + dt.timedelta(days=1, minutes=1)  # Thursday 23:01 in Paris
    without, consented = (
        _conversation(session, contact_id=c)
        for c in sorted(session.scalars(select(Conversation.contact_id)))
    )
    assert reply_window(session, conversation=without, now=later).state == "expired"
    with pytest.raises(ValidationError, match="24 hours old or more"):
        reply_to_conversation(
            session,
            actor=OPERATOR,
            settings=campaign_settings,
            conversation_id=without.id,
            text="Promo",
            now=later,
        )
    with pytest.raises(ValidationError, match="24 hours old or more"):
        reply_to_conversation(
            session,
            actor=OPERATOR,
            settings=campaign_settings,
            conversation_id=without.id,
            text="Promo",
            kind="conversational",
            now=later,
        )
    blocked = reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=without.id,
        text="-20% ce week-end",
        kind="marketing",
        now=later,
    ).message
    held = reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=consented.id,
        text="-20% ce week-end",
        kind="marketing",
        now=later,
    ).message
    session.commit()
    assert (blocked.status, blocked.reason) == ("blocked", "no_consent")
    assert (held.status, held.reason) == ("planned", "quiet_hours")
    assert held.send_at is not None
    assert held.send_at > later
    assert held.body is not None
    assert "STOP" in held.body
    assert "Boutique" in held.body
    [shown] = [e.as_dict() for e in thread(session, conversation=without) if e.direction == "out"]
    assert (shown["status"], shown["reason"], shown["reply_kind"]) == (
        "blocked",
        "no_consent",
        "marketing",
    )
    assert shown["reason_text"]


def test_after_a_stop_only_a_later_question_opens_the_window_and_marketing_stays_refused(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, PARIS)
    text_in(session, campaign_settings, sender=PARIS, text="STOP", message_id="1", at=NIGHT)
    session.commit()
    conversation = _conversation(session, contact_id=alice.id)
    now = NIGHT + dt.timedelta(minutes=1)
    assert reply_window(session, conversation=conversation, now=now).state == "stopped"
    with pytest.raises(ValidationError, match="is a STOP"):
        reply_to_conversation(
            session,
            actor=OPERATOR,
            settings=campaign_settings,
            conversation_id=conversation.id,
            text="Dommage !",
            now=now,
        )
    refused = reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=conversation.id,
        text="Revenez : -20%",
        kind="marketing",
        now=now,
    ).message
    text_in(
        session,
        campaign_settings,
        sender=PARIS,
        text="Et ma commande ?",
        message_id="2",
        at=now,
    )
    answer = reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=conversation.id,
        text="Elle arrive demain.",
        now=now + dt.timedelta(minutes=1),
    ).message
    session.commit()
    assert (refused.status, refused.reason) == ("blocked", "suppressed")
    # the question after the STOP is answered: STOP stops marketing only
    assert (answer.status, answer.reason) == ("planned", None)


def test_message_received_is_written_with_the_message_and_erasure_removes_the_conversation(
    session: Session, campaign_settings: Settings
) -> None:
    session.add(
        WebhookEndpoint(
            url="https://hooks.example.org/in", events=["message.received"], secret_salt="s"
        )
    )
    alice = add_contact(session, PARIS)
    session.commit()
    result = text_in(
        session, campaign_settings, sender=PARIS, text="Bonjour", message_id="1", at=NIGHT
    )
    session.rollback()  # the message, its conversation and its webhook go together
    assert session.scalars(select(WebhookDelivery)).all() == []
    assert session.scalars(select(Conversation)).all() == []
    result = text_in(
        session, campaign_settings, sender=PARIS, text="Bonjour", message_id="1", at=NIGHT
    )
    session.commit()
    conversation = _conversation(session, contact_id=alice.id)
    [delivery] = session.scalars(select(WebhookDelivery)).all()
    assert delivery.event == "message.received"
    assert delivery.payload["data"] == {
        "inbound_id": result.message.id,
        "conversation_id": conversation.id,
        "contact_id": alice.id,
        "from": PARIS,
        "to": result.message.recipient,
        "text": "Bonjour",
        "keyword": "none",
        "provider": "sandbox",
        "received_at": NIGHT.isoformat(),
    }
    reply_to_conversation(
        session,
        actor=OPERATOR,
        settings=campaign_settings,
        conversation_id=conversation.id,
        text="Bonjour Alice",
        now=NIGHT,
    )
    session.commit()
    erase_person(session, contact=alice, settings=campaign_settings)
    session.commit()
    assert session.scalars(select(Conversation)).all() == []
    assert session.scalars(select(ConversationReply)).all() == []
    assert session.scalars(select(Message)).all()  # the outbox keeps the reply, emptied
