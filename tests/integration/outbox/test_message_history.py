"""A message's history reads the same whether its steps are event rows or held by its row.

The claim and the acceptance are held by the message row; every other step is an event
row. Each path below is run through the dispatcher's own functions and its history
compared, step for step (instant, state, detail), with the event rows the dispatcher wrote
for it before the row held any step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert, select, update
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import TEST_DIGEST, feedback_for

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import message_history
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.suppression import suppress
from textopt.db.engine import session_scope
from textopt.dispatch.answers import record_results
from textopt.dispatch.claim import claim_batch
from textopt.dispatch.failover import move_due_messages
from textopt.dispatch.receipts import close_unanswered, record_receipts
from textopt.dispatch.recovery import recover_stale, release_unsent
from textopt.eligibility import workspace_policy
from textopt.outbox.models import Message, MessageEvent
from textopt.providers import Receipt, ReceiptStatus, SubmitOutcome, SubmitResult

CLAIMED = WEDNESDAY_10H + dt.timedelta(minutes=1)
ANSWERED = CLAIMED + dt.timedelta(seconds=2)
RECEIVED = CLAIMED + dt.timedelta(seconds=30)
LEASE = dt.timedelta(minutes=2)
PHONE = "+33612345678"


def _at(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat()


def _step(instant: dt.datetime, status: str, **detail: Any) -> dict[str, Any]:
    return {"at": _at(instant), "status": status, "detail": detail}


def _sending(instant: dt.datetime = CLAIMED, worker: str = "w1") -> dict[str, Any]:
    return _step(instant, "sending", worker=worker)


def _submitted(message_id: int, instant: dt.datetime = ANSWERED, worker: str = "w1") -> Any:
    return _step(
        instant,
        "submitted",
        outcome="accepted",
        worker=worker,
        provider_message_id=f"smsc-{message_id}",
    )


def _campaign_message(engine: Engine, settings: Settings) -> int:
    """One planned marketing message of a running campaign, due at CLAIMED."""
    with session_scope(engine) as s:
        add_contact(s, PHONE)
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return s.scalars(select(Message.id)).one()


def _transactional_message(engine: Engine, settings: Settings) -> int:
    with session_scope(engine) as s:
        message, _ = enqueue_message(
            s, settings=settings, to=PHONE, text="Votre code : 4821", now=WEDNESDAY_10H
        )
        return message.id


def _claim(
    engine: Engine,
    settings: Settings,
    *,
    at: dt.datetime = CLAIMED,
    worker: str = "w1",
    provider: str = "sandbox",
) -> list[int]:
    with session_scope(engine) as s:
        report = claim_batch(
            s,
            worker=worker,
            provider=provider,
            rate=None,
            now=at,
            limit=100,
            lease=LEASE,
            workspace=workspace_policy(settings),
            digest=TEST_DIGEST,
        )
    return [m.message_id for m in report.sending]


def _answer(
    engine: Engine,
    settings: Settings,
    results: Sequence[SubmitResult],
    *,
    at: dt.datetime = ANSWERED,
    worker: str = "w1",
    provider: str = "sandbox",
) -> None:
    with session_scope(engine) as s:
        record_results(
            s,
            worker=worker,
            provider=provider,
            results=results,
            now=at,
            max_attempts=3,
            feedback=feedback_for(settings),
        )


def _accepted(message_id: int) -> SubmitResult:
    return SubmitResult(message_id, SubmitOutcome.ACCEPTED, f"smsc-{message_id}")


def _history(engine: Engine, message_id: int) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        return list(message_history(s, message_id=message_id)["events"])


def _event_rows(engine: Engine, message_id: int) -> int:
    with session_scope(engine) as s:
        return len(
            s.scalars(select(MessageEvent.id).where(MessageEvent.message_id == message_id)).all()
        )


def _submitted_message(engine: Engine, settings: Settings) -> int:
    """A campaign message w1 claimed at CLAIMED and the provider accepted at ANSWERED."""
    message_id = _campaign_message(engine, settings)
    _claim(engine, settings)
    _answer(engine, settings, [_accepted(message_id)])
    return message_id


def test_a_submitted_message_writes_no_event_row_and_reads_claimed_then_submitted(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    assert _claim(engine, campaign_settings) == [message_id]
    assert _history(engine, message_id) == [_sending()]
    _answer(engine, campaign_settings, [_accepted(message_id)])
    assert _history(engine, message_id) == [_sending(), _submitted(message_id)]
    assert _event_rows(engine, message_id) == 0  # both steps are held by the row


def test_a_delivered_message_reads_its_receipt_after_the_steps_its_row_holds(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _submitted_message(engine, campaign_settings)
    # the receipt's own instant is the network's: earlier than the answer here (an SMSC's
    # done date has minutes only), yet listed after it, as it was written
    receipt_at = CLAIMED - dt.timedelta(seconds=30)
    receipt = Receipt(
        "sandbox",
        f"smsc-{message_id}",
        ReceiptStatus.DELIVERED,
        receipt_at,
        raw={"stat": "DELIVRD"},
    )
    with session_scope(engine) as s:
        record_receipts(
            s, receipts=[receipt], now=RECEIVED, feedback=feedback_for(campaign_settings)
        )
    assert _history(engine, message_id) == [
        _sending(),
        _submitted(message_id),
        _step(
            receipt_at,
            "delivered",
            receipt="delivered",
            provider_message_id=f"smsc-{message_id}",
            stat="DELIVRD",
        ),
    ]
    assert _event_rows(engine, message_id) == 1


def test_a_message_without_a_receipt_reads_its_closing_last(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _submitted_message(engine, campaign_settings)
    later = ANSWERED + dt.timedelta(days=4)
    with session_scope(engine) as s:
        s.execute(update(Message).values(expires_at=None))
        close_unanswered(
            s, now=later, validity=dt.timedelta(hours=48), grace=dt.timedelta(hours=24)
        )
    assert _history(engine, message_id) == [
        _sending(),
        _submitted(message_id),
        _step(later, "unknown", closed="no_receipt"),
    ]


def test_a_retried_message_reads_each_attempt_in_order(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    _claim(engine, campaign_settings)
    refused = SubmitResult(
        message_id, SubmitOutcome.TEMPORARY, error_code="0x58", error_text="throttled"
    )
    _answer(engine, campaign_settings, [refused])
    second = ANSWERED + dt.timedelta(minutes=1)
    assert _claim(engine, campaign_settings, at=second, worker="w2") == [message_id]
    _answer(
        engine,
        campaign_settings,
        [_accepted(message_id)],
        at=second + dt.timedelta(seconds=1),
        worker="w2",
    )
    assert _history(engine, message_id) == [
        _sending(),
        _step(ANSWERED, "queued", outcome="temporary", worker="w1", code="0x58", text="throttled"),
        _sending(second, "w2"),
        _submitted(message_id, second + dt.timedelta(seconds=1), "w2"),
    ]
    assert _event_rows(engine, message_id) == 2  # the first attempt, written out


def test_a_message_expired_while_the_provider_was_down_reads_its_claim_then_expiry(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    with session_scope(engine) as s:
        s.execute(update(Message).values(expires_at=ANSWERED + dt.timedelta(seconds=5)))
    _claim(engine, campaign_settings)
    down = SubmitResult(message_id, SubmitOutcome.TEMPORARY, error_code="0x08", error_text="down")
    _answer(engine, campaign_settings, [down])
    assert _history(engine, message_id) == [
        _sending(),
        _step(ANSWERED, "expired", outcome="temporary", worker="w1", code="0x08", text="down"),
    ]


def test_a_message_the_claim_refuses_reads_its_refusal_alone(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    with session_scope(engine) as s:
        suppress(s, digest=TEST_DIGEST, phone=PHONE, reason="manual")
    assert _claim(engine, campaign_settings) == []
    [step] = _history(engine, message_id)
    assert (step["at"], step["status"]) == (_at(CLAIMED), "blocked")
    assert set(step["detail"]) == {"reason", "sentence"}
    with session_scope(engine) as s:
        row = s.get_one(Message, message_id)
        assert (row.claimed_at, row.row_facts_after) == (None, None)


def test_a_failed_over_message_reads_its_move_before_its_claim(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    providers = {"sandbox": {"fallback": ["backup"]}, "backup": {}}
    with session_scope(engine) as s:
        move_due_messages(
            s, account="sandbox", providers=providers, is_down=lambda _: False, now=CLAIMED
        )
    _claim(engine, campaign_settings, provider="backup")
    _answer(engine, campaign_settings, [_accepted(message_id)], provider="backup")
    assert _history(engine, message_id) == [
        _step(CLAIMED, "planned", failover={"from": "sandbox", "to": "backup"}),
        _sending(),
        _submitted(message_id),
    ]


def _lost_worker(engine: Engine, settings: Settings, *, marketing: bool) -> dt.datetime:
    """w1 claims the message and dies; its lease ends and recovery resolves it (the instant)."""
    _claim(engine, settings)
    recovered = CLAIMED + LEASE + dt.timedelta(seconds=1)
    with session_scope(engine) as s:
        assert recover_stale(s, now=recovered) == ((1, 0) if marketing else (0, 1))
    return recovered


def _late(message_id: int, instant: dt.datetime, status: str) -> dict[str, Any]:
    """w1's acceptance, come after its lease: kept as an event in the row's state."""
    return _step(
        instant,
        status,
        outcome="accepted",
        worker="w1",
        provider_message_id=f"smsc-{message_id}",
        late=True,
    )


def test_a_crash_recovered_promotion_reads_unknown_then_its_late_answer(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    recovered = _lost_worker(engine, campaign_settings, marketing=True)
    late = recovered + dt.timedelta(seconds=1)
    _answer(engine, campaign_settings, [_accepted(message_id)], at=late)
    assert _history(engine, message_id) == [
        _sending(),
        _step(recovered, "unknown", recovered="lease expired"),
        _late(message_id, late, "unknown"),
    ]


def test_a_late_answer_between_another_claim_and_its_answer_keeps_its_place(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _transactional_message(engine, campaign_settings)
    recovered = _lost_worker(engine, campaign_settings, marketing=False)
    again = recovered + dt.timedelta(seconds=1)
    _claim(engine, campaign_settings, at=again, worker="w2")
    late = again + dt.timedelta(seconds=1)
    _answer(engine, campaign_settings, [_accepted(message_id)], at=late)  # w1's, too late
    done = late + dt.timedelta(seconds=1)
    _answer(engine, campaign_settings, [_accepted(message_id)], at=done, worker="w2")
    assert _history(engine, message_id) == [
        _sending(),
        _step(recovered, "queued", recovered="lease expired"),
        _sending(again, "w2"),
        _late(message_id, late, "sending"),
        _submitted(message_id, done, "w2"),
    ]


def test_a_claim_given_back_reads_its_claim_then_its_release(
    engine: Engine, campaign_settings: Settings
) -> None:
    message_id = _campaign_message(engine, campaign_settings)
    _claim(engine, campaign_settings)
    with session_scope(engine) as s:
        assert release_unsent(s, worker="w1", ids=[message_id], now=ANSWERED) == [message_id]
    assert _history(engine, message_id) == [
        _sending(),
        _step(ANSWERED, "queued", released="never handed to the provider", worker="w1"),
    ]


def test_a_history_written_before_rows_held_steps_reads_as_it_was(
    engine: Engine, campaign_settings: Settings
) -> None:
    """Rows of the former schema: every step an event row, `row_facts_after` NULL."""
    message_id = _campaign_message(engine, campaign_settings)
    old = [
        {"message_id": message_id, "at": CLAIMED, "status": "sending", "detail": {"worker": "w1"}},
        {
            "message_id": message_id,
            "at": ANSWERED,
            "status": "submitted",
            "detail": {"outcome": "accepted", "worker": "w1", "provider_message_id": "x-1"},
        },
    ]
    with session_scope(engine) as s:
        s.execute(insert(MessageEvent), old)
        s.execute(
            update(Message).values(
                status="submitted",
                claimed_by="w1",
                attempts=1,
                send_at=CLAIMED,
                submitted_at=ANSWERED,
                provider_message_id="x-1",
            )
        )
    expected = [{**e, "at": _at(e["at"])} for e in old]
    for e in expected:
        del e["message_id"]
    assert _history(engine, message_id) == expected


def test_a_promotion_claimed_before_rows_held_claims_reads_its_submission_once(
    engine: Engine, campaign_settings: Settings
) -> None:
    """A claim of the former code (its `sending` event written) answered by this one."""
    message_id = _campaign_message(engine, campaign_settings)
    _claim(engine, campaign_settings)
    with session_scope(engine) as s:  # what the former claim left
        s.execute(update(Message).values(claimed_at=None, row_facts_after=None))
        s.execute(
            insert(MessageEvent),
            [
                {
                    "message_id": message_id,
                    "at": CLAIMED,
                    "status": "sending",
                    "detail": {"worker": "w1"},
                }
            ],
        )
    _answer(engine, campaign_settings, [_accepted(message_id)])
    assert _history(engine, message_id) == [_sending(), _submitted(message_id)]
