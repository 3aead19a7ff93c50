"""Tracked links in a campaign: one short link per recipient, counted in segments and clicks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.integration.campaigns.test_planning_by_class import audience_with_caps

from textopt.campaigns import service as campaigns
from textopt.campaigns.planning import RunContext, classes, linked, plan_campaign, preview_campaign
from textopt.campaigns.report import campaign_report
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.links.models import LinkCode
from textopt.links.service import follow_link, link_base
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


# -- planning by class with tracked links ----------------------------------------------


def _unshortened(session: Session, campaign_id: int, base: str) -> Any:
    """The campaign's outbox rows (by contact) with each short link written back as the URL
    it stands for, checked to be the contact's own; and the (contact, URL) pairs coded."""
    owners = {
        code: (contact_id, url)
        for code, contact_id, url in session.execute(
            select(LinkCode.code, LinkCode.contact_id, LinkCode.url).where(
                LinkCode.campaign_id == campaign_id
            )
        )
    }
    short = re.compile(re.escape(base) + r"([0-9A-Za-z]{7})")

    def back(contact_id: int, text: str) -> str:
        def url(match: re.Match[str]) -> str:
            owner, target = owners[match.group(1)]
            assert owner == contact_id
            return f"<{target}>"

        return short.sub(url, text)

    rows = {}
    for message in session.scalars(select(Message).where(Message.campaign_id == campaign_id)):
        row = {c.name: getattr(message, c.name) for c in Message.__table__.c if c.name != "id"}
        if row["body"]:
            row["body"] = back(message.contact_id, row["body"])
        rows[message.contact_id] = row
    return rows, sorted(owners.values()), back


def _plan_linked(engine: Engine, settings: Settings, campaign_id: int, base: str) -> Any:
    with session_scope(engine) as s:
        s.execute(delete(Message).where(Message.campaign_id == campaign_id))
        s.execute(delete(LinkCode).where(LinkCode.campaign_id == campaign_id))
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        preview = preview_campaign(
            s, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=7
        ).to_dict()
        report = plan_campaign(
            s, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=7
        ).to_dict()
        campaign.planned_at = None
    with session_scope(engine) as s:
        rows, coded, back = _unshortened(s, campaign_id, base)
    if report["worst_message"]:
        report["worst_message"]["text"] = back(
            report["worst_message"]["contact_id"], report["worst_message"]["text"]
        )
    return rows, coded, report, preview


LINKED = (
    "{{ first_name }}, -20% : https://boutique.example/soldes?ville={{ attributes.city }} "
    "et https://boutique.example/carte, https://boutique.example/soldes?ville={{ attributes.city }}"
)


@pytest.mark.parametrize("brand", ["Boutique", "Promo42"])
def test_links_planned_by_class_are_what_planning_one_by_one_writes(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch, brand: str
) -> None:
    """Every column, the report and the codes' URLs, on a varied audience (suppressed and
    capped recipients are planned one by one inside the run). A brand a code could spell
    (`Promo42`) sends every text with a link one by one: the same again."""
    base = link_base(campaign_settings)
    with session_scope(engine) as s:
        audience_with_caps(s, campaign_settings)
        campaign_id = new_campaign(
            s, campaign_settings, text=LINKED, track_links=True, brand_name=brand
        ).id
    by_class = _plan_linked(engine, campaign_settings, campaign_id, base)
    monkeypatch.setattr(RunContext, "by_class", lambda run: False)
    alone = _plan_linked(engine, campaign_settings, campaign_id, base)
    assert by_class == alone
    rows, coded, report, preview = by_class
    assert len(rows) == 40
    assert len(coded) == sum(  # a code per distinct URL of each text
        len(set(re.findall("<[^>]*>", row["body"]))) for row in rows.values() if row["body"]
    )
    assert all("<https://boutique.example/carte>" in r["body"] for r in rows.values() if r["body"])
    assert preview["worst_message"]["segments"] == report["worst_message"]["segments"]


def test_a_code_that_clashes_in_the_writer_is_drawn_again_and_the_text_follows(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By class, codes are written beside the planning: a code already taken (another
    campaign's) is found then, drawn again, and the recipient's text rebuilt with it."""
    base = link_base(campaign_settings)
    with session_scope(engine) as s:
        for n in range(5):
            add_contact(s, f"+3361234567{n}")
        other = new_campaign(s, campaign_settings, text=TEXT, track_links=True)
        plan_campaign(s, campaign=other, settings=campaign_settings, now=WEDNESDAY_10H)
        taken = s.scalars(select(LinkCode.code).where(LinkCode.campaign_id == other.id)).first()
        # its messages gone (no recent marketing: the next campaign is planned by class)
        s.execute(delete(Message).where(Message.campaign_id == other.id))
        campaign_id = new_campaign(s, campaign_settings, text=TEXT, track_links=True).id
    assert taken is not None
    draws = iter([[taken, taken, "Ccccccc", "Ddddddd", "Eeeeeee"], ["Fffffff", "Ggggggg"]])
    monkeypatch.setattr(classes, "draw_codes", lambda count: next(draws)[:count])
    monkeypatch.setattr(linked, "draw_codes", lambda count: next(draws)[:count])
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        report = plan_campaign(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    with session_scope(engine) as s:
        rows, coded, _ = _unshortened(s, campaign_id, base)  # each code the contact's own
        codes = set(s.scalars(select(LinkCode.code).where(LinkCode.campaign_id == campaign_id)))
        bodies = list(s.scalars(select(Message.body).where(Message.campaign_id == campaign_id)))
    assert len(coded) == 5
    assert taken not in codes
    assert {"Ccccccc", "Fffffff", "Ggggggg"} <= codes
    assert all(f"<{TEXT.split(' : ')[1]}>" in r["body"] for r in rows.values())
    assert any(base + "Fffffff" in body for body in bodies)
    assert report.worst is not None  # the first recipient's, whose code was drawn again
    assert base + "Fffffff" in report.worst["text"]
