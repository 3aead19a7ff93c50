"""The reason a decision gives is the rule that truly holds the message (property over many
scenarios of marketing already planned or sent, opening hours and expiries)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.policy.policy_builders import FR, contact

from textopt.policy import MessageFacts, SendRecord, Verdict, decide
from textopt.policy.decide import Reason
from textopt.vocab import Channel

MONDAY = dt.datetime(2026, 6, 8, 0, 0, tzinfo=dt.UTC)
HOURS = (Reason.QUIET_HOURS, Reason.SUNDAY, Reason.HOLIDAY, Reason.CLOSED_DAY)

minutes = st.integers(min_value=0, max_value=7 * 24 * 60)


@settings(max_examples=400, deadline=None)
@given(
    now=minutes,
    sends=st.lists(st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60), max_size=5),
    expiry=st.one_of(st.none(), st.integers(min_value=1, max_value=3 * 24 * 60)),
)
def test_the_reason_is_the_rule_that_holds_the_message(
    now: int, sends: list[int], expiry: int | None
) -> None:
    at = MONDAY + dt.timedelta(minutes=now)
    history = [SendRecord(at + dt.timedelta(minutes=m)) for m in sends]
    expires = at + dt.timedelta(minutes=expiry) if expiry is not None else None
    message = MessageFacts(expires_at=expires)
    decision = decide(contact(FR), message, at, history)
    hours_only = decide(contact(FR), message, at, ())
    if decision.reason == Reason.FREQUENCY_CAP:
        # the hours alone would let it go earlier: the budget is what holds it
        assert hours_only.verdict != Verdict.BLOCK, decision.sentence
        if decision.verdict == Verdict.DEFER:
            assert hours_only.at is not None
            assert decision.at is not None
            assert hours_only.at < decision.at or hours_only.verdict == Verdict.SEND
        assert "budget" in decision.sentence
    elif decision.verdict == Verdict.DEFER and decision.reason in HOURS:
        assert decision.at == hours_only.at, decision.sentence  # the hours explain the time
    elif decision.verdict == Verdict.BLOCK and decision.reason == Reason.EXPIRED:
        assert hours_only.reason == Reason.EXPIRED, decision.sentence
    # the trace's last word agrees with the stored reason
    if decision.verdict != Verdict.SEND and decision.reason == Reason.FREQUENCY_CAP:
        assert any("budget" in entry.detail for entry in decision.trace)


def test_a_number_that_is_not_a_mobile_blocks_sms_but_not_email() -> None:
    facts = dataclasses.replace(contact(FR), not_mobile=True, email="lea@example.fr")
    facts = dataclasses.replace(
        facts, consents={**facts.consents, ("email", "marketing"): "granted"}
    )
    at = MONDAY + dt.timedelta(hours=8)
    sms = decide(facts, MessageFacts(), at)
    assert (sms.verdict, sms.reason) == (Verdict.BLOCK, Reason.NOT_MOBILE)
    assert "cannot receive SMS" in sms.sentence
    email = decide(facts, MessageFacts(channel=Channel.EMAIL), at)
    assert email.verdict == Verdict.SEND, email.sentence
