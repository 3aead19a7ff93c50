"""Gather what the policy needs about many recipients at once (bulk reads, no query per row).

Planning and the dispatcher's re-check at claim time both call `gather_facts` for a batch of
contacts, then call the pure `policy.decide` for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from textopt.config import Settings, get_settings
from textopt.consent.models import ConsentSource
from textopt.consent.service import consent_rows_bulk, parse_consent_summary
from textopt.consent.suppression import (
    address_digester,
    count_suppressions,
    reasons_by_digest,
    suppressed_phones,
)
from textopt.contacts.models import Contact
from textopt.contacts.phones import SMS_REFUSED_TYPES
from textopt.db.batching import id_conditions
from textopt.dispatch.feedback import (
    count_undeliverable,
    undeliverable_digests,
    undeliverable_numbers,
)
from textopt.errors import ConfigError
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.policy import (
    ContactFacts,
    Reason,
    SendRecord,
    WorkspacePolicy,
    customise_pack,
    get_pack,
)
from textopt.vocab import Channel, Purpose

__all__ = [
    "CAP_WINDOW",
    "COUNTED_PLANNED",
    "COUNTED_SENT",
    "UNDELIVERABLE",
    "BatchFacts",
    "ContactRow",
    "RecipientFacts",
    "SuppressionLookup",
    "contact_facts",
    "gather_batch_facts",
    "gather_facts",
    "usable_email",
    "workspace_policy",
]

#: The longest frequency-cap window any pack or workspace uses.
CAP_WINDOW = dt.timedelta(days=30)
#: Messages that have gone (or may have gone) out: counted by every cap.
COUNTED_SENT = (
    MessageStatus.SENDING,
    MessageStatus.SUBMITTED,
    MessageStatus.DELIVERED,
    MessageStatus.UNKNOWN,
)
#: Planned messages also count when planning, so two campaigns cannot exceed a cap together.
COUNTED_PLANNED = (*COUNTED_SENT, MessageStatus.PLANNED, MessageStatus.QUEUED)
#: What the lookups by digest (`SuppressionLookup`, the claim's re-check) give a number the
#: provider reported as never working, beside its suppression reasons: every path that
#: finds suppressed numbers finds these too, and `contact_facts` sets it apart.
UNDELIVERABLE = str(Reason.UNDELIVERABLE)

CONTACT_COLUMNS = (
    Contact.id,
    Contact.phone,
    Contact.email,
    Contact.email_undeliverable_at,
    Contact.country,
    Contact.region,
    Contact.timezone,
    Contact.timezones,
    Contact.is_customer,
    Contact.first_name,
    Contact.last_name,
    Contact.language,
    Contact.attributes,
)


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


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """A contact's facts for the policy, and their marketing history in the cap window."""

    facts: ContactFacts
    history: tuple[SendRecord, ...]


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: str | None, name: str) -> dt.time | None:
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} is not a time such as 09:00") from exc


def workspace_policy(settings: Settings) -> WorkspacePolicy:
    """The workspace's own policy rules from the settings (stricter than the packs only)."""
    days = None
    if settings.policy_days is not None:
        unknown = [d for d in settings.policy_days if d.lower()[:3] not in _WEEKDAYS]
        if unknown:
            raise ConfigError(f"policy_days: {unknown[0]!r} is not a weekday (mon ... sun)")
        days = frozenset(_WEEKDAYS.index(d.lower()[:3]) for d in settings.policy_days)
    packs = tuple(
        customise_pack(get_pack(name), overrides)  # refuses anything looser than the law
        for name, overrides in sorted(settings.policy_packs.items())
    )
    return WorkspacePolicy(
        max_per_day=settings.max_marketing_per_day,
        max_per_30_days=settings.max_marketing_per_30_days,
        caps_across_channels=settings.caps_across_channels,
        earliest=_clock(settings.policy_earliest, "policy_earliest"),
        latest=_clock(settings.policy_latest, "policy_latest"),
        days=days,
        block_holidays=settings.policy_block_holidays,
        packs=packs,
        default_timezone=settings.workspace_timezone,
        max_segments=settings.max_segments_per_message,
    )


def contact_facts(
    *,
    channel: Channel | str,
    consents: Iterable[tuple[str, str, str, str]],
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

    `consents`: (channel, purpose, status, source) per state; `email`: None when it bounced
    for good; `suppression_reasons` may hold `UNDELIVERABLE`, which is not a suppression.
    One definition for planning and the dispatcher's re-check.
    """
    undeliverable = UNDELIVERABLE in suppression_reasons
    if undeliverable:
        suppression_reasons = tuple(r for r in suppression_reasons if r != UNDELIVERABLE)
    consent_map: dict[tuple[str, str], str | None] = {}
    soft_opt_in = transactional_opt_out = False
    for state_channel, purpose, status, source in consents:
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
    )


@dataclass(slots=True)
class BatchFacts:
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


class SuppressionLookup:
    """The suppression list of one channel for a planning run, and for SMS the numbers the
    provider reported as never working (their reason: `UNDELIVERABLE`).

    A short list is read once and numbers are checked in memory; a long one is queried
    per batch. Either way a number is compared by its keyed digest only.
    """

    def __init__(self, session: Session, channel: Channel, *, preload_limit: int = 200_000):
        self.channel = channel
        self.digest = address_digester(get_settings().resolved_secret_key())  # a key file
        self._numbers = channel == Channel.SMS
        self._all: dict[str, tuple[str, ...]] | None = None
        if not preload_limit:
            return
        size = count_suppressions(session, channel=channel)
        if self._numbers:
            size += count_undeliverable(session)
        if size <= preload_limit:
            self._all = {
                digest: tuple(reasons)
                for digest, reasons in reasons_by_digest(session, channel=channel).items()
            }
            for digest in undeliverable_digests(session) if self._numbers else ():
                self._all[digest] = (*self._all.get(digest, ()), UNDELIVERABLE)

    @property
    def preloaded(self) -> bool:
        """Whether the list is held in memory (checking needs no database work)."""
        return self._all is not None

    @property
    def empty(self) -> bool:
        """Whether the list is known to have no entry for this channel."""
        return self._all is not None and not self._all

    def find(self, session: Session, addresses: Collection[str]) -> dict[str, tuple[str, ...]]:
        """Which of these addresses are suppressed (or undeliverable), and why."""
        if self._all is not None:
            table, digest = self._all, self.digest
            found = {}
            for address in addresses:
                reasons = table.get(digest(address))
                if reasons:
                    found[address] = reasons
            return found
        found = {
            address: tuple(reasons)
            for address, reasons in suppressed_phones(
                session, phones=addresses, channel=self.channel
            ).items()
        }
        for address in undeliverable_numbers(session, phones=addresses) if self._numbers else ():
            found[address] = (*found.get(address, ()), UNDELIVERABLE)
        return found


def gather_batch_facts(
    session: Session,
    *,
    contacts: Sequence[ContactRow],
    channel: Channel | str,
    now: dt.datetime,
    counted: Iterable[MessageStatus] = COUNTED_PLANNED,
    exclude_campaign_id: int | None = None,
    exclude_message_ids: Collection[int] = (),
    suppression: SuppressionLookup | None = None,
    consents: dict[int, str] | None = None,
) -> BatchFacts:
    """Consent, suppression and history of a batch of contacts, in three or four queries.

    `consents`: the contacts' `consent_summary` texts when they were read with them.
    """
    ids = [c.id for c in contacts]
    channel = Channel(channel)
    facts = BatchFacts(
        channel=channel,
        consents=consent_rows_bulk(session, contact_ids=ids) if consents is None else consents,
        suppressed={},
        history={},
    )
    if suppression is None:
        suppression = SuppressionLookup(session, channel, preload_limit=0)
    if not suppression.empty:
        addresses = {a for c in contacts if (a := facts.address(c))}
        facts.suppressed = suppression.find(session, addresses)
    facts.history = _history(
        session,
        contact_ids=ids,
        since=now - CAP_WINDOW,
        counted=counted,
        exclude_campaign_id=exclude_campaign_id,
        exclude_message_ids=exclude_message_ids,
    )
    return facts


def gather_facts(
    session: Session,
    *,
    contacts: Sequence[ContactRow],
    channel: Channel | str,
    now: dt.datetime,
    counted: Iterable[MessageStatus] = COUNTED_PLANNED,
    exclude_campaign_id: int | None = None,
    exclude_message_ids: Collection[int] = (),
) -> dict[int, RecipientFacts]:
    """Consent, suppression and history of a batch of contacts, in four queries.

    `contacts` are rows with at least the attributes of `ContactRow`.
    """
    batch = gather_batch_facts(
        session,
        contacts=contacts,
        channel=channel,
        now=now,
        counted=counted,
        exclude_campaign_id=exclude_campaign_id,
        exclude_message_ids=exclude_message_ids,
    )
    return {
        contact.id: RecipientFacts(
            facts=batch.contact_facts(contact, tuple(contact.timezones or ())),
            history=tuple(batch.history.get(contact.id, ())),
        )
        for contact in contacts
    }


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


def _history(
    session: Session,
    *,
    contact_ids: Sequence[int],
    since: dt.datetime,
    counted: Iterable[MessageStatus],
    exclude_campaign_id: int | None,
    exclude_message_ids: Collection[int],
) -> dict[int, list[SendRecord]]:
    """Marketing messages sent or planned to these contacts since `since`."""
    found: dict[int, list[SendRecord]] = {}
    statuses = [str(s) for s in counted]
    wanted = set(contact_ids)
    for condition in id_conditions(Message.contact_id, wanted):
        query = select(Message.contact_id, Message.send_at, Message.channel, Message.id).where(
            condition,
            Message.purpose == Purpose.MARKETING,
            # `|| ''`: never a status index, which would read every message of those states
            # in the outbox; the (contact, time) one reads only this batch's.
            Message.status.concat("").in_(statuses),
            Message.send_at >= since,
        )
        if exclude_campaign_id is not None:
            query = query.where(
                (Message.campaign_id.is_(None)) | (Message.campaign_id != exclude_campaign_id)
            )
        for contact_id, send_at, channel, message_id in session.connection().execute(query):
            if contact_id not in wanted or message_id in exclude_message_ids or send_at is None:
                continue
            found.setdefault(contact_id, []).append(
                SendRecord(at=send_at, channel=channel, purpose=Purpose.MARKETING)
            )
    return found
