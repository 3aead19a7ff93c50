"""Preferences the team records for a person (API and CLI): the page's ledger events, the
actor as their source and proof, an audit entry; fields left out are kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact
from tests.factories.keys import TEST_DIGEST

from textopt.accounts.models import AuditEntry, Scope
from textopt.accounts.service import Actor
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent, FrequencyLimit
from textopt.consent.preferences import (
    PreferenceChoice,
    merge_choices,
    read_preferences,
    set_preferences,
)
from textopt.errors import ConflictError, ValidationError
from textopt.vocab import Channel

API_KEY = Actor("api_key", 7, "key:crm", frozenset({Scope.WRITE}), user_id=None)
OPERATOR = Actor("cli", None, "cli:test", frozenset())


def test_the_team_stops_promotions_keeps_reminders_and_sets_a_limit_as_the_page_would(
    session: Session,
) -> None:
    contact = add_contact(session, "+33612345678")
    current = read_preferences(session, contact_id=contact.id)
    choices = merge_choices(current, {Channel.SMS: {"frequency": FrequencyLimit.TWO_A_MONTH}})
    first = set_preferences(
        session,
        actor=API_KEY,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        choices=choices,
        now=WEDNESDAY_10H,
    )
    current = read_preferences(session, contact_id=contact.id)
    stop = merge_choices(current, {Channel.SMS: {"promotions": False}})
    second = set_preferences(
        session,
        actor=OPERATOR,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        choices=stop,
        now=WEDNESDAY_10H + dt.timedelta(minutes=1),
    )
    again = set_preferences(
        session,
        actor=OPERATOR,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        choices=stop,
        now=WEDNESDAY_10H + dt.timedelta(minutes=2),
    )
    session.commit()
    assert (len(first), len(second), again) == (1, 1, [])
    events = {e.id: e for e in session.scalars(select(ConsentEvent))}
    assert (events[first[0]].action, events[first[0]].source) == ("limit-2-a-month", "api")
    assert (events[second[0]].action, events[second[0]].source) == ("revoked", "cli")
    proofs = dict(consent.history(session, contact_id=contact.id))
    proof = proofs[events[first[0]]]
    assert proof is not None
    assert proof.data["recorded_by"] == "key:crm"
    [sms, _email] = read_preferences(session, contact_id=contact.id)
    assert (sms.promotions, sms.reminders) == ("stopped", True)
    audits = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "consent.preferences")
    ).all()
    assert [(a.actor_label, a.detail["events"]) for a in audits] == [
        ("key:crm", first),
        ("cli:test", second),
        ("cli:test", []),
    ]


def test_promotions_stopped_are_not_resumed_and_an_erased_person_is_refused(
    session: Session,
) -> None:
    contact = add_contact(session, "+33612345678")
    consent.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact.id,
        channel="sms",
        purpose="marketing",
        action="revoked",
        source="keyword",
    )
    current = read_preferences(session, contact_id=contact.id)
    with pytest.raises(ValidationError, match="consent grant"):
        merge_choices(current, {Channel.SMS: {"promotions": True}})
    # and a choice made without merging resumes nothing either
    [sms] = [held for held in current if held.channel == Channel.SMS]
    keep = [
        PreferenceChoice(
            channel=Channel.SMS, promotions=True, reminders=sms.reminders, frequency=sms.frequency
        )
    ]
    assert (
        set_preferences(
            session,
            actor=OPERATOR,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            choices=keep,
            now=WEDNESDAY_10H,
        )
        == []
    )
    contact.erased_at = WEDNESDAY_10H
    with pytest.raises(ConflictError, match="erased"):
        set_preferences(
            session,
            actor=OPERATOR,
            digest=TEST_DIGEST,
            contact_id=contact.id,
            choices=keep,
            now=WEDNESDAY_10H,
        )
