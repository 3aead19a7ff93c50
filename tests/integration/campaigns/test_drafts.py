"""Drafts: an edit is validated as a creation, a copy keeps everything but a past start, only
a draft changes or goes, and a launch reports its first and last send time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import drafts, service
from textopt.campaigns.segments import create_segment
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import ConflictError, TemplateError, ValidationError
from textopt.links.service import tracks_links
from textopt.vocab import Purpose


def test_an_edit_is_validated_as_a_creation_and_keeps_what_it_does_not_change(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        create_segment(s, name="vip", filter="tag:vip")
        campaign = new_campaign(s, campaign_settings, track_links=True, validity_hours=6)
        with pytest.raises(TemplateError, match="line 1"):
            drafts.update_draft(
                s, campaign=campaign, settings=campaign_settings, changes={"template": "{{ x"}
            )
        with pytest.raises(ValidationError, match="sender"):
            drafts.update_draft(
                s, campaign=campaign, settings=campaign_settings, changes={"sender_id": "A B"}
            )
        with pytest.raises(ValidationError, match="no field 'colour'"):
            drafts.update_draft(
                s, campaign=campaign, settings=campaign_settings, changes={"colour": "red"}
            )
        drafts.update_draft(
            s, campaign=campaign, settings=campaign_settings, changes={"segment": "vip"}
        )
        assert campaign.segment_id is not None
        assert (campaign.template, campaign.validity_hours) == ("Soldes -20% chez Boutique", 6)
        assert tracks_links(campaign)
        drafts.update_draft(
            s, campaign=campaign, settings=campaign_settings, changes={"audience": "all"}
        )
        assert (campaign.segment_id, campaign.audience_filter) == (None, "all")


def test_a_copy_keeps_the_message_and_audience_and_drops_a_start_already_past(
    engine: Engine, campaign_settings: Settings
) -> None:
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as s:
        add_contact(s, "+33612345601", first_name="Alice")
        original = new_campaign(
            s,
            campaign_settings,
            text="Bonjour {{ first_name }}",
            purpose=Purpose.TRANSACTIONAL,
            send_at=now + dt.timedelta(hours=2),
        )
        service.launch(s, campaign=original, settings=campaign_settings, now=now)
        with pytest.raises(ConflictError, match="only a draft can be edited"):
            drafts.update_draft(
                s, campaign=original, settings=campaign_settings, changes={"name": "x"}
            )
        with pytest.raises(ConflictError, match="only a draft can be deleted"):
            drafts.delete_draft(s, campaign=original)
        later = drafts.duplicate_campaign(
            s, campaign=original, settings=campaign_settings, now=now + dt.timedelta(hours=3)
        )
        assert (later.status, later.name, later.send_at) == ("draft", "Soldes (copy)", None)
        assert (later.template, later.audience_filter) == (original.template, "tag:vip")
        assert later.purpose == Purpose.TRANSACTIONAL
        drafts.delete_draft(s, campaign=later)
        assert service.get_campaign(s, campaign_id=later.id) is None


def test_the_plan_reports_its_first_and_last_send_time(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345601", first_name="Alice")
        add_contact(s, "+13055550123", first_name="Carol", country="US")
        campaign = new_campaign(s, campaign_settings)
        # 10:00 in Paris is 04:00 in Miami: Carol's message waits for her morning
        report = service.preview(
            s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H
        )
    assert report.planned == 2
    assert report.first_send == WEDNESDAY_10H
    assert report.last_send is not None
    assert report.last_send > WEDNESDAY_10H
    assert report.to_dict()["last_send_at"] == report.last_send.isoformat()
