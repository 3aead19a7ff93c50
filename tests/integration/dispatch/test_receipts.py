"""Receipts: matched to messages in bulk, even when they arrive before the provider's answer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, update
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import feedback_for

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.engine import session_scope
from textopt.dispatch.answers import record_results
from textopt.dispatch.claim import claim_batch
from textopt.dispatch.models import OrphanReceipt
from textopt.dispatch.receipts import record_receipts, resolve_orphan_receipts
from textopt.dispatch.recovery import recover_stale, release_unsent
from textopt.eligibility import workspace_policy
from textopt.outbox.models import Message, MessageEvent
from textopt.providers import Receipt, ReceiptStatus, SubmitOutcome, SubmitResult

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)


def _claim(engine: Engine, settings: Settings, worker: str = "w1") -> list[int]:
    with session_scope(engine) as s:
        report = claim_batch(
            s,
            worker=worker,
            provider="sandbox",
            rate=None,
            now=AT,
            limit=100,
            lease=dt.timedelta(minutes=2),
            workspace=workspace_policy(settings),
            digest=address_digester(settings.resolved_secret_key()),
        )
    return [m.message_id for m in report.sending]


def _setup(engine: Engine, settings: Settings, count: int = 2) -> None:
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234567{n}")
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)


def test_a_receipt_before_the_submit_answer_is_applied_when_the_answer_comes(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings)
    first, second = _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        early = Receipt("sandbox", "smsc-1", ReceiptStatus.DELIVERED, AT)
        assert (
            record_receipts(s, feedback=feedback_for(campaign_settings), receipts=[early], now=AT)
            == 0
        )
        assert s.scalars(select(OrphanReceipt)).one().provider_message_id == "smsc-1"
    with session_scope(engine) as s:
        record_results(
            s,
            feedback=feedback_for(campaign_settings),
            worker="w1",
            provider="sandbox",
            results=[
                SubmitResult(first, SubmitOutcome.ACCEPTED, "smsc-1"),
                SubmitResult(second, SubmitOutcome.PERMANENT, error_code="0x0B", error_text="bad"),
            ],
            now=AT,
            max_attempts=3,
        )
    with session_scope(engine) as s:
        assert s.get(Message, first).status == "delivered"  # type: ignore[union-attr]
        failed = s.get(Message, second)
        assert failed is not None
        assert (failed.status, failed.error_code) == ("failed", "0x0B")
        assert s.scalars(select(OrphanReceipt)).all() == []


def test_duplicate_and_late_receipts_do_not_move_a_final_message(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings, count=1)
    (message_id,) = _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        record_results(
            s,
            feedback=feedback_for(campaign_settings),
            worker="w1",
            provider="sandbox",
            now=AT,
            max_attempts=3,
            results=[SubmitResult(message_id, SubmitOutcome.ACCEPTED, "0")],
        )
    receipts = [
        Receipt("sandbox", "0", ReceiptStatus.DELIVERED, AT),
        Receipt("sandbox", "0", ReceiptStatus.DELIVERED, AT),
        Receipt("sandbox", "0", ReceiptStatus.FAILED, AT, error_code="001"),
    ]
    with session_scope(engine) as s:
        assert (
            record_receipts(s, feedback=feedback_for(campaign_settings), receipts=receipts, now=AT)
            == 1
        )
    with session_scope(engine) as s:
        assert s.get(Message, message_id).status == "delivered"  # type: ignore[union-attr]
        events = s.scalars(select(MessageEvent.status).where(MessageEvent.message_id == message_id))
        assert list(events).count("delivered") == 2  # every receipt is kept as an event


def test_an_answer_after_the_lease_was_lost_does_not_resurrect_the_message(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings, count=1)
    (message_id,) = _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        assert recover_stale(s, now=AT + dt.timedelta(minutes=5)) == (1, 0)
    with session_scope(engine) as s:
        report = record_results(
            s,
            feedback=feedback_for(campaign_settings),
            worker="w1",
            provider="sandbox",
            now=AT,
            max_attempts=3,
            results=[SubmitResult(message_id, SubmitOutcome.ACCEPTED, "smsc-9")],
        )
        assert report.late == 1
    with session_scope(engine) as s:
        receipt = Receipt("sandbox", "smsc-9", ReceiptStatus.DELIVERED, AT)
        record_receipts(s, feedback=feedback_for(campaign_settings), receipts=[receipt], now=AT)
    with session_scope(engine) as s:
        message = s.get(Message, message_id)
        assert message is not None
        assert (message.status, message.provider_message_id) == ("delivered", "smsc-9")


def test_a_receipt_stored_while_the_answer_was_being_recorded_is_applied_by_the_sweep(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings, count=1)
    (message_id,) = _claim(engine, campaign_settings)
    with session_scope(engine) as s:  # the receipt lands before the answer is visible
        receipt = Receipt("sandbox", "smsc-7", ReceiptStatus.DELIVERED, AT)
        assert (
            record_receipts(s, feedback=feedback_for(campaign_settings), receipts=[receipt], now=AT)
            == 0
        )
    with session_scope(engine) as s:  # the answer, recorded without seeing the orphan
        s.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(status="submitted", provider_message_id="smsc-7")
        )
    with session_scope(engine) as s:
        stale = Receipt("sandbox", "never-sent", ReceiptStatus.FAILED, AT - dt.timedelta(days=9))
        record_receipts(s, feedback=feedback_for(campaign_settings), receipts=[stale], now=AT)
    with session_scope(engine) as s:
        assert resolve_orphan_receipts(s, feedback=feedback_for(campaign_settings), now=AT) == 1
    with session_scope(engine) as s:
        assert s.get(Message, message_id).status == "delivered"  # type: ignore[union-attr]
        assert s.scalars(select(OrphanReceipt)).all() == []  # the 9-day-old one is dropped


def test_a_promotion_without_an_answer_is_unknown_and_never_resent(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings, count=2)
    first, second = _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        report = record_results(
            s,
            feedback=feedback_for(campaign_settings),
            worker="w1",
            provider="sandbox",
            now=AT,
            max_attempts=3,
            results=[
                SubmitResult(first, SubmitOutcome.TEMPORARY, error_code="timeout", ambiguous=True),
                SubmitResult(second, SubmitOutcome.TEMPORARY, error_code="not_connected"),
            ],
        )
        assert (report.unknown, report.retried) == (1, 1)
    with session_scope(engine) as s:
        assert s.get_one(Message, first).status == "unknown"
        assert s.get_one(Message, second).status == "queued"


def test_a_batch_claimed_and_never_handed_over_goes_back_to_the_queue_its_attempt_undone(
    engine: Engine, campaign_settings: Settings
) -> None:
    _setup(engine, campaign_settings, count=2)
    claimed = _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        # another worker's claim is not this one's to release
        assert release_unsent(s, worker="w2", ids=claimed, now=AT) == []
        assert sorted(release_unsent(s, worker="w1", ids=claimed, now=AT)) == sorted(claimed)
    with session_scope(engine) as s:
        rows = s.scalars(select(Message).where(Message.id.in_(claimed))).all()
        assert {(m.status, m.attempts, m.lease_until) for m in rows} == {("queued", 0, None)}
    assert sorted(_claim(engine, campaign_settings, worker="w2")) == sorted(claimed)
