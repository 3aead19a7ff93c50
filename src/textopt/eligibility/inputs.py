"""The policy's facts about one recipient, built from plain values the bulk reads gave.

One definition for a contact (planning, the claim's re-check, one-off sends) and one for a
recipient without a contact (a one-off to a bare number or address).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import case

from textopt.consent.models import ConsentSource
from textopt.contacts.models import Contact
from textopt.contacts.phones import SMS_REFUSED_TYPES, parse_phone
from textopt.eligibility.suppression import UNDELIVERABLE
from textopt.errors import InvalidPhoneNumber
from textopt.policy import ContactFacts
from textopt.vocab import Channel, Purpose

__all__ = ["ContactRow", "contact_facts", "number_kind", "recipient_facts", "usable_email"]


class ContactRow(Protocol):
    """The contact attributes planning and dispatch read (an ORM object or a row).

    A row may also carry `email_undeliverable_at`: an address that bounced for good is then
    treated as no address at all.
    """

    @property
    def id(self) -> int: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def timezone(self) -> str | None: ...
    @property
    def timezones(self) -> Any: ...
    @property
    def is_customer(self) -> bool: ...


def contact_facts(
    *,
    channel: Channel | str,
    consents: Iterable[tuple[str, ...]],
    phone: str | None,
    email: str | None,
    country: str | None,
    region: str | None,
    timezone: str | None,
    timezones: Sequence[str],
    is_customer: Any,
    suppression_reasons: tuple[str, ...],
    not_mobile: bool = False,
) -> ContactFacts:
    """The policy's view of a contact from plain values, for a message on `channel`.

    `consents`: (channel, purpose, status, source[, frequency limit]) per state; `email`:
    None when it bounced for good; `suppression_reasons` may hold `UNDELIVERABLE`, which is
    not a suppression.
    """
    undeliverable = UNDELIVERABLE in suppression_reasons
    if undeliverable:
        suppression_reasons = tuple(r for r in suppression_reasons if r != UNDELIVERABLE)
    consent_map: dict[tuple[str, str], str | None] = {}
    soft_opt_in = transactional_opt_out = False
    limits: dict[str, str] = {}
    for state_channel, purpose, status, source, *rest in consents:
        if rest and rest[0] and purpose == Purpose.MARKETING:
            limits[state_channel] = rest[0]  # the person's own limit, whatever the source
        if state_channel == channel and purpose == Purpose.TRANSACTIONAL:
            transactional_opt_out = status == "revoked"
        if source == ConsentSource.SOFT_OPT_IN and status != "revoked":
            soft_opt_in = True  # a soft opt-in is not consent: the pack decides
            continue
        consent_map[(state_channel, purpose)] = status
    return ContactFacts(
        e164=phone,
        country=country,
        region=region,
        timezone=timezone,
        timezones=tuple(timezones),
        consents=consent_map,
        email=email,
        is_customer=bool(is_customer),
        soft_opt_in_eligible=soft_opt_in,
        suppressed=bool(suppression_reasons),
        suppression_reasons=suppression_reasons,
        undeliverable=undeliverable,
        not_mobile=not_mobile,
        transactional_opt_out=transactional_opt_out,
        frequency_limits=limits,
    )


def recipient_facts(
    *, channel: Channel | str, recipient: str | None, suppression_reasons: tuple[str, ...]
) -> ContactFacts:
    """The policy's view of a one-off recipient with no contact record: no consent, no
    history; the number tells its country, zones and type (an invalid one: no number)."""
    alone: dict[str, Any] = {"consents": (), "region": None, "timezone": None}
    if channel == Channel.EMAIL:
        return contact_facts(
            channel=channel,
            phone=None,
            email=recipient,
            country=None,
            timezones=(),
            is_customer=False,
            suppression_reasons=suppression_reasons,
            **alone,
        )
    try:
        info = parse_phone(recipient or "")
    except InvalidPhoneNumber:
        return ContactFacts(e164=None, country=None)
    return contact_facts(
        channel=channel,
        phone=info.e164,
        email=None,
        country=info.country,
        timezones=info.timezones,
        is_customer=False,
        suppression_reasons=suppression_reasons,
        not_mobile=not info.receives_sms,
        **alone,
    )


def number_kind() -> Any:
    """SQL: what a contact's number is for SMS: "none", "not_mobile" or "sms".

    One column of the keys planning by class and the claim's re-check share decisions by.
    """
    return case(
        (Contact.phone.is_(None), "none"),
        (Contact.phone_type.in_(sorted(SMS_REFUSED_TYPES)), "not_mobile"),
        else_="sms",
    )


def usable_email(contact: ContactRow) -> str | None:
    """The contact's address, or None when it bounced for good."""
    if getattr(contact, "email_undeliverable_at", None) is not None:
        return None
    return contact.email
