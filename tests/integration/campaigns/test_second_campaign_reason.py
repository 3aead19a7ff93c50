"""Two marketing campaigns to the same people on the same morning before opening hours: the
second is held by the daily cap, says so, and `campaign why` agrees with what was stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.campaigns import PARIS, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import explain_recipient
from textopt.config import Settings
from textopt.outbox.models import Message

WEDNESDAY_7H = dt.datetime(2026, 11, 25, 7, 0, tzinfo=PARIS)


def test_the_second_campaign_is_held_by_the_cap_and_why_agrees(
    session: Session, campaign_settings: Settings
) -> None:
    people = [add_contact(session, f"+3361234567{n}") for n in range(3)]
    expiry = WEDNESDAY_7H + dt.timedelta(hours=12)
    first = new_campaign(session, campaign_settings, expires_at=expiry)
    campaigns.launch(session, campaign=first, settings=campaign_settings, now=WEDNESDAY_7H)
    second = new_campaign(session, campaign_settings, text="Nouveautés chez Boutique")
    second.expires_at = expiry
    preview = campaigns.preview(
        session, campaign=second, settings=campaign_settings, now=WEDNESDAY_7H
    )
    assert preview.planned_elsewhere == {"2026-11-25": 3}  # the warning before launching
    assert preview.blocked == {"frequency_cap": 3}
    campaigns.launch(session, campaign=second, settings=campaign_settings, now=WEDNESDAY_7H)
    session.commit()
    rows = session.execute(
        select(Message.campaign_id, Message.status, Message.reason, Message.reason_text)
    ).all()
    assert {(c, s, r) for c, s, r, _ in rows} == {
        (first.id, "planned", "quiet_hours"),
        (second.id, "blocked", "frequency_cap"),
    }
    sentence = next(t for c, _, _, t in rows if c == second.id)
    assert "budget of the cap 1 per 24 h (workspace)" in sentence
    assert "1 marketing message already planned or sent" in sentence
    assert "outside the allowed hours" not in sentence
    for person in people:
        why = explain_recipient(
            session, campaign=second, contact=person, settings=campaign_settings, now=WEDNESDAY_7H
        )
        stored, now = why["stored_decision"], why["evaluated_now"]
        assert stored["reason"] == now["reason"] == "frequency_cap"
        assert stored["sentence"] == now["sentence"]
