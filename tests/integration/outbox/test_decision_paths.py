"""A policy decision is stored the same way by every path that writes one.

Planning (by class and one by one), the claim's re-check and one-off sends all turn a
decision into a message's columns through `outbox.rows.decision_columns`. These tests give
each path the same decision and compare what the database holds, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns import service as campaigns
from textopt.campaigns.planning import RunContext, plan_campaign, recipients
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.claim import claim_batch
from textopt.eligibility import Rechecker, workspace_policy
from textopt.outbox.models import Message
from textopt.outbox.rows import decision_columns
from textopt.policy import Decision, Reason, Verdict

NOW = WEDNESDAY_10H
COLUMNS = ("status", "reason", "reason_text", "deferred", "send_at", "done_at")


def _decision(verdict: Verdict, reason: Reason | None, at: dt.datetime | None) -> Decision:
    return Decision(
        verdict=verdict,
        at=at,
        reason=reason,
        sentence=f"the sentence of {reason}",
        pack="fr",
        timezones=("Europe/Paris",),
        trace=(),
    )


SEND = _decision(Verdict.SEND, None, NOW)
DECISIONS = {
    "block-expired": _decision(Verdict.BLOCK, Reason.EXPIRED, None),
    "block-suppressed": _decision(Verdict.BLOCK, Reason.SUPPRESSED, None),
    "defer-quiet-hours": _decision(Verdict.DEFER, Reason.QUIET_HOURS, NOW + dt.timedelta(hours=3)),
}


def _stored(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in COLUMNS}


def _planned(
    engine: Engine, settings: Settings, decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> Message:
    with session_scope(engine) as s:
        campaign = new_campaign(s, settings, text="Bonjour {{ first_name }} : -20% !")
        s.flush()
        with monkeypatch.context() as patched:
            patched.setattr(recipients, "decide", lambda *args: decision)
            plan_campaign(s, campaign=campaign, settings=settings, now=NOW)
        message = s.scalars(select(Message).where(Message.campaign_id == campaign.id)).one()
        s.expunge(message)
    return message


def _claimed(
    engine: Engine, settings: Settings, decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> Message:
    with session_scope(engine) as s, monkeypatch.context() as patched:
        # planned to go at once whatever the earlier messages of the test (caps)
        patched.setattr(recipients, "decide", lambda *args: SEND)
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=NOW)
        campaign_id = campaign.id
    with session_scope(engine) as s, monkeypatch.context() as patched:
        patched.setattr(Rechecker, "decide", lambda self, row: decision)
        report = claim_batch(
            s,
            worker="w1",
            provider="sandbox",
            rate=None,
            now=NOW,
            limit=10,
            lease=dt.timedelta(minutes=5),
            workspace=workspace_policy(settings),
            digest=TEST_DIGEST,
        )
        assert not report.sending
    with session_scope(engine) as s:
        message = s.scalars(select(Message).where(Message.campaign_id == campaign_id)).one()
        s.expunge(message)
    return message


def _sent_once(
    engine: Engine, settings: Settings, decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> Message:
    with session_scope(engine) as s, monkeypatch.context() as patched:
        patched.setattr("textopt.campaigns.sends.decide", lambda *args: decision)
        message, created = enqueue_message(
            s, settings=settings, to="+33698765432", text="Votre commande est prête", now=NOW
        )
        assert created
        s.flush()
        s.expunge(message)
    return message


@pytest.mark.parametrize("name", list(DECISIONS))
def test_planning_the_claim_and_one_off_sends_store_a_decision_alike(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    decision = DECISIONS[name]
    settings = campaign_settings
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Léa")
    by_class = _planned(engine, settings, decision, monkeypatch)
    with monkeypatch.context() as patched:
        patched.setattr(RunContext, "by_class", lambda run: False)
        one_by_one = _planned(engine, settings, decision, monkeypatch)
    claimed = _claimed(engine, settings, decision, monkeypatch)
    sent_once = _sent_once(engine, settings, decision, monkeypatch)

    expected = decision_columns(decision, start=NOW, now=NOW)._asdict()
    del expected["pack"]
    for message in (by_class, one_by_one, claimed, sent_once):
        assert _stored(message) == expected
    assert by_class.pack == one_by_one.pack == sent_once.pack == decision.pack


def test_an_expired_message_is_expired_and_any_other_block_is_blocked() -> None:
    """The one mapping's semantics: expiry is not a refusal; a block is final at once."""
    expired = decision_columns(DECISIONS["block-expired"], start=NOW, now=NOW)
    blocked = decision_columns(DECISIONS["block-suppressed"], start=NOW, now=NOW)
    deferred = decision_columns(DECISIONS["defer-quiet-hours"], start=NOW, now=NOW)
    assert (expired.status, expired.reason, expired.done_at) == ("expired", "expired", NOW)
    assert (blocked.status, blocked.reason, blocked.send_at) == ("blocked", "suppressed", None)
    assert (deferred.status, deferred.deferred, deferred.done_at) == ("planned", True, None)
    assert deferred.send_at == NOW + dt.timedelta(hours=3)
