"""A number the provider reported as never working is blocked, whatever the message."""

from __future__ import annotations

import dataclasses

import pytest
from policy_builders import FR, contact, instant, message

from textopt.campaigns.emails import FALLBACK_REASONS
from textopt.eligibility import UNDELIVERABLE, contact_facts
from textopt.policy import Reason, Verdict, decide

NOW = instant("2026-06-10T10:00+02:00")  # a Wednesday: marketing allowed now


@pytest.mark.parametrize("purpose", ["marketing", "transactional"])
def test_an_undeliverable_number_blocks_every_sms(purpose: str) -> None:
    facts = dataclasses.replace(contact(FR), undeliverable=True)
    decision = decide(facts, message(purpose=purpose), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.BLOCK, Reason.UNDELIVERABLE)
    assert FR not in decision.sentence  # shared by recipients alike


def test_an_undeliverable_number_does_not_stop_an_email() -> None:
    facts = dataclasses.replace(
        contact(FR, channel="email", email="lea@example.fr"), undeliverable=True
    )
    assert decide(facts, message(channel="email"), NOW).verdict is Verdict.SEND


def test_an_sms_else_email_campaign_falls_back_for_an_undeliverable_number() -> None:
    assert Reason.UNDELIVERABLE in FALLBACK_REASONS


def test_the_lookups_reason_is_set_apart_from_the_suppression_reasons() -> None:
    values = {
        "channel": "sms",
        "consents": (),
        "phone": FR,
        "email": None,
        "country": "FR",
        "region": None,
        "timezone": None,
        "timezones": ("Europe/Paris",),
        "is_customer": False,
    }
    both = contact_facts(**values, suppression_reasons=("keyword", UNDELIVERABLE))
    assert (both.undeliverable, both.suppressed, both.suppression_reasons) == (
        True,
        True,
        ("keyword",),
    )
    alone = contact_facts(**values, suppression_reasons=(UNDELIVERABLE,))
    assert (alone.undeliverable, alone.suppressed, alone.suppression_reasons) == (True, False, ())
