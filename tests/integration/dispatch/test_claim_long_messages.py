"""Long messages: refused over the workspace's limit, and never blocking an account's queue.

The claim reserves an account's segment tokens and takes its due messages oldest first;
one message that cannot fit the tokens left is passed over (a later, shorter one may go),
one longer than the workspace allows is blocked, and one costing more than the account
can ever be granted at once waits for a full bucket instead of waiting for ever.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.db.engine import session_scope
from textopt.dispatch.claim import ClaimReport, claim_batch, reserve_tokens
from textopt.dispatch.models import RateBucket
from textopt.eligibility import workspace_policy
from textopt.errors import ValidationError
from textopt.outbox.models import Message

PHONES = [f"+3361234500{n}" for n in range(4)]
AT = WEDNESDAY_10H + dt.timedelta(minutes=1)


def _planned(engine: Engine, settings: Settings, first_segments: int) -> list[int]:
    """A launched campaign of four messages, the oldest `first_segments` long; their ids."""
    with session_scope(engine) as s:
        for phone in PHONES:
            add_contact(s, phone)
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        ids = list(
            s.scalars(
                select(Message.id).where(Message.campaign_id == campaign.id).order_by(Message.id)
            )
        )
        s.execute(update(Message).where(Message.id == ids[0]).values(segments=first_segments))
        s.execute(
            update(Message).where(Message.id == ids[0]).values(send_at=WEDNESDAY_10H)
        )  # the oldest due
    return ids


def _claim(engine: Engine, settings: Settings, *, rate: float, tokens: float | None) -> ClaimReport:
    with session_scope(engine) as s:
        if tokens is not None:  # the bucket as a busy second left it
            reserve_tokens(s, account="sandbox", rate=rate, wanted=0, now=AT)
            s.execute(update(RateBucket).values(tokens=tokens, updated_at=AT))
        return claim_batch(
            s,
            worker="w1",
            provider="sandbox",
            rate=rate,
            now=AT,
            limit=50,
            lease=dt.timedelta(seconds=60),
            workspace=workspace_policy(settings),
            digest=address_digester(settings.resolved_secret_key()),
        )


def _status(engine: Engine, message_id: int) -> tuple[str, str | None]:
    with session_scope(engine) as s:
        message = s.get(Message, message_id)
        assert message is not None
        return str(message.status), message.reason


def test_a_message_that_cannot_fit_the_tokens_left_lets_the_next_ones_go(
    engine: Engine, campaign_settings: Settings
) -> None:
    ids = _planned(engine, campaign_settings, first_segments=8)
    # three tokens: the claim reads three messages, the long one first, and passes it over
    report = _claim(engine, campaign_settings, rate=10, tokens=3)
    assert sorted(m.message_id for m in report.sending) == ids[1:3]
    assert _status(engine, ids[0]) == ("planned", None)  # due still: the next claim
    later = _claim(engine, campaign_settings, rate=10, tokens=10)
    assert sorted(m.message_id for m in later.sending) == [ids[0], ids[3]]


def test_a_message_longer_than_the_workspace_allows_is_blocked_at_the_claim(
    engine: Engine, campaign_settings: Settings
) -> None:
    ids = _planned(engine, campaign_settings, first_segments=654)
    report = _claim(engine, campaign_settings, rate=10, tokens=10)
    assert sorted(m.message_id for m in report.sending) == ids[1:]
    assert _status(engine, ids[0]) == ("blocked", "too_long")


def test_a_message_dearer_than_a_full_bucket_goes_when_the_bucket_is_full(
    engine: Engine, campaign_settings: Settings
) -> None:
    ids = _planned(engine, campaign_settings, first_segments=6)
    report = _claim(engine, campaign_settings, rate=2, tokens=2)
    assert [m.message_id for m in report.sending] == ids[:1]  # charged the whole bucket


def test_a_one_off_over_the_limit_is_refused_naming_it(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s, pytest.raises(ValidationError) as refused:
        enqueue_message(
            s, settings=campaign_settings, to=PHONES[0], text="{{ 'x' * 5000 }}", now=AT
        )
    assert refused.value.field == "text"
    assert "at most 10" in refused.value.message
    assert "max_segments_per_message" in refused.value.message


def test_a_campaign_over_the_limit_is_refused_at_launch(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        add_contact(s, PHONES[0], first_name="Alice")
        # long for its recipients only: its length is known once rendered
        text = "Soldes {{ first_name ~ ('x' * 2000) }}"
        campaign = new_campaign(s, campaign_settings, text=text)
        with pytest.raises(ValidationError) as refused:
            campaigns.launch(s, campaign=campaign, settings=campaign_settings, now=WEDNESDAY_10H)
    assert "max_segments_per_message" in refused.value.message


@pytest.mark.parametrize("text", ["Soldes " + "x" * 2000, "Bonjour {{ first_name }} " + "x" * 2000])
def test_a_campaign_too_long_for_anyone_is_refused_at_creation(
    engine: Engine, campaign_settings: Settings, text: str
) -> None:
    with session_scope(engine) as s, pytest.raises(ValidationError) as refused:
        new_campaign(s, campaign_settings, text=text)
    assert refused.value.field == "template"
    assert "max_segments_per_message" in refused.value.message
