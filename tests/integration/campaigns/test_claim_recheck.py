"""The claim's re-check decides each message on its own facts, even when most share them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine
from tests.factories.campaigns import (
    WEDNESDAY_10H,
    add_contact,
    journal_keys,
    new_campaign,
    run_dispatcher,
    statuses,
)

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import SuppressionReason
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.gdpr import service as gdpr

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
        consent.suppress(s, phone=SUPPRESSED, channel="sms", reason=SuppressionReason.COMPLAINT)
        consent.record_consent(
            s,
            contact_id=contacts[REVOKED].id,
            channel="sms",
            purpose="marketing",
            action="revoked",
            source="form",
            occurred_at=WEDNESDAY_10H + dt.timedelta(seconds=30),
        )
    with session_scope(engine) as s:
        gdpr.erase_person(s, contact=s.get(Contact, contacts[ERASED].id))  # type: ignore[arg-type]
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    result = statuses(engine, campaign_id)
    assert result[SUPPRESSED] == ("blocked", "suppressed")
    assert result[REVOKED] == ("blocked", "consent_revoked")
    others = [p for p in PHONES if p not in (SUPPRESSED, REVOKED, ERASED)]
    assert {result[p] for p in others} == {("delivered", None)}  # one decision for them all
    assert len(journal_keys(journal)) == len(others)  # the erased one was not sent either
