"""The claim's re-check decides each message on its own facts, even when most share them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select, update
from tests.factories.campaigns import (
    WEDNESDAY_10H,
    add_contact,
    journal_keys,
    new_campaign,
    run_dispatcher,
    statuses,
)
from tests.factories.keys import TEST_DIGEST, feedback_for

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import message_history
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import SuppressionReason
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.dispatch.answers import record_results
from textopt.dispatch.claim import claim_batch
from textopt.eligibility import workspace_policy
from textopt.gdpr import service as gdpr
from textopt.outbox.models import Message
from textopt.providers.base import SubmitOutcome, SubmitResult

PHONES = [f"+336123400{n:02d}" for n in range(12)]
SUPPRESSED, REVOKED, ERASED = PHONES[3], PHONES[7], PHONES[10]


def test_changes_after_planning_block_only_their_own_message_in_a_batch(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    # One claim holds every message; three recipients changed since planning, each in one
    # way only: a complaint (consent still granted), a revocation (no suppression), erasure.
    with session_scope(engine) as s:
        contacts = {phone: add_contact(s, phone) for phone in PHONES}
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    with session_scope(engine) as s:
        consent.suppress(
            s,
            digest=TEST_DIGEST,
            phone=SUPPRESSED,
            channel="sms",
            reason=SuppressionReason.COMPLAINT,
        )
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=contacts[REVOKED].id,
            channel="sms",
            purpose="marketing",
            action="revoked",
            source="form",
            occurred_at=WEDNESDAY_10H + dt.timedelta(seconds=30),
        )
    with session_scope(engine) as s:
        gdpr.erase_person(
            s, settings=campaign_settings, contact=s.get(Contact, contacts[ERASED].id)
        )  # type: ignore[arg-type]
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    result = statuses(engine, campaign_id)
    assert result[SUPPRESSED] == ("blocked", "suppressed")
    assert result[REVOKED] == ("blocked", "consent_revoked")
    others = [p for p in PHONES if p not in (SUPPRESSED, REVOKED, ERASED)]
    assert {result[p] for p in others} == {("delivered", None)}  # one decision for them all
    assert len(journal_keys(journal)) == len(others)  # the erased one was not sent either


def test_an_answer_for_a_message_no_longer_ours_is_kept_without_moving_it(
    engine: Engine, campaign_settings: Settings
) -> None:
    # The lease of a claimed batch ran out and recovery made one promotion `unknown` before
    # the SMSC's acceptances were recorded: the others become submitted, that one keeps
    # its state and the provider's id (a receipt may still resolve it).
    with session_scope(engine) as s:
        for phone in PHONES[:3]:
            add_contact(s, phone)
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    with session_scope(engine) as s:
        claimed = claim_batch(
            s,
            worker="w1",
            provider="sandbox",
            rate=None,
            now=at,
            limit=10,
            lease=dt.timedelta(seconds=60),
            workspace=workspace_policy(campaign_settings),
            digest=address_digester(campaign_settings.resolved_secret_key()),
        )
    ids = [m.message_id for m in claimed.sending]
    assert len(ids) == 3
    with session_scope(engine) as s:
        s.execute(
            update(Message).where(Message.id == ids[1]).values(status="unknown", lease_until=None)
        )
    results = [SubmitResult(i, SubmitOutcome.ACCEPTED, f"smsc-{i}") for i in ids]
    with session_scope(engine) as s:
        report = record_results(
            s,
            feedback=feedback_for(campaign_settings),
            worker="w1",
            provider="sandbox",
            results=results,
            now=at,
            max_attempts=3,
        )
    assert (report.submitted, report.late) == (2, 1)
    with session_scope(engine) as s:
        rows = {m.id: m for m in s.scalars(select(Message).where(Message.id.in_(ids)))}
        events = {
            (i, e["status"], bool(e["detail"].get("late")))
            for i in ids
            for e in message_history(s, message_id=i)["events"]
        }
    assert [rows[i].status for i in ids] == ["submitted", "unknown", "submitted"]
    assert [rows[i].provider_message_id for i in ids] == [f"smsc-{i}" for i in ids]
    assert (ids[1], "unknown", True) in events
    assert {(i, "submitted", False) for i in (ids[0], ids[2])} <= events
