"""Campaigns end to end: every recipient is sent once at an allowed moment, or has a reason."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.campaigns import (
    PARIS,
    WEDNESDAY_10H,
    add_contact,
    journal_keys,
    new_campaign,
    run_dispatcher,
    statuses,
)
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.campaigns.models import CampaignStatus
from textopt.campaigns.report import campaign_report
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import SuppressionReason
from textopt.db.engine import session_scope
from textopt.errors import TemplateError
from textopt.gdpr import service as gdpr
from textopt.outbox.models import Message

ALICE, BOB, CAROL, DAN, EVE, FRED = (
    "+33612345678",  # consent: sent
    "+33698765432",  # no consent: excluded
    "+33611111111",  # revoked: excluded
    "+33622222222",  # STOP (suppressed): excluded
    "+13055550123",  # Florida, alphanumeric sender: refused
    "+262692123456",  # Réunion: judged in Indian/Reunion time (UTC+4)
)


def _mixed_audience(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE)
        add_contact(s, BOB, consent_at=None)
        carol = add_contact(s, CAROL)
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=carol.id,
            channel="sms",
            purpose="marketing",
            action="revoked",
            source="api",
            occurred_at=WEDNESDAY_10H - dt.timedelta(days=1),
        )
        add_contact(s, DAN)
        consent.suppress(
            s, digest=TEST_DIGEST, phone=DAN, channel="sms", reason=SuppressionReason.KEYWORD
        )
        add_contact(s, EVE)
        add_contact(s, FRED)
        add_contact(s, "+33633333333", tags=("other",))  # not in the audience


@pytest.mark.parametrize("old_sqlite", [False, True], ids=["sqlite-now", "sqlite-3.32"])
def test_a_mixed_audience_ends_with_exactly_the_expected_recipients(
    engine: Engine,
    campaign_settings: Settings,
    journal: Path,
    old_sqlite: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Also with a SQLite before 3.33 (no UPDATE … FROM, no `->`): the fallbacks."""
    if old_sqlite:
        monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 32, 3))
    _mixed_audience(engine)
    campaign_settings = campaign_settings.model_copy(update={"sender_ids": ["BOUTIQUE"]})
    with session_scope(engine) as s:
        campaign = new_campaign(s, campaign_settings, sender_id="BOUTIQUE")
        preview = campaigns.preview(
            s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H
        )
        assert s.scalar(select(func.count()).select_from(Message)) == 0  # a preview writes nothing
        report = campaigns.launch(
            s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H
        )
        campaign_id = campaign.id
    assert preview.to_dict()["blocked"] == report.to_dict()["blocked"]
    assert report.audience == 6
    assert dict(report.blocked) == {
        "no_consent": 1,
        "consent_revoked": 1,
        "suppressed": 1,
        "sender_not_allowed": 1,
    }
    stats = run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    assert stats.submitted == 2
    assert statuses(engine, campaign_id) == {
        ALICE: ("delivered", None),
        BOB: ("blocked", "no_consent"),
        CAROL: ("blocked", "consent_revoked"),
        DAN: ("blocked", "suppressed"),
        EVE: ("blocked", "sender_not_allowed"),
        FRED: ("delivered", None),
    }
    assert sorted(journal_keys(journal)) == sorted(
        f"c{campaign_id}-{i}" for i in _ids(engine, campaign_id, ALICE, FRED)
    )
    with session_scope(engine) as s:
        data = campaign_report(
            s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        )
    assert (data["status"], data["sent"], data["delivered"]) == ("completed", 2, 2)
    assert data["blocked_by_reason"]["suppressed"] == 1


def _ids(engine: Engine, campaign_id: int, *phones: str) -> list[int]:
    from textopt.contacts.models import Contact

    with session_scope(engine) as s:
        return list(s.scalars(select(Contact.id).where(Contact.phone.in_(phones))))


def test_night_and_sunday_are_deferred_and_sent_when_allowed(
    engine: Engine, campaign_settings: Settings
) -> None:
    saturday_evening = dt.datetime(2026, 11, 28, 20, 30, tzinfo=PARIS)
    with session_scope(engine) as s:
        add_contact(s, ALICE)
        campaign = new_campaign(s, campaign_settings, validity_hours=72)
        report = campaigns.launch(
            s, campaign=campaign, settings=campaign_settings, now=saturday_evening
        )
        campaign_id = campaign.id
    assert report.send_now == 0
    assert sum(report.deferred.values()) == 1
    monday_8h = dt.datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)
    with session_scope(engine) as s:
        message = s.scalars(select(Message).where(Message.campaign_id == campaign_id)).one()
        assert message.send_at == monday_8h
        assert message.deferred
    assert (
        run_dispatcher(engine, campaign_settings, at=monday_8h - dt.timedelta(minutes=1)).submitted
        == 0
    )
    assert run_dispatcher(engine, campaign_settings, at=monday_8h).submitted == 1


def test_a_promotion_that_cannot_go_before_it_expires_is_expired_not_late(
    engine: Engine, campaign_settings: Settings
) -> None:
    saturday_evening = dt.datetime(2026, 11, 28, 20, 30, tzinfo=PARIS)
    with session_scope(engine) as s:
        add_contact(s, ALICE)
        campaign = new_campaign(s, campaign_settings, validity_hours=12)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=saturday_evening)
        campaign_id = campaign.id
    assert statuses(engine, campaign_id) == {ALICE: ("expired", "expired")}


def test_a_stop_received_after_planning_blocks_the_message(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    with session_scope(engine) as s:
        alice = add_contact(s, ALICE)
        add_contact(s, BOB)
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    with session_scope(engine) as s:  # Alice replies STOP to an earlier message
        consent.record_consent(
            s,
            digest=TEST_DIGEST,
            contact_id=alice.id,
            channel="sms",
            purpose="marketing",
            action="revoked",
            source="keyword",
            occurred_at=WEDNESDAY_10H + dt.timedelta(seconds=30),
        )
        consent.suppress(
            s, digest=TEST_DIGEST, phone=ALICE, channel="sms", reason=SuppressionReason.KEYWORD
        )
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    result = statuses(engine, campaign_id)
    assert result[ALICE][0] == "blocked"
    assert result[ALICE][1] in ("consent_revoked", "suppressed")
    assert result[BOB] == ("delivered", None)
    assert len(journal_keys(journal)) == 1


def test_caps_hold_across_two_campaigns(engine: Engine, campaign_settings: Settings) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE)
        first = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=first, settings=campaign_settings, now=WEDNESDAY_10H)
        second = new_campaign(
            s, campaign_settings, text="Nouvelle collection chez Boutique", validity_hours=72
        )
        report = campaigns.launch(
            s,
            campaign=second,
            settings=campaign_settings,
            now=WEDNESDAY_10H + dt.timedelta(hours=1),
        )
        first_id, second_id = first.id, second.id
    assert dict(report.deferred) == {"frequency_cap": 1}
    with session_scope(engine) as s:
        later = s.scalars(select(Message).where(Message.campaign_id == second_id)).one()
        assert later.send_at is not None
        assert later.send_at >= WEDNESDAY_10H + dt.timedelta(days=1)
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(hours=2))
    assert statuses(engine, first_id)[ALICE] == ("delivered", None)
    assert statuses(engine, second_id)[ALICE][0] == "planned"


def test_pause_stops_sending_and_resume_continues_without_duplicates(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    with session_scope(engine) as s:
        for n in range(20):
            add_contact(s, f"+336123456{n:02d}")
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        campaigns.pause(s, campaign=campaign, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    assert run_dispatcher(engine, campaign_settings, at=at).submitted == 0
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        campaigns.resume(s, campaign=campaign, now=at)
    assert run_dispatcher(engine, campaign_settings, at=at).submitted == 20
    assert run_dispatcher(engine, campaign_settings, at=at).submitted == 0
    keys = journal_keys(journal)
    assert len(keys) == 20
    assert len(set(keys)) == 20


def test_cancel_cancels_every_unsent_message(engine: Engine, campaign_settings: Settings) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE)
        add_contact(s, BOB, consent_at=None)
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        assert campaigns.cancel(s, campaign=campaign, now=WEDNESDAY_10H) == 1
        assert campaign.status == CampaignStatus.CANCELLED
        campaign_id = campaign.id
    assert statuses(engine, campaign_id) == {
        ALICE: ("cancelled", "campaign_cancelled"),
        BOB: ("blocked", "no_consent"),
    }


def test_planning_twice_never_creates_a_second_message(
    engine: Engine, campaign_settings: Settings
) -> None:
    from textopt.campaigns.planning import plan_campaign

    with session_scope(engine) as s:
        add_contact(s, ALICE)
        campaign = new_campaign(s, campaign_settings)
        first = plan_campaign(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        add_contact(s, BOB)
        again = plan_campaign(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        count = s.scalar(select(func.count()).select_from(Message))
    assert (first.written, again.written, count) == (1, 1, 2)


def test_a_template_variable_missing_for_some_recipients_plans_nothing(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, ALICE, attributes={"city": "Lyon"})
        add_contact(s, BOB)
        add_contact(s, CAROL)
        campaign = new_campaign(s, campaign_settings, text="Boutique {{ attributes.city }} ouvre !")
        campaign_id = campaign.id
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        with pytest.raises(TemplateError, match=r"attributes\.city.*2 of 3 recipients"):
            campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
        s.rollback()
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        assert campaigns.get_campaign_or_raise(s, campaign_id=campaign_id).status == "draft"


def test_an_erased_recipient_is_not_sent_the_planned_message(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    with session_scope(engine) as s:
        alice = add_contact(s, ALICE)
        campaign = new_campaign(s, campaign_settings)
        campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    with session_scope(engine) as s:
        gdpr.erase_person(s, settings=campaign_settings, contact=s.get(type(alice), alice.id))  # type: ignore[arg-type]
    run_dispatcher(engine, campaign_settings, at=WEDNESDAY_10H + dt.timedelta(minutes=1))
    assert journal_keys(journal) == []


def test_temporary_errors_are_retried_without_duplicates(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    throttled = campaign_settings.model_copy(
        update={
            "providers": {
                "sandbox": {**campaign_settings.providers["sandbox"], "throttle_every": 3}
            }
        }
    )
    with session_scope(engine) as s:
        for n in range(9):
            add_contact(s, f"+336123456{n:02d}")
        campaign = new_campaign(s, throttled)
        campaigns.launch(s, campaign=campaign, settings=throttled, now=WEDNESDAY_10H)
        campaign_id = campaign.id
    at = WEDNESDAY_10H + dt.timedelta(minutes=1)
    stats = run_dispatcher(engine, throttled, at=at)
    assert stats.throttled == 3
    for minutes in (2, 3, 5, 9):  # the clock moves past the backoff
        run_dispatcher(engine, throttled, at=at + dt.timedelta(minutes=minutes))
    keys = journal_keys(journal)
    assert sorted(keys) == sorted(set(keys))
    assert Counter(status for status, _ in statuses(engine, campaign_id).values()) == {
        "delivered": 9
    }
