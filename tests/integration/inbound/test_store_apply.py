"""Inbound messages stored as they came, then applied once: any sender, any text, a crash."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import add_contact
from tests.factories.inbound import RECEIVED, text_in
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.db.engine import session_factory, session_scope
from textopt.inbound.models import SENDER_MAX, InboundAction, InboundMessage
from textopt.inbound.service import (
    TEXT_MAX,
    InboundResult,
    apply_inbound,
    erase_inbound,
    list_inbound,
    mark_inbound_failed,
    pending_inbound,
    record_inbound,
    store_inbound,
)
from textopt.outbox.models import Message
from textopt.providers.mo import InboundSms

ALICE = "+33612345678"
BOB = "+33611111111"
LATER = RECEIVED + dt.timedelta(minutes=1)


def _mo(sender: str, text: str, message_id: str, *, provider: str = "sandbox") -> InboundSms:
    return InboundSms(provider, message_id, sender, "36111", text, RECEIVED)


def _replies(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.campaign_id.is_(None))))


def _apply_pending(session: Session, settings: Settings) -> dict[str, str | None]:
    """Apply every pending message; provider id -> action."""
    for inbound_id in pending_inbound(session, limit=100):
        apply_inbound(session, inbound_id=inbound_id, settings=settings, now=LATER)
    session.commit()
    return {m.provider_message_id: m.action for m in list_inbound(session)}


#: (provider id, sender, text): what real SMSCs hand over every day.
HOSTILE = [
    ("short-code", "36111", "STOP"),
    ("operator", "Orange", "Votre forfait est renouvelé. STOP"),
    ("us-national", "4155550100", "STOP"),  # a US number without +1: not one in France
    ("empty", "", "STOP"),
    ("overlong", "X" * 300, "HELP"),
    ("replaced", "\ufffd\ufffd\ufffd", "\ufffd\ufffdST\ufffdOP \x00"),
    ("lone-half", "3362000135", "caf\ud83d \U0001f600 \ud83d\ude00"),
    ("long-text", "+33 7 56 78 90 12", "Bonjour " + "x" * 1_992),
]


def test_hostile_senders_are_stored_as_they_came_and_a_real_stop_still_applies(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    session.commit()
    messages = [_mo(sender, text, key) for key, sender, text in HOSTILE]
    messages += [_mo("06 12 34 56 78", "Stop", "alice"), _mo(BOB, "STOP", "bob")]
    ids = store_inbound(
        session, digest=TEST_DIGEST, messages=messages, now=RECEIVED, default_region="FR"
    )
    session.commit()
    assert len(ids) == len(messages)
    stored = {m.provider_message_id: m for m in list_inbound(session)}
    assert stored["short-code"].sender == "36111"  # parse_phone says: not a French number
    assert stored["operator"].sender == "Orange"
    assert stored["empty"].sender == ""
    assert stored["overlong"].sender == "X" * SENDER_MAX
    assert stored["replaced"].text == "\ufffd\ufffdST\ufffdOP \ufffd"
    assert stored["lone-half"].text == "caf\ufffd \U0001f600 \U0001f600"  # halves rejoined
    assert stored["long-text"].text == "Bonjour " + "x" * 1_992
    assert {k: m.phone for k, m in stored.items() if m.phone} == {
        "long-text": "+33756789012",
        "alice": ALICE,
        "bob": BOB,
    }
    assert {k: m.contact_id for k, m in stored.items() if m.contact_id} == {"alice": alice.id}
    assert all(m.action is None and m.handled_at is None for m in stored.values())
    assert stored["alice"].keyword == "stop"

    actions = _apply_pending(session, campaign_settings)
    assert actions == {
        "short-code": "not_a_number",
        "operator": "stored",  # a sentence with STOP in it is no opt-out
        "us-national": "not_a_number",
        "empty": "not_a_number",
        "overlong": "not_a_number",
        "replaced": "stored",
        "lone-half": "stored",
        "long-text": "stored",
        "alice": "stopped",
        "bob": "stopped",  # no contact: the number is suppressed all the same
    }
    assert sorted(r.recipient or "" for r in _replies(session)) == [BOB, ALICE]
    for number in (ALICE, BOB):
        assert consent.suppression_reasons(
            session, digest=TEST_DIGEST, phone=number, channel="sms"
        ) == ["keyword"]
    assert consent.current_consent(session, contact_id=alice.id)[("sms", "marketing")].status == (
        "revoked"
    )
    assert pending_inbound(session, limit=100) == []


@pytest.mark.parametrize("sender", ["36111", "Orange", "", "X" * 300])
def test_a_stop_from_a_sender_that_is_no_number_is_kept_and_never_answered(
    session: Session, campaign_settings: Settings, sender: str
) -> None:
    result = text_in(session, campaign_settings, sender=sender, text="STOP", message_id="m1")
    session.commit()
    assert (result.created, result.action, result.reply) == (True, "not_a_number", None)
    assert (result.message.sender, result.message.phone) == (sender[:SENDER_MAX], None)
    assert result.message.handled_at is not None
    assert _replies(session) == []
    again = text_in(session, campaign_settings, sender=sender, text="STOP", message_id="m1")
    assert (again.created, again.message.id) == (False, result.message.id)


def test_store_inbound_keeps_one_row_per_provider_message_id(
    session: Session, campaign_settings: Settings
) -> None:
    first = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "Bonjour", "m1"), _mo(ALICE, "Bonjour", "m1"), _mo(BOB, "Hi", "m2")],
        now=RECEIVED,
    )
    session.commit()
    assert len(first) == 2
    again = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "Bonjour", "m1"), _mo(BOB, "Hi", "m3")],
        now=RECEIVED,
    )
    session.commit()
    assert len(again) == 1
    assert again[0] not in first
    other_account = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "Bonjour", "m1", provider="twilio")],
        now=RECEIVED,
    )
    assert len(other_account) == 1  # the id is the provider's own: unique per account
    assert (
        store_inbound(session, default_region="FR", digest=TEST_DIGEST, messages=[], now=RECEIVED)
        == []
    )


def test_an_overlong_provider_id_is_stored_once_and_a_retry_finds_it(
    session: Session, campaign_settings: Settings
) -> None:
    long_id = "id-" + "9" * 400
    result = text_in(session, campaign_settings, sender=ALICE, text="Hi", message_id=long_id)
    twin = text_in(session, campaign_settings, sender=ALICE, text="Hi", message_id=long_id + "0")
    again = text_in(session, campaign_settings, sender=ALICE, text="Hi", message_id=long_id)
    session.commit()
    assert len(result.message.provider_message_id) == 100
    assert result.message.provider_message_id.startswith("id-999")
    assert twin.created  # same first 100 characters, another message
    assert (again.created, again.message.id) == (False, result.message.id)


def test_a_text_past_the_bound_is_cut_not_refused(
    session: Session, campaign_settings: Settings
) -> None:
    [inbound_id] = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "STOP " + "x" * TEXT_MAX, "big")],
        now=RECEIVED,
    )
    session.commit()
    stored = session.get_one(InboundMessage, inbound_id)
    assert stored.text is not None
    assert len(stored.text) == TEXT_MAX


def test_apply_inbound_applies_once(session: Session, campaign_settings: Settings) -> None:
    add_contact(session, ALICE)
    [inbound_id] = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "STOP", "m1")],
        now=RECEIVED,
    )
    session.commit()
    result = apply_inbound(session, inbound_id=inbound_id, settings=campaign_settings, now=LATER)
    session.commit()
    assert result is not None
    assert (result.created, result.action, result.message.handled_at) == (True, "stopped", LATER)
    assert result.reply is not None
    assert (
        apply_inbound(session, inbound_id=inbound_id, settings=campaign_settings, now=LATER) is None
    )
    assert len(_replies(session)) == 1
    assert apply_inbound(session, inbound_id=10_000, settings=campaign_settings, now=LATER) is None


def test_pending_inbound_lists_what_is_not_applied_oldest_first(
    session: Session, campaign_settings: Settings
) -> None:
    first = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "a", "m1"), _mo(BOB, "b", "m2")],
        now=RECEIVED,
    )
    later = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "c", "m3")],
        now=RECEIVED,
    )
    session.commit()
    assert pending_inbound(session, limit=10) == [*first, *later]
    assert pending_inbound(session, limit=2) == first
    apply_inbound(session, inbound_id=first[1], settings=campaign_settings, now=LATER)
    session.commit()
    assert pending_inbound(session, limit=10) == [first[0], *later]


def test_a_message_stored_before_a_crash_is_applied_afterwards(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        store_inbound(
            s,
            default_region="FR",
            digest=TEST_DIGEST,
            messages=[_mo("06 12 34 56 78", "Stop", "m1")],
            now=RECEIVED,
        )
    with session_scope(engine) as s:  # the contact arrives between storing and applying
        alice = add_contact(s, ALICE)
        alice_id = alice.id
    with session_factory(engine)() as s:  # a new process
        [inbound_id] = pending_inbound(s, limit=10)
        result = apply_inbound(s, inbound_id=inbound_id, settings=campaign_settings, now=LATER)
        s.commit()
        assert result is not None
        assert (result.action, result.message.contact_id) == ("stopped", alice_id)
        assert result.reply is not None


def test_a_failed_message_keeps_its_error_and_leaves_the_queue(
    session: Session, campaign_settings: Settings
) -> None:
    ids = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "STOP", "m1"), _mo(BOB, "x", "m2")],
        now=RECEIVED,
    )
    session.commit()
    mark_inbound_failed(session, inbound_id=ids[0], error="boom: \x00 ledger", now=LATER)
    session.commit()
    failed = session.get_one(InboundMessage, ids[0])
    session.refresh(failed)
    assert (failed.action, failed.handled_at) == (InboundAction.FAILED, LATER)
    assert failed.error == "boom: \ufffd ledger"
    assert pending_inbound(session, limit=10) == [ids[1]]
    assert apply_inbound(session, inbound_id=ids[0], settings=campaign_settings, now=LATER) is None

    applied = apply_inbound(session, inbound_id=ids[1], settings=campaign_settings, now=LATER)
    assert applied is not None
    mark_inbound_failed(session, inbound_id=ids[1], error="too late", now=LATER)
    session.commit()
    kept = session.get_one(InboundMessage, ids[1])
    session.refresh(kept)
    assert (kept.action, kept.error) == ("stored", None)  # an applied message keeps its outcome


def test_a_message_erased_before_it_was_applied_is_closed_as_erased(
    session: Session, campaign_settings: Settings
) -> None:
    ids = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo("06 11 11 11 11", "STOP", "m1")],
        now=RECEIVED,
    )
    assert erase_inbound(session, contact_ids=[], numbers=[BOB]) == 1
    result = apply_inbound(session, inbound_id=ids[0], settings=campaign_settings, now=LATER)
    session.commit()
    assert result is not None
    assert (result.action, result.reply) == (InboundAction.ERASED, None)


def test_erasure_empties_sender_number_text_and_error(
    session: Session, campaign_settings: Settings
) -> None:
    # stored before Bob was a contact, in national notation: found by the number it parses to
    ids = store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo("06 11 11 11 11", "Salut", "m1"), _mo("Orange", "Info", "m2")],
        now=RECEIVED,
    )
    mark_inbound_failed(session, inbound_id=ids[0], error="failed on 'Salut'", now=LATER)
    assert erase_inbound(session, contact_ids=[], numbers=[BOB]) == 1
    session.commit()
    rows = {
        m.provider_message_id: (m.sender, m.phone, m.text, m.error) for m in list_inbound(session)
    }
    assert rows == {"m1": (None, None, None, None), "m2": ("Orange", None, "Info", None)}


def test_record_inbound_returns_the_first_result_to_a_retry(
    session: Session, campaign_settings: Settings
) -> None:
    add_contact(session, ALICE)

    def record() -> InboundResult:
        return record_inbound(
            session,
            provider="sandbox",
            provider_message_id="m1",
            sender="06 12 34 56 78",
            recipient="36111",
            text="Stop",
            received_at=RECEIVED,
            settings=campaign_settings,
            now=RECEIVED,
        )

    first, second = record(), record()
    session.commit()
    assert first.created
    assert not second.created
    assert second.message.id == first.message.id
    assert first.reply is not None
    assert second.reply is not None
    assert second.reply.id == first.reply.id
    assert second.action == "stopped"
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_record_inbound_applies_a_message_stored_but_not_yet_applied(
    session: Session, campaign_settings: Settings
) -> None:
    store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "STOP", "m1")],
        now=RECEIVED,
    )
    result = text_in(session, campaign_settings, sender=ALICE, text="STOP", message_id="m1")
    assert result.action == InboundAction.STOPPED
    assert len(_replies(session)) == 1


def test_a_message_being_applied_elsewhere_is_skipped_on_postgresql(
    engine: Engine, campaign_settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: there is no row lock to skip")
    with session_scope(engine) as s:
        [inbound_id] = store_inbound(
            s,
            default_region="FR",
            digest=TEST_DIGEST,
            messages=[_mo(ALICE, "STOP", "m1")],
            now=RECEIVED,
        )
    factory = session_factory(engine)
    with factory() as holder, factory() as other:
        held = apply_inbound(holder, inbound_id=inbound_id, settings=campaign_settings, now=LATER)
        assert held is not None  # applied, not committed: the row stays locked
        assert (
            apply_inbound(other, inbound_id=inbound_id, settings=campaign_settings, now=LATER)
            is None
        )
        holder.commit()
    with factory() as s:
        assert s.get_one(InboundMessage, inbound_id).action == "stopped"


def test_a_stored_stop_suppresses_at_once_and_is_confirmed_once_applied(
    session: Session, campaign_settings: Settings
) -> None:
    alice = add_contact(session, ALICE)
    session.commit()
    store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "STOP", "mo-1")],
        now=RECEIVED,
    )
    session.commit()
    # stored, not yet applied: no claim may send it marketing meanwhile
    assert consent.suppression_reasons(session, digest=TEST_DIGEST, phone=ALICE) == ["keyword"]
    assert pending_inbound(session, limit=10) != []
    store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(ALICE, "Stop", "mo-2")],
        now=RECEIVED,
    )
    session.commit()
    actions = _apply_pending(session, campaign_settings)
    assert actions == {"mo-1": "stopped", "mo-2": "already_stopped"}
    assert len(_replies(session)) == 1  # one confirmation, for the first
    state = consent.current_consent(session, contact_id=alice.id)[("sms", "marketing")]
    assert state.status == "revoked"
    # a number with no contact gets its confirmation too (its first STOP is no repeat)
    store_inbound(
        session,
        default_region="FR",
        digest=TEST_DIGEST,
        messages=[_mo(BOB, "STOP", "mo-3")],
        now=RECEIVED,
    )
    session.commit()
    assert _apply_pending(session, campaign_settings)["mo-3"] == "stopped"
    assert len(_replies(session)) == 2
