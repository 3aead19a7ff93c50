"""Planning and the claim trust only a consent state the ledger supports: a state row written
by hand, or put back to "granted" after a STOP, lets no marketing through."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, text
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.db.engine import session_scope
from textopt.outbox.models import Message


def test_planning_ignores_a_consent_state_inserted_by_hand(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        honest = add_contact(s, "+33612345678")
        forged = add_contact(s, "+33612345679", consent_at=None)
        event_id = s.scalar(text("SELECT max(id) FROM consent_events"))
        s.execute(
            text(
                "INSERT INTO consent_state (contact_id, channel, purpose, status, source, since,"
                " event_id) VALUES (:c, 'sms', 'marketing', 'granted', 'form', :t, :e)"
            ),
            {"c": forged.id, "t": WEDNESDAY_10H - dt.timedelta(days=1), "e": event_id},
        )
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        ids = (honest.id, forged.id)
    with session_scope(engine) as s:
        outcome = dict(s.execute(select(Message.contact_id, Message.reason)).all())
        assert outcome == {ids[0]: None, ids[1]: "no_consent"}
        assert not consent.verify_ledger(s, digest=TEST_DIGEST).ok


def test_the_claim_ignores_a_state_put_back_to_granted_after_a_revocation(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678")
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        grant = s.scalar(text("SELECT max(id) FROM consent_events"))
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            channel="sms",
            purpose="marketing",
            action="revoked",
            source="api",
            occurred_at=WEDNESDAY_10H - dt.timedelta(minutes=5),
        )
    with session_scope(engine) as s:  # someone puts the state back as it was
        s.execute(
            text("UPDATE consent_state SET status = 'granted', source = 'form', event_id = :e"),
            {"e": grant},
        )
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    with session_scope(engine) as s:
        message = s.scalars(select(Message)).one()
        assert (message.status, message.reason) == ("blocked", "no_consent")
