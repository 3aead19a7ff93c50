"""Provider feedback through a Twilio-compatible peer: numbers that never work stop being sent
to, opt-outs at the provider revoke consent (dispatch.feedback)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.campaigns import (
    WEDNESDAY_10H,
    add_contact,
    new_campaign,
    run_dispatcher,
    statuses,
)
from tests.factories.cli import cli_json, run_cli
from tests.factories.keys import TEST_DIGEST, TEST_REGION, feedback_for
from tests.servers.http_peer import Answer, Peer, http_peer

from textopt.campaigns import service as campaigns
from textopt.campaigns.planning import RunContext, preview_campaign
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings, get_settings, reset_settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent
from textopt.contacts.service import get_contact_by_phone_or_raise, update_contact
from textopt.db.engine import session_scope
from textopt.dispatch.feedback import get_number_failures
from textopt.inbound.webhooks import handle_twilio_inbound, handle_twilio_status
from textopt.outbox.models import Message
from textopt.providers.http_signatures import twilio_signature

BAD = "+33612345670"
GOOD = "+33612345671"
TOKEN = "twilio-auth-token"
STATUS_URL = "https://textopt.example/hooks/twilio-main/status"
INVALID_TO = (21211, "The 'To' number is not a valid phone number.")
UNSUBSCRIBED = (21610, "Attempt to send to unsubscribed recipient")


@pytest.fixture
def peer() -> Iterator[Peer]:
    with http_peer() as running:
        yield running


@pytest.fixture
def twilio_settings(
    campaign_settings: Settings, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Campaign settings whose default SMS account is Twilio-compatible, on the peer."""
    account: dict[str, Any] = {
        "kind": "twilio",
        "account_sid": "AC1",
        "auth_token": TOKEN,
        "from": "+33700000001",
        "base_url": peer.url,
        "backoff": 0.001,
        "max_retries": 0,
    }
    values = campaign_settings.model_copy(
        update={
            "providers": {**campaign_settings.providers, "twilio-main": account},
            "default_provider": "twilio-main",
            "sms_undeliverable_limit": 2,
        }
    )
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(values.providers))
    monkeypatch.setenv("TEXTOPT_DEFAULT_PROVIDER", "twilio-main")
    monkeypatch.setenv("TEXTOPT_SMS_UNDELIVERABLE_LIMIT", "2")
    reset_settings(values)
    yield values
    reset_settings(campaign_settings)


def _refuse(peer: Peer, number: str, error: tuple[int, str]) -> None:
    """Have the peer refuse every message to `number` as Twilio does (HTTP 400, a code)."""
    code, text = error
    peer.by_recipient[number] = Answer(400, {"code": code, "message": text, "status": 400})


def _day(day: int) -> dt.datetime:
    return WEDNESDAY_10H + dt.timedelta(days=day)


def _campaign_on_day(engine: Engine, settings: Settings, day: int) -> int:
    """Launch a campaign to the vip contacts on `day` and dispatch it."""
    with session_scope(engine) as s:
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=_day(day))
        campaign_id = campaign.id
    run_dispatcher(engine, settings, at=_day(day) + dt.timedelta(minutes=1))
    return campaign_id


def _failures(engine: Engine, phone: str) -> tuple[int, bool]:
    """(failures in a row, undeliverable) of a number."""
    with session_scope(engine) as s:
        found = get_number_failures(s, digest=TEST_DIGEST, phone=phone)
        return (found.failures, found.undeliverable_at is not None) if found else (0, False)


def _callback(engine: Engine, sid: str, status: str, code: str | None, *, day: int) -> None:
    """A signed Twilio status callback for message `sid`."""
    params = {"MessageSid": sid, "MessageStatus": status}
    if code:
        params["ErrorCode"] = code
    signature = twilio_signature(auth_token=TOKEN, url=STATUS_URL, params=params)
    with session_scope(engine) as s:
        handle_twilio_status(
            s,
            feedback=feedback_for(get_settings()),  # the test's provider accounts
            account="twilio-main",
            url=STATUS_URL,
            params=params,
            signature=signature,
            auth_token=TOKEN,
            now=_day(day) + dt.timedelta(minutes=5),
        )


def _sid(engine: Engine, campaign_id: int, phone: str) -> str:
    with session_scope(engine) as s:
        sid = s.scalars(
            select(Message.provider_message_id).where(
                Message.campaign_id == campaign_id, Message.recipient == phone
            )
        ).one()
    assert sid is not None
    return sid


def test_a_number_refused_as_invalid_twice_is_undeliverable_and_later_campaigns_exclude_it(
    engine: Engine, twilio_settings: Settings, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse(peer, BAD, INVALID_TO)
    with session_scope(engine) as s:
        add_contact(s, BAD)
        add_contact(s, GOOD)
    seen = []
    for day in range(2):  # the limit is 2 in these settings
        _campaign_on_day(engine, twilio_settings, day)
        seen.append(_failures(engine, BAD))
    assert seen == [(1, False), (2, True)]
    assert _failures(engine, GOOD) == (0, False)
    with session_scope(engine) as s:
        campaign = new_campaign(s, twilio_settings)
        by_class = preview_campaign(s, campaign=campaign, settings=twilio_settings, now=_day(2))
        with monkeypatch.context() as patched:
            patched.setattr(RunContext, "by_class", lambda run: False)
            alone = preview_campaign(s, campaign=campaign, settings=twilio_settings, now=_day(2))
    assert dict(by_class.blocked) == dict(alone.blocked) == {"undeliverable": 1}
    third = _campaign_on_day(engine, twilio_settings, 2)
    assert {phone: status for phone, (status, _) in statuses(engine, third).items()} == {
        BAD: "blocked",
        GOOD: "submitted",
    }
    assert statuses(engine, third)[BAD] == ("blocked", "undeliverable")
    with session_scope(engine) as s:
        text = s.scalars(
            select(Message.reason_text).where(
                Message.campaign_id == third, Message.recipient == BAD
            )
        ).one()
    assert text == (
        "Blocked: the provider reported the number undeliverable "
        "(unknown, invalid or not a mobile)."
    )
    assert sum(1 for seen in peer.seen if BAD.removeprefix("+") in seen.body.decode()) == 2


def test_landline_receipts_count_across_acceptances_and_a_repeated_callback_counts_once(
    engine: Engine, twilio_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, BAD)
    first = _campaign_on_day(engine, twilio_settings, 0)
    for _ in range(2):  # Twilio retries a callback it thinks was lost
        _callback(engine, _sid(engine, first, BAD), "undelivered", "30006", day=0)
    assert _failures(engine, BAD) == (1, False)
    # the next message is accepted first, as every message a receipt fails is
    second = _campaign_on_day(engine, twilio_settings, 1)
    _callback(engine, _sid(engine, second, BAD), "undelivered", "30006", day=1)
    assert _failures(engine, BAD) == (2, True)
    assert statuses(engine, second) == {BAD: ("failed", "receipt_failed")}


def test_an_acceptance_ends_a_run_of_refusals(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    with session_scope(engine) as s:
        add_contact(s, BAD)
    _refuse(peer, BAD, INVALID_TO)
    _campaign_on_day(engine, twilio_settings, 0)
    assert _failures(engine, BAD) == (1, False)
    del peer.by_recipient[BAD]  # the number was fixed at the provider
    accepted = _campaign_on_day(engine, twilio_settings, 1)
    assert statuses(engine, accepted) == {BAD: ("submitted", None)}
    _refuse(peer, BAD, INVALID_TO)
    _campaign_on_day(engine, twilio_settings, 2)
    assert _failures(engine, BAD) == (1, False)  # counted again from one


def test_a_delivery_ends_a_run_of_failed_receipts(
    engine: Engine, twilio_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, BAD)
    outcomes = [("undelivered", "30005"), ("delivered", None), ("undelivered", "30005")]
    for day, (status, code) in enumerate(outcomes):
        campaign_id = _campaign_on_day(engine, twilio_settings, day)
        _callback(engine, _sid(engine, campaign_id, BAD), status, code, day=day)
    assert _failures(engine, BAD) == (1, False)


def test_other_permanent_refusals_are_not_counted(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    peer.by_recipient[BAD] = Answer(400, {"code": 21408, "message": "Permission to send"})
    with session_scope(engine) as s:
        add_contact(s, BAD)
    for day in range(2):
        _campaign_on_day(engine, twilio_settings, day)
    assert _failures(engine, BAD) == (0, False)


def test_an_opt_out_at_the_provider_revokes_marketing_with_source_provider_and_suppresses(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    _refuse(peer, BAD, UNSUBSCRIBED)
    with session_scope(engine) as s:
        add_contact(s, BAD)
        add_contact(s, GOOD)
    _campaign_on_day(engine, twilio_settings, 0)
    with session_scope(engine) as s:
        contact = get_contact_by_phone_or_raise(s, default_region=TEST_REGION, phone=BAD)
        state = consent.current_consent(s, contact_id=contact.id)[("sms", "marketing")]
        assert (state.status, state.source) == ("revoked", "provider")
        event, proof = consent.history(s, contact_id=contact.id)[-1]
        assert (event.action, event.source) == ("revoked", "provider")
        assert proof is not None
        assert {k: proof.data[k] for k in ("provider", "error_code", "phone")} == {
            "provider": "twilio-main",
            "error_code": "21610",
            "phone": BAD,
        }
        assert consent.suppression_reasons(s, digest=TEST_DIGEST, phone=BAD, channel="sms") == [
            "keyword"
        ]
        assert consent.suppression_reasons(s, digest=TEST_DIGEST, phone=GOOD, channel="sms") == []
        assert consent.verify_ledger(s, digest=TEST_DIGEST).ok
        events_before = s.scalar(select(func.count()).select_from(ConsentEvent))
        # a STOP stops marketing only: an order notice still goes, and is refused again
        enqueue_message(
            s,
            settings=twilio_settings,
            to=BAD,
            text="Votre commande est prête",
            purpose="transactional",
            now=_day(0) + dt.timedelta(minutes=10),
        )
    run_dispatcher(engine, twilio_settings, at=_day(0) + dt.timedelta(minutes=11))
    with session_scope(engine) as s:
        failed = s.scalars(select(Message).where(Message.campaign_id.is_(None))).one()
        assert (failed.status, failed.error_code) == ("failed", "21610")
        # consent already revoked: nothing new in the ledger
        assert s.scalar(select(func.count()).select_from(ConsentEvent)) == events_before
    assert _failures(engine, BAD) == (0, False)  # an opt-out is not a dead number
    verified = cli_json("consent", "verify")
    assert verified["ok"] is True
    assert verified["events_checked"] == events_before
    second = _campaign_on_day(engine, twilio_settings, 1)
    assert statuses(engine, second)[BAD] == ("blocked", "suppressed")


def test_start_sent_to_the_providers_number_lifts_an_opt_out_made_there(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    _refuse(peer, BAD, UNSUBSCRIBED)
    with session_scope(engine) as s:
        add_contact(s, BAD)
    _campaign_on_day(engine, twilio_settings, 0)
    # the provider lifts its block and forwards the START to our inbound callback
    params = {"MessageSid": "SMstart", "From": BAD, "To": "+33700000001", "Body": "START"}
    url = "https://textopt.example/hooks/twilio-main/inbound"
    with session_scope(engine) as s:
        handle_twilio_inbound(
            s,
            account="twilio-main",
            url=url,
            params=params,
            signature=twilio_signature(auth_token=TOKEN, url=url, params=params),
            auth_token=TOKEN,
            settings=twilio_settings,
            now=_day(0) + dt.timedelta(hours=1),
        )
    with session_scope(engine) as s:
        contact = get_contact_by_phone_or_raise(s, default_region=TEST_REGION, phone=BAD)
        state = consent.current_consent(s, contact_id=contact.id)[("sms", "marketing")]
        assert (state.status, state.source) == ("granted", "keyword")
        assert consent.suppression_reasons(s, digest=TEST_DIGEST, phone=BAD, channel="sms") == []
    del peer.by_recipient[BAD]
    second = _campaign_on_day(engine, twilio_settings, 1)
    assert statuses(engine, second)[BAD] == ("submitted", None)


def test_the_claim_recheck_blocks_a_number_made_undeliverable_after_planning(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    _refuse(peer, BAD, INVALID_TO)
    with session_scope(engine) as s:
        add_contact(s, BAD)
        add_contact(s, GOOD)
    _campaign_on_day(engine, twilio_settings, 0)
    noon = _day(1) + dt.timedelta(hours=2)
    with session_scope(engine) as s:  # planned while the number has one failure only
        campaign = new_campaign(s, twilio_settings, send_at=noon)
        campaigns.launch(s, campaign=campaign, settings=twilio_settings, now=_day(1))
        later = campaign.id
        # an order notice the same morning is refused too: the limit is reached
        enqueue_message(
            s,
            settings=twilio_settings,
            to=BAD,
            text="Votre commande est prête",
            now=_day(1) + dt.timedelta(minutes=5),
        )
    assert statuses(engine, later)[BAD] == ("planned", None)
    run_dispatcher(engine, twilio_settings, at=_day(1) + dt.timedelta(minutes=6))
    assert _failures(engine, BAD) == (2, True)
    run_dispatcher(engine, twilio_settings, at=noon + dt.timedelta(minutes=1))
    assert statuses(engine, later) == {
        BAD: ("blocked", "undeliverable"),
        GOOD: ("submitted", None),
    }


def test_a_number_without_a_contact_is_counted_and_one_off_messages_to_it_are_blocked(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    _refuse(peer, BAD, INVALID_TO)
    for minute in (0, 10):
        with session_scope(engine) as s:
            enqueue_message(
                s,
                settings=twilio_settings,
                to=BAD,
                text="Votre code : 1234",
                now=_day(0) + dt.timedelta(minutes=minute),
            )
        run_dispatcher(engine, twilio_settings, at=_day(0) + dt.timedelta(minutes=minute + 1))
    assert _failures(engine, BAD) == (2, True)
    with session_scope(engine) as s:
        message, _ = enqueue_message(
            s, settings=twilio_settings, to=BAD, text="Votre code : 5678", now=_day(0)
        )
        assert (message.status, message.reason) == ("blocked", "undeliverable")


def test_the_contact_shows_an_undeliverable_number_until_it_is_changed_or_cleared(
    engine: Engine, twilio_settings: Settings, peer: Peer
) -> None:
    _refuse(peer, BAD, INVALID_TO)
    with session_scope(engine) as s:
        contact_id = add_contact(s, BAD).id
    for day in range(2):
        _campaign_on_day(engine, twilio_settings, day)
    shown = cli_json("contacts", "show", BAD)["number_failures"]
    assert (shown["failures"], shown["last_code"], shown["last_provider"]) == (
        2,
        "21211",
        "twilio-main",
    )
    since = dt.datetime.fromisoformat(shown["undeliverable_since"])
    assert since == _day(1) + dt.timedelta(minutes=1)  # the second refusal's
    assert "undeliverable" in run_cli("contacts", "show", BAD)
    # the operator corrects the number: the new one has no failure
    with session_scope(engine) as s:
        update_contact(s, default_region=TEST_REGION, contact_id=contact_id, phone="+33612345699")
    assert cli_json("contacts", "show", str(contact_id))["number_failures"] is None
    third = _campaign_on_day(engine, twilio_settings, 2)
    assert statuses(engine, third) == {"+33612345699": ("submitted", None)}
    # the old number stays undeliverable until someone says it works
    assert _failures(engine, BAD) == (2, True)
    assert cli_json("contacts", "deliverable", BAD) == {"phone": BAD, "cleared": True}
    assert _failures(engine, BAD) == (0, False)
    assert cli_json("contacts", "deliverable", BAD)["cleared"] is False
