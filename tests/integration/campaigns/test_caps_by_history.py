"""Caps in planning and in the claim: recipients share a decision only when their recent
marketing is the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign, run_dispatcher

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.outbox.models import Message

DUE = WEDNESDAY_10H + dt.timedelta(minutes=1)
AGO_2_DAYS = DUE - dt.timedelta(days=2)


def _message(session: Session, contact: Contact, status: str, at: dt.datetime, key: str) -> None:
    session.add(
        Message(
            contact_id=contact.id,
            channel="sms",
            purpose="marketing",
            recipient=contact.phone,
            body="Une autre promotion chez Boutique",
            segments=1,
            status=status,
            send_at=at,
            provider="sandbox",
            idempotency_key=key,
        )
    )


def _send_earlier(session: Session, people: dict[str, Contact]) -> None:
    """Marketing that went out before: A and D alike, B's month spent, C's day spent."""
    earlier = {
        "A": [AGO_2_DAYS],  # one, two days ago: room left
        "D": [AGO_2_DAYS],  # the same history as A: the same decision
        "B": [DUE - dt.timedelta(days=d) for d in (2, 5, 9, 12)],  # the month is spent
        "C": [DUE - dt.timedelta(hours=2)],  # one today already
    }
    for person, ats in earlier.items():
        for n, at in enumerate(ats):
            _message(session, people[person], "submitted", at, f"earlier-{person}-{n}")


def test_each_recipient_is_capped_on_its_own_history_in_one_claim(
    engine: Engine, campaign_settings: Settings
) -> None:
    # Planned with no history; then marketing went out to some of them (another system, a
    # one-off), so the claim's caps read a different history for each.
    with session_scope(engine) as s:
        people = {name: add_contact(s, f"+3361234560{n}") for n, name in enumerate("ABCDE")}
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    with session_scope(engine) as s:
        _send_earlier(s, people)
        # E has none, but a one-off promotion is due for it in this very claim too
        _message(s, people["E"], "planned", WEDNESDAY_10H, "one-off-E")
    run_dispatcher(engine, campaign_settings, at=DUE)
    with session_scope(engine) as s:
        rows = s.execute(
            select(Contact.phone, Message.campaign_id, Message.status, Message.reason)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.idempotency_key.not_like("earlier-%"))
        ).all()
    letter = {f"+3361234560{n}": name for n, name in enumerate("ABCDE")}
    result = {
        (letter[phone], campaign == campaign_id): (status, reason)
        for phone, campaign, status, reason in rows
    }
    sent = ("delivered", None)
    for person in "AD":
        assert result[(person, True)] == sent
    held = {("planned", "frequency_cap"), ("blocked", "frequency_cap")}  # deferred, or not in time
    for person in "BC":
        assert result[(person, True)] in held
    # E: one of its two promotions now, the other held by the daily cap
    e_results = sorted([result[("E", True)], result[("E", False)]], key=lambda r: r != sent)
    assert e_results[0] == sent
    assert e_results[1] in held


def test_planning_caps_each_recipient_on_its_own_history(
    engine: Engine, campaign_settings: Settings
) -> None:
    # The planner shares a decision between recipients with the same recent marketing only.
    with session_scope(engine) as s:
        people = {name: add_contact(s, f"+3361234560{n}") for n, name in enumerate("ABCDE")}
        _send_earlier(s, people)
    with session_scope(engine) as s:
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=DUE)
        rows = s.execute(
            select(Contact.phone, Message.status, Message.reason, Message.send_at)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.campaign_id == campaign.id)
        ).all()
    letter = {f"+3361234560{n}": name for n, name in enumerate("ABCDE")}
    planned = {letter[phone]: (status, reason) for phone, status, reason, _ in rows}
    assert planned["A"] == planned["D"] == planned["E"] == ("planned", None)
    for person in "BC":
        assert planned[person][1] in ("frequency_cap", "expired")
