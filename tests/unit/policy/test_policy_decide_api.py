"""The shape of `decide()`: inputs it refuses, the trace it gives, the public API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from policy_builders import FR, contact, history, instant, message

import textopt.policy
from textopt.errors import ValidationError
from textopt.policy import Outcome, Reason, Verdict, decide


def test_public_api_is_sorted_and_importable() -> None:
    names = textopt.policy.__all__
    # isort order, as ruff keeps it: constants, then classes, then functions.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert getattr(textopt.policy, name) is not None


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValidationError, match="now must carry a UTC offset"):
        decide(contact(FR), message(), dt.datetime(2026, 6, 10, 12))


def test_a_naive_expiry_is_refused() -> None:
    naive = message()
    naive = type(naive)(expires_at=dt.datetime(2026, 6, 10, 12))
    with pytest.raises(ValidationError, match="expires_at must carry a UTC offset"):
        decide(contact(FR), naive, instant("2026-06-10T10:00+02:00"))


def test_send_is_at_now_with_no_reason() -> None:
    now = instant("2026-06-10T10:00+02:00")
    decision = decide(contact(FR), message(), now)
    assert decision.verdict is Verdict.SEND
    assert decision.at == now
    assert decision.reason is None
    assert decision.pack == "FR"
    assert decision.timezones == ("Europe/Paris",)


def test_the_trace_names_every_rule_evaluated() -> None:
    decision = decide(contact(FR), message(sender="MYSHOP"), instant("2026-03-28T20:00+01:00"))
    rules = [(entry.rule, entry.outcome) for entry in decision.trace]
    assert rules == [
        ("pack", Outcome.PASS),
        ("zones", Outcome.PASS),
        ("destination", Outcome.PASS),
        ("suppression", Outcome.PASS),
        ("consent", Outcome.PASS),
        ("sender", Outcome.PASS),
        ("hours Europe/Paris", Outcome.DEFER),
        ("cap 1 per 24 h (workspace)", Outcome.PASS),
        ("cap 4 per 30 days (workspace)", Outcome.PASS),
        ("earliest", Outcome.DEFER),
    ]
    assert (
        "Sat 2026-03-28 20:00 Europe/Paris is outside the allowed hours 08:00-20:00"
        in decision.sentence
    )
    assert "Mon 2026-03-30 08:00 Europe/Paris" in decision.sentence


def test_a_blocked_message_lists_every_hard_rule_and_keeps_the_first_reason() -> None:
    decision = decide(
        contact(FR, consent=None, suppressed=("keyword",)),
        message(),
        instant("2026-06-10T10:00+02:00"),
    )
    assert decision.verdict is Verdict.BLOCK
    assert decision.reason is Reason.SUPPRESSED
    blocked = [e.rule for e in decision.trace if e.outcome is Outcome.BLOCK]
    assert blocked == ["suppression", "consent"]
    assert not any(e.rule.startswith("hours") for e in decision.trace)
    assert decision.sentence == "Blocked: on the suppression list (keyword)."


def test_transactional_trace_shows_the_exemptions() -> None:
    decision = decide(
        contact(FR), message(purpose="transactional"), instant("2026-06-14T03:00+02:00")
    )
    skipped = [e.rule for e in decision.trace if e.outcome is Outcome.SKIP]
    assert skipped == ["hours", "caps"]


def test_the_json_form_has_the_documented_keys() -> None:
    decision = decide(contact(FR), message(), instant("2026-03-28T20:00+01:00"))
    data = json.loads(json.dumps(decision.as_dict()))
    assert set(data) == {"decision", "at", "reason", "sentence", "pack", "timezones", "trace"}
    assert data["decision"] == "DEFER"
    assert data["at"] == "2026-03-30T06:00:00+00:00"
    assert data["reason"] == "quiet_hours"
    assert data["timezones"] == ["Europe/Paris"]
    assert {"rule", "outcome", "detail"} == set(data["trace"][0])


def test_the_look_ahead_is_bounded_by_the_horizon() -> None:
    now = instant("2026-03-28T20:00+01:00")
    short = decide(contact(FR), message(), now, horizon=dt.timedelta(hours=12))
    assert (short.verdict, short.reason) == (Verdict.BLOCK, Reason.NO_WINDOW)
    assert "no instant within 12 h is allowed" in short.sentence


def test_history_with_a_naive_instant_is_refused() -> None:
    records = history(sent=["2026-06-09T10:00+02:00"])
    naive = [type(records[0])(dt.datetime(2026, 6, 9, 10))]
    with pytest.raises(ValidationError, match="history must carry a UTC offset"):
        decide(contact(FR), message(), instant("2026-06-10T10:00+02:00"), naive)


def test_an_unknown_zone_falls_back_to_the_workspace_zone_and_says_so() -> None:
    facts = contact(None, channel="email", email="a@example.com", country="FR")
    decision = decide(facts, message(channel="email"), instant("2026-06-10T10:00+02:00"))
    assert decision.timezones == ("Europe/Paris",)
    assert "workspace zone" in decision.trace[1].detail
