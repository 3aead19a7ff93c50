"""A workspace's own rules from its configuration: stricter than the packs, never looser."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import PARIS, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.eligibility import workspace_policy
from textopt.errors import ConfigError, ValidationError
from textopt.outbox.models import Message

WEDNESDAY_19H = dt.datetime(2026, 11, 25, 19, 0, tzinfo=PARIS)


def test_a_configured_earlier_end_defers_what_the_pack_would_send(
    engine: Engine, campaign_settings: Settings
) -> None:
    stricter = campaign_settings.model_copy(
        update={"policy_latest": "18:30", "policy_days": ["mon", "tue", "wed", "thu", "fri"]}
    )
    with session_scope(engine) as s:
        add_contact(s, "+33612345678")
        campaign = new_campaign(s, stricter, validity_hours=48)
        report = campaigns.launch(s, campaign=campaign, settings=stricter, now=WEDNESDAY_19H)
        planned = s.scalars(select(Message.send_at)).one()
    assert report.send_now == 0  # FR allows 19:00 on a Wednesday; the workspace does not
    assert planned == dt.datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)


def test_a_pack_override_that_loosens_the_law_is_refused(campaign_settings: Settings) -> None:
    looser = campaign_settings.model_copy(
        update={"policy_packs": {"FR": {"hours": {"end": "22:30"}}}}
    )
    with pytest.raises(ValidationError, match="after"):
        workspace_policy(looser)
    stricter = campaign_settings.model_copy(
        update={"policy_packs": {"FR": {"hours": {"end": "19:00"}}}}
    )
    assert [p.name for p in workspace_policy(stricter).packs] == ["FR"]


def test_bad_workspace_rules_are_named(campaign_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="policy_latest: '7pm'"):
        workspace_policy(campaign_settings.model_copy(update={"policy_latest": "7pm"}))
    with pytest.raises(ConfigError, match="'funday' is not a weekday"):
        workspace_policy(campaign_settings.model_copy(update={"policy_days": ["funday"]}))
