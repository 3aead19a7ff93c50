"""Every sent SMS ends: a receipt that confirms nothing, or none at all, makes it `unknown`.

ACCEPTD and UNKNOWN are final SMPP states; a message whose receipt never comes is closed
after its validity and a grace period. A later receipt still resolves either.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, update
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher
from tests.factories.keys import feedback_for

from textopt.campaigns import service as campaigns
from textopt.campaigns.lifecycle import complete_finished_campaigns
from textopt.campaigns.models import Campaign
from textopt.campaigns.report import campaign_report
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.engine import session_scope
from textopt.dispatch.answers import record_results
from textopt.dispatch.claim import claim_batch
from textopt.dispatch.receipts import close_unanswered, record_receipts
from textopt.eligibility import workspace_policy
from textopt.outbox.models import Message, MessageEvent
from textopt.providers import Receipt, ReceiptStatus, SubmitOutcome, SubmitResult
from textopt.webhooks import service as webhooks
from textopt.webhooks.models import WebhookDelivery
from textopt.webhooks.targets import TargetGuard

AT = WEDNESDAY_10H + dt.timedelta(minutes=1)
VALIDITY = dt.timedelta(hours=48)
GRACE = dt.timedelta(hours=24)


def _claimed(engine: Engine, settings: Settings, count: int) -> tuple[int, list[int]]:
    """A running campaign whose `count` messages a worker has claimed at AT."""
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234567{n}")
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    with session_scope(engine) as s:
        claimed = claim_batch(
            s,
            worker="w1",
            provider="sandbox",
            rate=None,
            now=AT,
            limit=100,
            lease=dt.timedelta(minutes=2),
            workspace=workspace_policy(settings),
            digest=address_digester(settings.resolved_secret_key()),
        )
    return campaign_id, sorted(m.message_id for m in claimed.sending)


def _accept(engine: Engine, settings: Settings, ids: list[int]) -> None:
    """The provider's answers: accepted at AT, with ids `smsc-N`.

    The messages then carry no expiry (planning gives them the campaign's): the network
    tries for `VALIDITY`.
    """
    with session_scope(engine) as s:
        record_results(
            s,
            feedback=feedback_for(settings),
            worker="w1",
            provider="sandbox",
            now=AT,
            max_attempts=3,
            results=[SubmitResult(i, SubmitOutcome.ACCEPTED, f"smsc-{i}") for i in ids],
        )
        s.execute(update(Message).values(expires_at=None))


def _submitted(engine: Engine, settings: Settings, count: int) -> tuple[int, list[int]]:
    """A running campaign whose `count` messages the provider accepted at AT."""
    campaign_id, ids = _claimed(engine, settings, count)
    _accept(engine, settings, ids)
    return campaign_id, ids


def _receipt(message_id: int, status: ReceiptStatus, stat: str, at: dt.datetime) -> Receipt:
    """A receipt as the SMPP provider hands it over (the stat word in raw and error_text)."""
    return Receipt(
        "sandbox",
        f"smsc-{message_id}",
        status,
        at,
        error_text=stat if status is not ReceiptStatus.DELIVERED else None,
        raw={"stat": stat},
    )


def _close(engine: Engine, now: dt.datetime, **options: dt.timedelta) -> int:
    with session_scope(engine) as s:
        return close_unanswered(s, now=now, validity=VALIDITY, grace=GRACE, **options)


def _state(engine: Engine, message_id: int) -> tuple[str, str | None, str | None]:
    with session_scope(engine) as s:
        m = s.get_one(Message, message_id)
        return m.status, m.reason, m.reason_text


def _last_event(engine: Engine, message_id: int) -> MessageEvent:
    with session_scope(engine) as s:
        return s.scalars(
            select(MessageEvent)
            .where(MessageEvent.message_id == message_id)
            .order_by(MessageEvent.id.desc())
            .limit(1)
        ).one()


def test_acceptd_and_unknown_receipts_end_the_message_unknown_with_the_word_kept(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (accepted, unknown, delivered) = _submitted(engine, campaign_settings, 3)
    receipts = [
        _receipt(accepted, ReceiptStatus.UNKNOWN, "ACCEPTD", AT),
        _receipt(unknown, ReceiptStatus.UNKNOWN, "UNKNOWN", AT),
        _receipt(delivered, ReceiptStatus.DELIVERED, "DELIVRD", AT),
    ]
    with session_scope(engine) as s:
        assert (
            record_receipts(s, feedback=feedback_for(campaign_settings), receipts=receipts, now=AT)
            == 3
        )
    status, reason, text = _state(engine, accepted)
    assert (status, reason) == ("unknown", "receipt_unknown")
    assert text == (
        "The network reported ACCEPTD (a final state that does not confirm delivery to the "
        "handset)."
    )
    assert _state(engine, unknown)[:2] == ("unknown", "receipt_unknown")
    assert _last_event(engine, accepted).detail["stat"] == "ACCEPTD"
    assert _last_event(engine, unknown).detail["stat"] == "UNKNOWN"
    assert _last_event(engine, delivered).detail["stat"] == "DELIVRD"  # every receipt keeps it
    # a later receipt may still say what happened; its doubt no longer applies
    with session_scope(engine) as s:
        later = [_receipt(accepted, ReceiptStatus.DELIVERED, "DELIVRD", AT + dt.timedelta(hours=1))]
        assert (
            record_receipts(
                s,
                feedback=feedback_for(campaign_settings),
                receipts=later,
                now=AT + dt.timedelta(hours=1),
            )
            == 1
        )
    assert _state(engine, accepted) == ("delivered", None, None)


def test_an_acceptd_receipt_before_the_submit_answer_keeps_its_word(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (message_id,) = _claimed(engine, campaign_settings, 1)
    with session_scope(engine) as s:  # waits for its message among the orphan receipts
        receipt = _receipt(message_id, ReceiptStatus.UNKNOWN, "ACCEPTD", AT)
        assert (
            record_receipts(s, feedback=feedback_for(campaign_settings), receipts=[receipt], now=AT)
            == 0
        )
    _accept(engine, campaign_settings, [message_id])
    assert _state(engine, message_id)[:2] == ("unknown", "receipt_unknown")
    assert _last_event(engine, message_id).detail["stat"] == "ACCEPTD"


def test_an_sms_without_a_receipt_ends_unknown_after_validity_and_grace_not_before(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (plain, expiring) = _submitted(engine, campaign_settings, 2)
    with session_scope(engine) as s:  # this one's network gives up at its own expiry
        s.execute(
            update(Message)
            .where(Message.id == expiring)
            .values(expires_at=AT + dt.timedelta(hours=2))
        )
    assert _close(engine, AT + dt.timedelta(hours=26) - dt.timedelta(minutes=1)) == 0
    assert _close(engine, AT + dt.timedelta(hours=26) + dt.timedelta(minutes=1)) == 1
    status, reason, text = _state(engine, expiring)
    assert (status, reason) == ("unknown", "no_receipt")
    assert str(text).startswith("No delivery receipt came within 24 hours after the message's")
    assert _state(engine, plain)[0] == "submitted"

    assert _close(engine, AT + VALIDITY + GRACE - dt.timedelta(minutes=1)) == 0
    assert _state(engine, plain)[0] == "submitted"
    closed_at = AT + VALIDITY + GRACE + dt.timedelta(minutes=1)
    assert _close(engine, closed_at) == 1
    status, reason, text = _state(engine, plain)
    assert (status, reason) == ("unknown", "no_receipt")
    assert str(text).startswith("No delivery receipt came within 72 hours after it was sent")
    with session_scope(engine) as s:
        assert s.get_one(Message, plain).done_at == closed_at
    event = _last_event(engine, plain)
    assert (event.status, event.detail) == ("unknown", {"closed": "no_receipt"})
    assert _close(engine, closed_at + dt.timedelta(days=1)) == 0  # nothing left to close


def test_the_dispatcher_closes_them_as_it_keeps_house(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (message_id,) = _submitted(engine, campaign_settings, 1)
    run_dispatcher(engine, campaign_settings, at=AT + VALIDITY + GRACE + dt.timedelta(hours=1))
    assert _state(engine, message_id)[:2] == ("unknown", "no_receipt")


def test_a_campaign_whose_receipts_never_came_completes_and_reports_them_unknown(
    engine: Engine, campaign_settings: Settings
) -> None:
    campaign_id, ids = _submitted(engine, campaign_settings, 3)
    with session_scope(engine) as s:
        s.execute(update(Message).where(Message.id == ids[0]).values(status="delivered"))
    later = AT + VALIDITY + GRACE + dt.timedelta(hours=1)
    assert _close(engine, later) == 2
    with session_scope(engine) as s:
        complete_finished_campaigns(s, now=later)
        campaign = s.get_one(Campaign, campaign_id)
        report = campaign_report(s, campaign=campaign)
    assert campaign.status == "completed"
    assert report["by_status"] == {"delivered": 1, "unknown": 2}
    assert (report["sent"], report["delivered"], report["unknown"]) == (3, 1, 2)
    assert report["unknown_by_reason"] == {"no_receipt": 2}
    assert report["waiting"] == 0


def test_a_late_receipt_still_resolves_a_message_closed_without_one(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (delivered, expired) = _submitted(engine, campaign_settings, 2)
    later = AT + VALIDITY + GRACE + dt.timedelta(hours=1)
    assert _close(engine, later) == 2
    receipts = [
        _receipt(delivered, ReceiptStatus.DELIVERED, "DELIVRD", later),
        _receipt(expired, ReceiptStatus.EXPIRED, "EXPIRED", later),
    ]
    with session_scope(engine) as s:
        assert (
            record_receipts(
                s, feedback=feedback_for(campaign_settings), receipts=receipts, now=later
            )
            == 2
        )
    assert _state(engine, delivered) == ("delivered", None, None)
    assert _state(engine, expired)[:2] == ("expired", "receipt_expired")


def test_closing_tells_webhooks_and_leaves_emails_alone(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (sms, email) = _submitted(engine, campaign_settings, 2)
    with session_scope(engine) as s:
        s.execute(update(Message).where(Message.id == email).values(channel="email"))
        webhooks.create_endpoint(
            s,
            url="https://hooks.example/textopt",
            events=["message.status_changed"],
            workspace_key=campaign_settings.resolved_secret_key(),
            guard=TargetGuard(resolver=lambda host, port: ["93.184.215.14"]),  # no DNS in tests
        )
    assert _close(engine, AT + dt.timedelta(days=4)) == 1
    assert _state(engine, email)[0] == "submitted"  # emails have no receipts to wait for
    with session_scope(engine) as s:
        payloads = [d.payload["data"] for d in s.scalars(select(WebhookDelivery))]
    assert payloads == [
        {
            "message_id": sms,
            "campaign_id": payloads[0]["campaign_id"],
            "status": "unknown",
            "reason": "no_receipt",
            "provider_message_id": f"smsc-{sms}",
            "error_code": None,
        }
    ]
    assert payloads[0]["campaign_id"] is not None


def test_with_every_the_outbox_is_searched_at_most_that_often(
    engine: Engine, campaign_settings: Settings
) -> None:
    _, (first,) = _submitted(engine, campaign_settings, 1)
    every = dt.timedelta(minutes=5)
    start = AT + dt.timedelta(hours=71, minutes=59)
    assert _close(engine, start, every=every) == 0  # searched: not due yet
    assert _close(engine, start + dt.timedelta(minutes=2), every=every) == 0  # not searched
    assert _state(engine, first)[0] == "submitted"
    assert _close(engine, start + every, every=every) == 1
