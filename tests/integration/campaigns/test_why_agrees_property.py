"""`campaign why` agrees with what planning stored, over many scenarios of marketing already
planned or sent, start times and expiries (a property, on both databases)."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.campaigns import PARIS, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import explain_recipient
from textopt.config import Settings
from textopt.outbox.models import Message

MONDAY = dt.datetime(2026, 11, 23, 0, 0, tzinfo=PARIS)
_numbers = itertools.count(10)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.integers(min_value=0, max_value=6 * 24 * 60),
    earlier=st.lists(st.integers(min_value=-2 * 24 * 60, max_value=2 * 24 * 60), max_size=3),
    validity=st.integers(min_value=1, max_value=48),
)
def test_why_evaluated_at_planning_time_agrees_with_the_stored_decision(
    session: Session, campaign_settings: Settings, start: int, earlier: list[int], validity: int
) -> None:
    n = next(_numbers)
    tag = f"p{n}"
    person = add_contact(session, f"+336123400{n:02d}", tags=(tag,))
    now = MONDAY + dt.timedelta(minutes=start)
    for k, minutes in enumerate(earlier):  # another campaign's or a one-off's marketing
        session.add(
            Message(
                contact_id=person.id,
                channel="sms",
                purpose="marketing",
                recipient=person.phone,
                body="Une autre promotion chez Boutique",
                segments=1,
                status="planned" if minutes > 0 else "submitted",
                send_at=now + dt.timedelta(minutes=minutes),
                provider="sandbox",
                idempotency_key=f"other-{n}-{k}",
            )
        )
    campaign = new_campaign(
        session, campaign_settings, audience=f"tag:{tag}", validity_hours=validity
    )
    campaigns.launch(session, campaign=campaign, settings=campaign_settings, now=now)
    session.flush()
    stored = session.scalars(select(Message).where(Message.campaign_id == campaign.id)).one()
    why = explain_recipient(
        session, campaign=campaign, contact=person, settings=campaign_settings, now=now
    )
    evaluated = why["evaluated_now"]
    assert why["stored_decision"]["reason"] == evaluated["reason"], evaluated["sentence"]
    assert stored.reason_text == evaluated["sentence"]
