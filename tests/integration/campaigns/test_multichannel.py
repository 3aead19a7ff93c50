"""Multichannel campaigns: each channel rule, the fallback semantics and the shared budget."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.campaigns import PARIS, WEDNESDAY_10H, new_campaign, run_dispatcher
from tests.factories.keys import TEST_DIGEST
from tests.factories.multichannel import add_person, by_channel, new_multichannel_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import campaign_report, explain_recipient
from textopt.config import Settings, reset_settings
from textopt.consent import service as consent
from textopt.consent.models import SuppressionReason
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import ConfigError, ValidationError
from textopt.outbox.models import Message

LATER = WEDNESDAY_10H + dt.timedelta(minutes=1)


@pytest.fixture
def mc_settings(
    campaign_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The campaign settings plus a sandbox email account (email costs 0.001 each)."""
    mail = {
        "kind": "sandbox",
        "channel": "email",
        "rate": 10_000,
        "receipt_delay": 0.01,
        "failure_rate": 0,
        "expiry_rate": 0,
        "journal": str(tmp_path / "mail.jsonl"),
    }
    providers = {**campaign_settings.providers, "mail": mail}
    values = campaign_settings.model_copy(update={"providers": providers, "email_price": 0.001})
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(providers))
    reset_settings(values)
    yield values
    reset_settings(campaign_settings)


def _audience(engine: Engine) -> None:
    """Six people, named after what they can receive."""
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
        add_person(s, phone="+33612345602", email="mail@example.fr", sms=None, first_name="Mail")
        add_person(s, phone="+33612345603", email="rev@example.fr", sms="revoked", first_name="Rev")
        add_person(s, phone=None, email="nonum@example.fr", sms=None, first_name="NoNumber")
        add_person(s, phone="+33612345605", email=None, mail=None, first_name="Sms")
        stop = add_person(s, phone="+33612345606", email="stop@example.fr", first_name="Stop")
        consent.suppress(
            s, digest=TEST_DIGEST, phone=stop.phone, channel="sms", reason=SuppressionReason.KEYWORD
        )


def _launch(engine: Engine, settings: Settings, channels: str, **options: object) -> int:
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, settings, channels=channels, **options)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return campaign.id


def test_sms_else_email_emails_only_those_the_sms_cannot_reach(
    engine: Engine, mc_settings: Settings
) -> None:
    _audience(engine)
    campaign_id = _launch(engine, mc_settings, "sms-else-email")
    run_dispatcher(engine, mc_settings, at=LATER)
    assert by_channel(engine, campaign_id) == {
        ("Both", "sms"): ("sent", None),  # reachable by SMS: no email
        ("Mail", "sms"): ("blocked", "no_consent"),
        ("Mail", "email"): ("sent", None),
        ("Rev", "sms"): ("blocked", "consent_revoked"),
        ("Rev", "email"): ("sent", None),
        ("NoNumber", "sms"): ("blocked", "invalid_number"),
        ("NoNumber", "email"): ("sent", None),
        ("Sms", "sms"): ("sent", None),
        ("Stop", "sms"): ("blocked", "suppressed"),
        ("Stop", "email"): ("sent", None),
    }


def test_email_else_sms_texts_only_those_the_email_cannot_reach(
    engine: Engine, mc_settings: Settings
) -> None:
    _audience(engine)
    campaign_id = _launch(engine, mc_settings, "email-else-sms")
    run_dispatcher(engine, mc_settings, at=LATER)
    result = by_channel(engine, campaign_id)
    assert result[("Both", "email")] == ("sent", None)
    assert ("Both", "sms") not in result
    assert result[("Sms", "email")] == ("blocked", "invalid_email")
    assert result[("Sms", "sms")] == ("sent", None)
    # neither channel reaches Mail's phone (no SMS consent): the email goes, no SMS row
    assert result[("Mail", "email")] == ("sent", None)
    assert ("Mail", "sms") not in result


def test_a_deferred_sms_does_not_fall_back_to_email(engine: Engine, mc_settings: Settings) -> None:
    saturday_evening = dt.datetime(2026, 11, 28, 20, 30, tzinfo=PARIS)
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
        campaign = new_multichannel_campaign(
            s, mc_settings, channels="sms-else-email", validity_hours=72
        )
        report = campaigns.launch(s, campaign=campaign, settings=mc_settings, now=saturday_evening)
        campaign_id = campaign.id
    assert dict(report.deferred) == {"quiet_hours": 1}
    assert by_channel(engine, campaign_id) == {("Both", "sms"): ("planned", "quiet_hours")}


def test_both_gives_each_reachable_contact_an_sms_and_an_email(
    engine: Engine, mc_settings: Settings
) -> None:
    _audience(engine)
    campaign_id = _launch(engine, mc_settings, "both")
    run_dispatcher(engine, mc_settings, at=LATER)
    result = by_channel(engine, campaign_id)
    assert result[("Both", "sms")] == ("sent", None)
    assert result[("Both", "email")] == ("sent", None)
    assert result[("Mail", "sms")] == ("blocked", "no_consent")
    assert result[("Sms", "email")] == ("blocked", "invalid_email")
    assert len(result) == 12  # every contact decided on both channels
    with session_scope(engine) as s:
        keys = set(s.scalars(select(Message.idempotency_key).where(Message.channel == "email")))
        both = s.scalar(select(Contact.id).where(Contact.first_name == "Both"))
    assert f"c{campaign_id}-{both}-email" in keys


def test_email_only_campaign_sends_the_email_and_no_sms(
    engine: Engine, mc_settings: Settings
) -> None:
    _audience(engine)
    campaign_id = _launch(engine, mc_settings, "email", text=None)
    with session_scope(engine) as session:  # planning's bulk write keeps headers an object
        headers = session.scalars(
            select(Message.headers).where(
                Message.campaign_id == campaign_id, Message.headers.is_not(None)
            )
        ).all()
    assert headers
    assert all(isinstance(value, dict) and value for value in headers)
    run_dispatcher(engine, mc_settings, at=LATER)
    result = by_channel(engine, campaign_id)
    assert {channel for _, channel in result} == {"email"}
    assert result[("Stop", "email")] == ("sent", None)  # an SMS STOP is not an email one


def test_a_shared_budget_defers_the_second_channel_to_the_next_day(
    engine: Engine, mc_settings: Settings
) -> None:
    shared = mc_settings.model_copy(update={"caps_across_channels": True})
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
    campaign_id = _launch(engine, shared, "both", validity_hours=72)
    with session_scope(engine) as s:
        rows = {
            m.channel: m
            for m in s.scalars(select(Message).where(Message.campaign_id == campaign_id))
        }
        assert rows["sms"].send_at == WEDNESDAY_10H
        assert (rows["email"].reason, rows["email"].deferred) == ("frequency_cap", True)
        assert rows["email"].send_at == WEDNESDAY_10H + dt.timedelta(days=1)


def test_separate_budgets_send_both_channels_at_once(engine: Engine, mc_settings: Settings) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
    campaign_id = _launch(engine, mc_settings, "both")
    run_dispatcher(engine, mc_settings, at=LATER)
    assert set(by_channel(engine, campaign_id).values()) == {("sent", None)}


def test_a_shared_budget_counts_an_sms_of_another_campaign_against_an_email(
    engine: Engine, mc_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
        sale = new_campaign(s, mc_settings)
        campaigns.launch(s, campaign=sale, settings=mc_settings, now=WEDNESDAY_10H)
    run_dispatcher(engine, mc_settings, at=LATER)
    results = {}
    for shared in (False, True):
        settings = mc_settings.model_copy(update={"caps_across_channels": shared})
        with session_scope(engine) as s:
            campaign = new_multichannel_campaign(
                s, settings, channels="email", text=None, validity_hours=72
            )
            report = campaigns.preview(s, campaign=campaign, settings=settings, now=LATER)
        results[shared] = (report.send_now, dict(report.deferred))
    assert results == {False: (1, {}), True: (0, {"frequency_cap": 1})}


def test_the_claim_time_check_also_shares_the_budget(engine: Engine, mc_settings: Settings) -> None:
    shared = mc_settings.model_copy(update={"caps_across_channels": True})
    sms_only = mc_settings.model_copy(
        update={"providers": {"sandbox": mc_settings.providers["sandbox"]}}
    )
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="both@example.fr", first_name="Both")
        newsletter = new_multichannel_campaign(
            s, shared, channels="email", text=None, validity_hours=72
        )
        campaigns.launch(s, campaign=newsletter, settings=shared, now=WEDNESDAY_10H)
        # planned with separate budgets, so both messages are due at once
        sale = new_campaign(s, mc_settings)
        campaigns.launch(s, campaign=sale, settings=mc_settings, now=WEDNESDAY_10H)
        newsletter_id, sale_id = newsletter.id, sale.id
    run_dispatcher(engine, sms_only, at=LATER)  # the SMS goes first
    run_dispatcher(engine, shared, at=LATER + dt.timedelta(minutes=1))
    assert by_channel(engine, sale_id) == {("Both", "sms"): ("sent", None)}
    assert by_channel(engine, newsletter_id) == {("Both", "email"): ("planned", "frequency_cap")}


def test_preview_shows_each_channel_side_by_side(engine: Engine, mc_settings: Settings) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, mc_settings, channels="sms-else-email")
        report = campaigns.preview(s, campaign=campaign, settings=mc_settings, now=WEDNESDAY_10H)
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    data = report.to_dict()
    assert data["channel_rule"] == "sms-else-email"
    assert (data["audience"], data["reached"]) == (6, 6)
    sms, email = data["channels"]["sms"], data["channels"]["email"]
    assert (sms["audience"], sms["planned"]) == (6, 2)
    assert sms["blocked"] == {
        "no_consent": 1,
        "consent_revoked": 1,
        "invalid_number": 1,
        "suppressed": 1,
    }
    assert (email["audience"], email["planned"], email["blocked"]) == (4, 4, {})
    assert (email["segments"], email["cost"]) == (4, "0.004")
    assert data["by_country"]["FR/email"]["messages"] == 4


def test_an_sms_only_plan_keeps_its_report_fields(engine: Engine, mc_settings: Settings) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        report = campaigns.preview(
            s, campaign=new_campaign(s, mc_settings), settings=mc_settings, now=WEDNESDAY_10H
        )
    data = report.to_dict()
    assert list(data["channels"]) == ["sms"]
    assert data["channels"]["sms"]["planned"] == data["planned"] == 2
    assert data["blocked"] == data["channels"]["sms"]["blocked"]
    assert data["worst_message"] is not None
    assert (
        data["estimated_duration_seconds"] == data["channels"]["sms"]["estimated_duration_seconds"]
    )


def test_the_report_and_why_show_each_channel(engine: Engine, mc_settings: Settings) -> None:
    _audience(engine)
    campaign_id = _launch(engine, mc_settings, "sms-else-email")
    run_dispatcher(engine, mc_settings, at=LATER)
    with session_scope(engine) as s:
        campaign = campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
        data = campaign_report(s, campaign=campaign)
        mail = s.scalars(select(Contact).where(Contact.first_name == "Mail")).one()
        why = explain_recipient(s, campaign=campaign, contact=mail, settings=mc_settings, now=LATER)
    assert data["channel_rule"] == "sms-else-email"
    assert (data["channels"]["sms"]["sent"], data["channels"]["email"]["sent"]) == (2, 4)
    assert data["channels"]["email"]["cost_sent"] == "0.004"
    assert data["channels"]["sms"]["blocked_by_reason"]["suppressed"] == 1
    assert data["sent"] == 6
    assert why["channels"]["sms"]["stored_decision"]["reason"] == "no_consent"
    assert why["channels"]["email"]["stored_decision"]["status"] in ("submitted", "delivered")
    assert why["channels"]["email"]["evaluated_now"]["decision"] == "SEND"


def test_planning_twice_adds_no_second_message_on_either_channel(
    engine: Engine, mc_settings: Settings
) -> None:
    _audience(engine)
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, mc_settings, channels="both")
        first = campaigns.launch(s, campaign=campaign, settings=mc_settings, now=WEDNESDAY_10H)
        from textopt.campaigns.planning import plan_campaign

        again = plan_campaign(s, campaign=campaign, settings=mc_settings, now=WEDNESDAY_10H)
    assert (first.written, again.written) == (12, 0)


def test_a_campaign_refuses_an_email_without_the_email_channel_or_an_account(
    engine: Engine, campaign_settings: Settings, mc_settings: Settings
) -> None:
    def create(settings: Settings, **options: object) -> None:
        campaigns.create_campaign(
            s, settings=settings, name="x", audience="all", brand_name="Boutique", **options
        )

    email = {"email_subject": "Hello", "email_template": "<p>Hello</p>"}
    with session_scope(engine) as s:
        with pytest.raises(ValidationError, match="channel rule is sms"):
            create(mc_settings, template="Hi", **email)
        with pytest.raises(ValidationError, match="unknown channel rule 'fax'"):
            create(mc_settings, template="Hi", channels="fax")
        with pytest.raises(ValidationError, match="needs an SMS text"):
            create(mc_settings, template="", channels="both", **email)
        with pytest.raises(ValidationError, match="email_subject"):
            create(mc_settings, template="Hi", channels="both", **{**email, "email_subject": "{{"})
        with pytest.raises(ValidationError, match="not an email address"):
            create(mc_settings, template="", channels="email", email_from="nobody", **email)
        with pytest.raises(ConfigError, match="no provider account sends email"):
            create(campaign_settings, template="Hi", channels="both", **email)
