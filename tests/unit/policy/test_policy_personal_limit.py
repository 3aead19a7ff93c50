"""A person's own frequency limit: one more cap on their marketing on one channel, with its
own reason; never on transactional messages, never on the other channel."""

from __future__ import annotations

import dataclasses
import datetime as dt

from tests.unit.policy.policy_builders import FR, contact, instant, message

from textopt.policy import SendRecord, Verdict, decide
from textopt.policy.decide import Reason
from textopt.vocab import Channel, Purpose

NOW = instant("2026-11-25T10:00:00+01:00")  # a Wednesday, within French hours


def _sent(*days_ago: int, channel: Channel = Channel.SMS) -> list[SendRecord]:
    return [SendRecord(NOW - dt.timedelta(days=d), channel) for d in days_ago]


def _limited(limit: str, channel: Channel = Channel.SMS):  # type: ignore[no-untyped-def]
    return dataclasses.replace(contact(FR), frequency_limits={str(channel): limit})


def test_two_a_month_defers_the_third_promotion_until_the_first_leaves_the_window() -> None:
    decision = decide(_limited("2-a-month"), message(), NOW, _sent(3, 10))
    assert decision.verdict is Verdict.DEFER
    assert decision.reason is Reason.PERSONAL_LIMIT
    assert decision.at is not None
    assert decision.at >= NOW - dt.timedelta(days=10) + dt.timedelta(days=30)
    assert "the person's own limit" in decision.sentence
    # the same history without the limit: the workspace's 4 in 30 days allows it
    assert decide(contact(FR), message(), NOW, _sent(3, 10)).verdict is Verdict.SEND


def test_a_message_that_expires_before_the_budget_frees_is_blocked_with_the_limit() -> None:
    expiring = message(expires="2026-11-27T10:00:00+01:00")
    decision = decide(_limited("2-a-month"), expiring, NOW, _sent(3, 10))
    assert (decision.verdict, decision.reason) == (Verdict.BLOCK, Reason.PERSONAL_LIMIT)


def test_one_a_week_counts_seven_days_only() -> None:
    assert decide(_limited("1-a-week"), message(), NOW, _sent(8)).verdict is Verdict.SEND
    held = decide(_limited("1-a-week"), message(), NOW, _sent(6))
    assert (held.verdict, held.reason) == (Verdict.DEFER, Reason.PERSONAL_LIMIT)


def test_the_limit_holds_neither_transactional_messages_nor_the_other_channel() -> None:
    reminder = message(purpose=Purpose.TRANSACTIONAL)
    assert decide(_limited("1-a-week"), reminder, NOW, _sent(1)).verdict is Verdict.SEND
    email_only = _limited("1-a-week", Channel.EMAIL)
    assert decide(email_only, message(), NOW, _sent(6)).verdict is Verdict.SEND


def test_an_unknown_limit_adds_no_cap() -> None:
    assert decide(_limited("3-a-day"), message(), NOW, _sent(3, 10)).verdict is Verdict.SEND
