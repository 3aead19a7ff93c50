"""Tracked links in a campaign: one short link per recipient, counted in segments and clicks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import campaign_report
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.links.service import follow_link
from textopt.outbox.models import Message

TEXT = "Soldes chez Boutique : https://boutique.example/soldes-hiver-2026?utm=sms"


def test_each_recipient_gets_their_own_short_link_and_clicks_are_counted(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"link_domain": "go.example.com"})
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
        add_contact(s, "+33698765432")
        campaign = new_campaign(s, settings, text=TEXT, track_links=True)
        preview = campaigns.preview(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        planned = campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    assert preview.segments == planned.segments  # the preview counts a link of equal length
    with session_scope(engine) as s:
        bodies = list(s.scalars(select(Message.body).where(Message.campaign_id == campaign_id)))
    links = [body.split("https://go.example.com/")[1].split()[0] for body in bodies if body]
    assert len(links) == 2
    assert len(set(links)) == 2  # one code per recipient
    assert all("boutique.example" not in body for body in bodies if body)
    with session_scope(engine) as s:
        target = follow_link(s, code=links[0], user_agent="Mozilla/5.0", now=WEDNESDAY_10H)
        follow_link(s, code=links[0], user_agent="Mozilla/5.0", now=WEDNESDAY_10H)
    assert target == "https://boutique.example/soldes-hiver-2026?utm=sms"
    with session_scope(engine) as s:
        report = campaign_report(
            s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        )
    assert (report["clicks"]["clicks"], report["clicks"]["contacts_clicking"]) == (2, 1)


def test_planning_again_keeps_each_recipients_link(
    engine: Engine, campaign_settings: Settings
) -> None:
    from textopt.campaigns.planning import plan_campaign

    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
        campaign = new_campaign(s, campaign_settings, text=TEXT, track_links=True)
        plan_campaign(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        first = s.scalars(select(Message.body)).one()
        add_contact(s, "+33698765432")
        plan_campaign(
            s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H + dt.timedelta(1)
        )
        bodies = list(s.scalars(select(Message.body).order_by(Message.id)))
    assert bodies[0] == first
    assert len(bodies) == 2
