"""Workspace keywords on both databases: HORAIRES answered in the number's language, once per
inbound message, at most once per number in ten minutes, reserved words refused."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.inbound import RECEIVED, text_in
from tests.factories.keys import TEST_DIGEST

from textopt.accounts.models import AuditEntry
from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.consent.models import SuppressionReason
from textopt.consent.service import suppress
from textopt.db.engine import session_factory, session_scope
from textopt.errors import ConflictError, NotFoundError, ValidationError
from textopt.events.service import list_events
from textopt.inbound.models import InboundAction, InboundMessage
from textopt.inbound.service import apply_inbound, pending_inbound, store_inbound
from textopt.inbound.workspace_keywords import (
    create_keyword,
    delete_keyword,
    list_keywords,
    update_keyword,
)
from textopt.outbox.models import Message
from textopt.providers.mo import InboundSms

OPERATOR = Actor("cli", None, "cli:test", frozenset())
PARIS = "+33612345678"
LONDON = "+447911123456"
HOURS = {
    "fr": "Ouvert du lundi au samedi, 9h-19h. Fermé le 25 décembre.",
    "en": "Open Monday to Saturday, 9am-7pm. Closed on 25 December.",
}


def _replies(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.campaign_id.is_(None))))


def _horaires(session: Session, *, enabled: bool = True) -> None:
    create_keyword(
        session, actor=OPERATOR, word="Horaires", texts=HOURS, enabled=enabled, now=RECEIVED
    )
    session.commit()


def test_horaires_is_answered_in_french_for_a_french_number_and_in_english_for_a_british_one(
    session: Session, campaign_settings: Settings
) -> None:
    _horaires(session)
    alice = add_contact(session, PARIS)
    french = text_in(session, campaign_settings, sender=PARIS, text="horaires ", message_id="a")
    english = text_in(session, campaign_settings, sender=LONDON, text="HORAIRES?", message_id="b")
    session.commit()
    assert (french.action, french.message.workspace_keyword) == ("keyword_answered", "horaires")
    assert french.message.language == "fr"
    assert french.reply is not None
    assert english.reply is not None
    assert (french.reply.recipient, french.reply.purpose) == (PARIS, "transactional")
    assert french.reply.body == HOURS["fr"]
    assert (english.reply.recipient, english.reply.body) == (LONDON, HOURS["en"])
    assert english.message.language == "en"
    assert len(_replies(session)) == 2
    # the known contact gets an event; the unknown London number has no contact to hold one
    [event] = list_events(session, contact_id=alice.id)
    assert (event.type, event.source) == ("keyword.horaires", "inbound")
    assert event.properties == {
        "inbound_message_id": french.message.id,
        "answered": True,
        "language": "fr",
    }


def test_a_redelivered_mo_is_answered_once(session: Session, campaign_settings: Settings) -> None:
    _horaires(session)
    sms = InboundSms("sandbox", "smsc-7", PARIS, "36111", "Horaires", RECEIVED)
    for _ in range(2):  # the SMSC did not see our acknowledgement and delivers it again
        store_inbound(
            session,
            messages=[sms],
            now=RECEIVED,
            default_region="FR",
            digest=TEST_DIGEST,
        )
        session.commit()
        for inbound_id in pending_inbound(session, limit=10):
            apply_inbound(session, inbound_id=inbound_id, settings=campaign_settings, now=RECEIVED)
        session.commit()
    first = session.scalars(
        select(InboundMessage).where(InboundMessage.provider_message_id == "smsc-7")
    ).one()
    assert first.action == InboundAction.KEYWORD_ANSWERED
    # the same message through the HTTP path (a provider retrying its webhook)
    again = text_in(session, campaign_settings, sender=PARIS, text="Horaires", message_id="smsc-7")
    session.commit()
    assert not again.created
    assert again.reply is not None
    assert again.reply.id == first.reply_message_id
    assert [m.body for m in _replies(session)] == [HOURS["fr"]]


def test_a_second_ask_within_ten_minutes_is_recorded_as_not_answered_with_its_reason(
    session: Session, campaign_settings: Settings
) -> None:
    _horaires(session)
    alice = add_contact(session, PARIS)
    times = [RECEIVED, RECEIVED + dt.timedelta(minutes=9), RECEIVED + dt.timedelta(minutes=11)]
    results = [
        text_in(
            session, campaign_settings, sender=PARIS, text="horaires", message_id=f"m{i}", at=at
        )
        for i, at in enumerate(times)
    ]
    session.commit()
    assert [r.action for r in results] == [
        "keyword_answered",
        "keyword_rate_limited",
        "keyword_answered",  # ten minutes after the first answer, not after the second ask
    ]
    assert results[1].reply is None
    assert len(_replies(session)) == 2
    events = list_events(session, contact_id=alice.id)
    assert [e.properties["answered"] for e in events] == [True, False, True]
    # another number is answered at once
    other = text_in(session, campaign_settings, sender="+33611111111", text="Horaires", at=times[1])
    assert other.action == "keyword_answered"


def test_a_keyword_switched_off_is_kept_unanswered(
    session: Session, campaign_settings: Settings
) -> None:
    _horaires(session, enabled=False)
    result = text_in(session, campaign_settings, sender=PARIS, text="Horaires")
    session.commit()
    assert (result.action, result.reply) == ("keyword_off", None)
    update_keyword(session, actor=OPERATOR, word_or_id="HORAIRES", enabled=True, now=RECEIVED)
    result = text_in(session, campaign_settings, sender=PARIS, text="Horaires", message_id="2")
    assert result.action == "keyword_answered"


def test_an_answer_to_a_number_that_sent_stop_goes_but_not_to_an_operators_block(
    session: Session, campaign_settings: Settings
) -> None:
    _horaires(session)
    text_in(session, campaign_settings, sender=PARIS, text="STOP", message_id="stop")
    asked = text_in(session, campaign_settings, sender=PARIS, text="Horaires", message_id="h1")
    session.commit()
    assert asked.reply is not None
    assert asked.reply.status == "planned"
    blocked = "+33622222222"
    suppress(
        session, digest=TEST_DIGEST, phone=blocked, channel="sms", reason=SuppressionReason.MANUAL
    )
    refused = text_in(session, campaign_settings, sender=blocked, text="Horaires", message_id="h2")
    session.commit()
    assert refused.reply is not None
    assert (refused.reply.status, refused.reply.reason) == ("blocked", "suppressed")


@pytest.mark.parametrize(
    ("word", "says"),
    [
        ("STOP", "reserved"),
        ("arrêt", "reserved"),
        ("Oui", "reserved"),
        ("aide", "reserved"),
        ("INFO", "reserved"),
        ("unsubscribe", "reserved"),
        ("opening hours", "one word"),
        ("HORAIRES!", "one word"),
        ("", "one word"),
        ("2026", "at least one letter"),
        ("x" * 33, "one word"),
    ],
)
def test_reserved_and_malformed_words_are_refused(session: Session, word: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says) as raised:
        create_keyword(session, actor=OPERATOR, word=word, texts=HOURS, now=RECEIVED)
    assert raised.value.field == "word"


def test_keywords_are_created_changed_and_deleted_with_an_audit_entry_each(
    session: Session,
) -> None:
    _horaires(session)
    with pytest.raises(ConflictError, match="exists already"):
        create_keyword(session, actor=OPERATOR, word="HORAIRES", texts=HOURS, now=RECEIVED)
    with pytest.raises(ValidationError, match="not a language"):
        create_keyword(session, actor=OPERATOR, word="promo", texts={"it": "x"}, now=RECEIVED)
    with pytest.raises(ValidationError, match="at least one language"):
        create_keyword(session, actor=OPERATOR, word="promo", texts={}, now=RECEIVED)
    changed = update_keyword(
        session, actor=OPERATOR, word_or_id="horaires", texts={"fr": "9h-18h"}, now=RECEIVED
    )
    assert changed.texts == {"fr": "9h-18h"}
    assert [k.label for k in list_keywords(session)] == ["HORAIRES"]
    delete_keyword(session, actor=OPERATOR, word_or_id=changed.id)
    session.commit()
    assert list_keywords(session) == []
    with pytest.raises(NotFoundError):
        delete_keyword(session, actor=OPERATOR, word_or_id="horaires")
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_type == "keyword").order_by(AuditEntry.id)
    ).all()
    assert actions == ["keyword.created", "keyword.changed", "keyword.deleted"]


def test_an_ask_on_a_sunday_night_is_answered_at_once_as_an_answer_is_no_marketing(
    session: Session, campaign_settings: Settings
) -> None:
    _horaires(session)
    sunday_night = dt.datetime(2026, 11, 29, 22, 30, tzinfo=dt.UTC)  # 23:30 in Paris
    result = text_in(session, campaign_settings, sender=PARIS, text="Horaires", at=sunday_night)
    session.commit()
    assert result.reply is not None
    assert (result.reply.status, result.reply.deferred) == ("planned", False)
    assert result.reply.send_at is not None
    assert result.reply.send_at <= sunday_night


def test_two_asks_applied_at_once_by_two_workers_get_one_answer_on_postgresql(
    engine: Engine, campaign_settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the second worker cannot start meanwhile")
    with session_scope(engine) as s:
        create_keyword(s, actor=OPERATOR, word="horaires", texts=HOURS, now=RECEIVED)
        first, second = store_inbound(
            s,
            messages=[
                InboundSms("sandbox", f"mo-{n}", PARIS, "36111", "Horaires", RECEIVED)
                for n in (1, 2)
            ],
            now=RECEIVED,
            default_region="FR",
            digest=TEST_DIGEST,
        )
    factory = session_factory(engine)
    outcome: dict[str, str] = {}

    def apply_second() -> None:
        with factory() as other:
            result = apply_inbound(
                other, inbound_id=second, settings=campaign_settings, now=RECEIVED
            )
            assert result is not None
            outcome["second"] = result.action
            other.commit()

    with factory() as holder:
        held = apply_inbound(holder, inbound_id=first, settings=campaign_settings, now=RECEIVED)
        assert held is not None
        assert held.action == "keyword_answered"  # not committed yet: the keyword stays locked
        worker = threading.Thread(target=apply_second)
        worker.start()
        with engine.connect() as watcher:  # until the second worker waits for that lock
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            for _ in range(1_000):
                if watcher.execute(waiting).scalar_one():
                    break
                watcher.rollback()
                threading.Event().wait(0.01)
        assert "second" not in outcome  # it cannot decide before the first answer commits
        holder.commit()
    worker.join()
    assert outcome == {"second": "keyword_rate_limited"}
    with factory() as s:
        assert len(_replies(s)) == 1
