"""Planning, the claim's re-check and a one-off send read a recipient's facts through one
module (`textopt.eligibility`): for the same recipient in the same state, they agree.

Each path runs in its own transaction, rolled back, on the same committed state: the
messages of campaign X were planned before the state changed (the claim re-checks them),
campaign Y is planned after, and a one-off goes to each number at the same instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.campaigns.models import Campaign
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import SuppressionReason
from textopt.db.engine import session_factory, session_scope
from textopt.dispatch.claim import claim_batch
from textopt.dispatch.models import FailureStage, NumberFailure
from textopt.eligibility import workspace_policy
from textopt.outbox.models import Message
from textopt.vocab import Purpose

SUPPRESSED = "+33612340001"  # a complaint after planning
CAPPED = "+33612340002"  # an earlier campaign's message delivered this morning
DEAD = "+33612340003"  # the provider said the number never works
NO_CONTACT_DEAD = "+33612340004"  # one-off without a contact, to a number that never works
NO_CONTACT_COMPLAINT = "+33612340005"  # one-off without a contact, to a number that complained
CONTACTS = (SUPPRESSED, CAPPED, DEAD)
BARE = (NO_CONTACT_DEAD, NO_CONTACT_COMPLAINT)
AT = WEDNESDAY_10H + dt.timedelta(minutes=5)

_T = TypeVar("_T")
Verdict = tuple[str, str | None]


def _verdict(message: Any) -> Verdict:
    """What the policy decided for a message, as its state says it."""
    if message.status == "blocked":
        return ("block", message.reason)
    if message.status == "planned" and message.deferred:
        return ("defer", message.reason)
    return ("send", message.reason)


def _rolled_back(engine: Engine, work: Callable[[Session], _T]) -> _T:
    """`work`'s answer, its writes undone: every path sees the same committed state."""
    with session_factory(engine)() as session:
        try:
            return work(session)
        finally:
            session.rollback()


def _by_recipient(session: Session, campaign_id: int) -> dict[str, Verdict]:
    rows = session.scalars(select(Message).where(Message.campaign_id == campaign_id))
    return {m.recipient: _verdict(m) for m in rows}


def _setup(engine: Engine, settings: Settings) -> tuple[int, int]:
    """Campaign X planned (all sendable), one-offs planned, then the state changes."""
    with session_scope(engine) as s:
        for phone in CONTACTS:
            add_contact(s, phone)
        earlier = new_campaign(s, settings)
        campaigns.launch(s, campaign=earlier, settings=settings, now=WEDNESDAY_10H)
        for phone in BARE:
            enqueue_message(
                s, settings=settings, to=phone, text="Votre code : 1234", now=WEDNESDAY_10H
            )
        later = new_campaign(s, settings)  # a draft until the planning path launches it
        ids = (earlier.id, later.id)
    with session_scope(engine) as s:
        assert set(_by_recipient(s, ids[0]).values()) == {("send", None)}
        consent.suppress(
            s,
            digest=TEST_DIGEST,
            phone=SUPPRESSED,
            channel="sms",
            reason=SuppressionReason.COMPLAINT,
        )
        consent.suppress(
            s, digest=TEST_DIGEST, phone=NO_CONTACT_COMPLAINT, reason=SuppressionReason.COMPLAINT
        )
        for phone in (DEAD, NO_CONTACT_DEAD):
            s.add(
                NumberFailure(
                    digest=TEST_DIGEST(phone),
                    failures=3,
                    stage=FailureStage.RECEIPT,
                    last_failure_at=WEDNESDAY_10H,
                    undeliverable_at=WEDNESDAY_10H,
                )
            )
        morning, _ = enqueue_message(
            s,
            settings=settings,
            to=CAPPED,
            text="Avant-première ce matin",
            purpose=Purpose.MARKETING,
            now=WEDNESDAY_10H - dt.timedelta(hours=1),
        )
        # sent at nine: whatever the policy made of it then (campaign X counts already)
        s.execute(
            update(Message)
            .where(Message.id == morning.id)
            .values(status="delivered", send_at=WEDNESDAY_10H - dt.timedelta(hours=1))
        )
    return ids


def test_planning_the_claim_and_a_one_off_reach_the_same_verdict_for_a_recipient(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings
    earlier_id, later_id = _setup(engine, settings)

    def claim(session: Session) -> dict[str, Verdict]:
        claim_batch(
            session,
            worker="w1",
            provider="sandbox",
            rate=None,
            now=AT,
            limit=100,
            lease=dt.timedelta(minutes=5),
            workspace=workspace_policy(settings),
            digest=TEST_DIGEST,
        )
        session.expire_all()
        found = _by_recipient(session, earlier_id)
        one_offs = select(Message).where(Message.recipient.in_(BARE), Message.campaign_id.is_(None))
        found.update({m.recipient: _verdict(m) for m in session.scalars(one_offs)})
        return found

    def plan(session: Session) -> dict[str, Verdict]:
        campaign = session.get_one(Campaign, later_id)
        campaigns.launch(session, campaign=campaign, settings=settings, now=AT)
        return _by_recipient(session, later_id)

    def one_off(session: Session) -> dict[str, Verdict]:
        found = {}
        for phone in (*CONTACTS, *BARE):
            purpose = Purpose.MARKETING if phone in CONTACTS else Purpose.TRANSACTIONAL
            message, _ = enqueue_message(
                session, settings=settings, to=phone, text="Soldes", purpose=purpose, now=AT
            )
            found[phone] = _verdict(message)
        return found

    at_claim = _rolled_back(engine, claim)
    planned = _rolled_back(engine, plan)
    sent_alone = _rolled_back(engine, one_off)

    expected = {
        SUPPRESSED: ("block", "suppressed"),
        CAPPED: ("defer", "frequency_cap"),
        DEAD: ("block", "undeliverable"),
        NO_CONTACT_DEAD: ("block", "undeliverable"),
    }
    for phone, verdict in expected.items():
        assert at_claim[phone] == verdict, phone
        assert sent_alone[phone] == verdict, phone
        if phone in CONTACTS:
            assert planned[phone] == verdict, phone
    # whatever the policy makes of a complaint for a transactional one-off, both paths agree
    assert at_claim[NO_CONTACT_COMPLAINT] == sent_alone[NO_CONTACT_COMPLAINT]
