"""A contact without a first name: never "None" in a message."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns.planning import plan_campaign
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import TemplateError
from textopt.outbox.models import Message


def _audience(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_contact(session, "+33 6 12 34 56 01", first_name="Léa")
        add_contact(session, "+33 6 12 34 56 02")  # no first name
        add_contact(session, "+33 6 12 34 56 03")


def test_a_default_fills_in_for_a_missing_first_name(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine)
    with session_scope(engine) as session:
        campaign = new_campaign(
            session, campaign_settings, text="{{ first_name | default('Bonjour') }}, -20% !"
        )
        session.flush()
        plan_campaign(session, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        bodies = session.scalars(select(Message.body).where(Message.campaign_id == campaign.id))
        texts = sorted(body.split(": ", 1)[1].split("\n")[0] for body in bodies if body)
    assert texts == ["Bonjour, -20% !", "Bonjour, -20% !", "Léa, -20% !"]


def test_a_first_name_without_default_is_reported_missing(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine)
    with session_scope(engine) as session:
        campaign = new_campaign(session, campaign_settings, text="{{ first_name }}, -20% !")
        session.flush()
        with pytest.raises(TemplateError, match=r"first_name.*2 of 3 recipients"):
            plan_campaign(session, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
