"""The facts of a one-off recipient without a contact: what the number or address tells."""

from __future__ import annotations

from textopt.eligibility import UNDELIVERABLE, recipient_facts
from textopt.policy import ContactFacts


def test_a_mobile_number_gives_its_country_and_zones_and_no_consent() -> None:
    facts = recipient_facts(channel="sms", recipient="+33612345678", suppression_reasons=())
    assert (facts.e164, facts.country, facts.timezones) == ("+33612345678", "FR", ("Europe/Paris",))
    assert (facts.consents, facts.suppressed, facts.undeliverable, facts.not_mobile) == (
        {},
        False,
        False,
        False,
    )


def test_the_lookups_reasons_mark_a_number_suppressed_and_undeliverable_apart() -> None:
    facts = recipient_facts(
        channel="sms", recipient="+33612345678", suppression_reasons=("keyword", UNDELIVERABLE)
    )
    assert (facts.suppressed, facts.suppression_reasons, facts.undeliverable) == (
        True,
        ("keyword",),
        True,
    )


def test_a_fixed_line_cannot_receive_sms() -> None:
    facts = recipient_facts(channel="sms", recipient="+33142345678", suppression_reasons=())
    assert facts.not_mobile is True


def test_an_invalid_number_is_no_number() -> None:
    facts = recipient_facts(channel="sms", recipient="+3361", suppression_reasons=())
    assert facts == ContactFacts(e164=None, country=None)


def test_an_address_is_the_email_recipient() -> None:
    facts = recipient_facts(
        channel="email", recipient="lea@example.fr", suppression_reasons=("complaint",)
    )
    assert (facts.e164, facts.email, facts.suppression_reasons) == (
        None,
        "lea@example.fr",
        ("complaint",),
    )
