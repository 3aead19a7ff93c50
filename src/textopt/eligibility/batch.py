"""Reading what the policy needs about a batch of contacts (bulk reads, no query per row).

Planning reads an `EligibilityBatch` per page of contacts, then builds each recipient's
facts from it (or shares a decision among recipients alike: `decision_key`); a single send
and the policy's explain commands read the same for one contact (`read_policy_inputs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.consent.service import consent_rows_bulk, parse_consent_summary
from textopt.consent.suppression import Digester
from textopt.contacts.phones import SMS_REFUSED_TYPES
from textopt.eligibility.history import CAP_WINDOW, COUNTED_PLANNED, cap_history
from textopt.eligibility.inputs import ContactRow, contact_facts, usable_email
from textopt.eligibility.suppression import SuppressionLookup
from textopt.outbox.states import MessageStatus
from textopt.policy import ContactFacts, SendRecord
from textopt.vocab import Channel

__all__ = ["EligibilityBatch", "PolicyInputs", "read_eligibility", "read_policy_inputs"]


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """A contact's facts for the policy, and their marketing history in the cap window."""

    facts: ContactFacts
    history: tuple[SendRecord, ...]


@dataclass(slots=True)
class EligibilityBatch:
    """What the policy needs about a batch of contacts, as plain values (bulk reads).

    `contact_facts` turns one contact's share into `ContactFacts`; `decision_key` names
    what a decision depends on without building them, so recipients alike share one.
    """

    channel: Channel
    consents: dict[int, str]  # contact -> `consent_summary` text
    suppressed: dict[str, tuple[str, ...]]  # address -> reasons (and `UNDELIVERABLE`)
    history: dict[int, list[SendRecord]]

    def address(self, contact: ContactRow) -> str | None:
        """The contact's address on this batch's channel."""
        return usable_email(contact) if self.channel == Channel.EMAIL else contact.phone

    def reasons(self, contact: ContactRow) -> tuple[str, ...]:
        """Why the contact's address is suppressed on this channel (empty if it is not)."""
        address = self.address(contact)
        return self.suppressed.get(address, ()) if address else ()

    def contact_facts(self, contact: ContactRow, timezones: Sequence[str]) -> ContactFacts:
        """The policy's view of one contact of the batch."""
        return contact_facts(
            channel=self.channel,
            consents=parse_consent_summary(self.consents.get(contact.id)),
            phone=contact.phone,
            email=usable_email(contact),
            country=contact.country,
            region=contact.region,
            timezone=contact.timezone,
            timezones=timezones,
            is_customer=contact.is_customer,
            suppression_reasons=self.reasons(contact),
            not_mobile=getattr(contact, "phone_type", None) in SMS_REFUSED_TYPES,
        )

    def decision_key(self, contact: ContactRow, zones_key: Any) -> tuple[Any, ...]:
        """Everything of one contact a decision without history depends on.

        `zones_key` stands for the candidate zones (their stored text will do).
        """
        return self.key_of(
            contact.id,
            contact.phone,
            usable_email(contact),
            contact.country,
            contact.region,
            contact.timezone,
            zones_key,
            contact.is_customer,
            getattr(contact, "phone_type", None),
        )

    def key_of(
        self,
        contact_id: int,
        phone: str | None,
        email: str | None,
        country: str | None,
        region: str | None,
        timezone: str | None,
        zones_key: Any,
        is_customer: Any,
        phone_type: str | None = None,
    ) -> tuple[Any, ...]:
        """`decision_key` from plain values (`email`: None when it bounced for good).

        The number itself matters only by its presence and, in North America, its area
        code (the state).
        """
        suppressed = self.suppressed
        if suppressed:
            address = email if self.channel == Channel.EMAIL else phone
            reasons = suppressed.get(address, ()) if address else ()
        else:
            reasons = ()
        return (
            country,
            region,
            timezone,
            zones_key,
            self.consents.get(contact_id),
            bool(is_customer),
            reasons,
            phone is None,
            phone_type in SMS_REFUSED_TYPES,
            email is None,
            phone[:5] if phone and phone[:2] == "+1" else None,
        )


def read_eligibility(
    session: Session,
    *,
    contacts: Sequence[ContactRow],
    channel: Channel | str,
    now: dt.datetime,
    suppression: SuppressionLookup,
    counted: Iterable[MessageStatus] = COUNTED_PLANNED,
    exclude_campaign_id: int | None = None,
    exclude_message_ids: Collection[int] = (),
    consents: dict[int, str] | None = None,
) -> EligibilityBatch:
    """Consent, suppression and cap history of a batch of contacts, in three or four queries.

    `consents`: the contacts' `consent_summary` texts when they were read with them.
    """
    ids = [c.id for c in contacts]
    batch = EligibilityBatch(
        channel=Channel(channel),
        consents=consent_rows_bulk(session, contact_ids=ids) if consents is None else consents,
        suppressed={},
        history={},
    )
    if not suppression.empty:
        addresses = {a for c in contacts if (a := batch.address(c))}
        batch.suppressed = suppression.find(session, addresses)
    batch.history = cap_history(
        session,
        contact_ids=ids,
        since=now - CAP_WINDOW,
        counted=counted,
        exclude_campaign_id=exclude_campaign_id,
        exclude_message_ids=exclude_message_ids,
    )
    return batch


def read_policy_inputs(
    session: Session,
    *,
    contacts: Sequence[ContactRow],
    channel: Channel | str,
    now: dt.datetime,
    digest: Digester,
    counted: Iterable[MessageStatus] = COUNTED_PLANNED,
    exclude_campaign_id: int | None = None,
    exclude_message_ids: Collection[int] = (),
) -> dict[int, PolicyInputs]:
    """Each contact's facts and cap history, by contact id (a few contacts: no preloading).

    `contacts` are rows with at least the attributes of `ContactRow`.
    """
    batch = read_eligibility(
        session,
        contacts=contacts,
        channel=channel,
        now=now,
        suppression=SuppressionLookup(session, channel, digest=digest, preload_limit=0),
        counted=counted,
        exclude_campaign_id=exclude_campaign_id,
        exclude_message_ids=exclude_message_ids,
    )
    return {
        contact.id: PolicyInputs(
            facts=batch.contact_facts(contact, tuple(contact.timezones or ())),
            history=tuple(batch.history.get(contact.id, ())),
        )
        for contact in contacts
    }
