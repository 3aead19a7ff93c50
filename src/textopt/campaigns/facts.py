"""Gather what the policy needs about many recipients at once (bulk reads, no query per row).

Planning and the dispatcher's re-check at claim time both call `gather_facts` for a batch of
contacts, then call the pure `policy.decide` for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.consent.models import ConsentSource
from textopt.consent.service import consent_status_bulk, suppressed_phones
from textopt.contacts.models import Contact
from textopt.db.batching import id_conditions
from textopt.dispatch.models import Message
from textopt.dispatch.states import MessageStatus
from textopt.errors import ConfigError
from textopt.policy import (
    ContactFacts,
    Decision,
    MessageFacts,
    SendRecord,
    WorkspacePolicy,
    customise_pack,
    decide,
    get_pack,
)
from textopt.vocab import Channel, Purpose

__all__ = [
    "CAP_WINDOW",
    "COUNTED_PLANNED",
    "COUNTED_SENT",
    "ContactRow",
    "DecisionCache",
    "RecipientFacts",
    "gather_facts",
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
    )


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
    ids = [c.id for c in contacts]
    channel = Channel(channel)
    consents = consent_status_bulk(session, contact_ids=ids)
    if channel == Channel.EMAIL:
        addresses = {c.id: address for c in contacts if (address := _email(c))}
    else:
        addresses = {c.id: c.phone for c in contacts if c.phone}
    suppressed = suppressed_phones(session, phones=set(addresses.values()), channel=channel)
    history = _history(
        session,
        contact_ids=ids,
        since=now - CAP_WINDOW,
        counted=counted,
        exclude_campaign_id=exclude_campaign_id,
        exclude_message_ids=exclude_message_ids,
    )
    result: dict[int, RecipientFacts] = {}
    for contact in contacts:
        cid = contact.id
        states = consents.get(cid, {})
        consent_map: dict[tuple[str, str], str | None] = {}
        soft_opt_in = False
        for key, (status, source) in states.items():
            if source == ConsentSource.SOFT_OPT_IN and status != "revoked":
                soft_opt_in = True  # a soft opt-in is not consent: the pack decides
                continue
            consent_map[key] = status
        reasons = tuple(suppressed.get(addresses.get(cid, ""), ()))
        transactional = states.get((str(channel), Purpose.TRANSACTIONAL))
        facts = ContactFacts(
            e164=contact.phone,
            country=contact.country,
            region=contact.region,
            timezone=contact.timezone,
            timezones=tuple(contact.timezones or ()),
            consents=consent_map,
            email=_email(contact),
            is_customer=bool(contact.is_customer),
            soft_opt_in_eligible=soft_opt_in,
            suppressed=bool(reasons),
            suppression_reasons=reasons,
            transactional_opt_out=transactional is not None and transactional[0] == "revoked",
        )
        result[cid] = RecipientFacts(facts=facts, history=tuple(history.get(cid, ())))
    return result


def _email(contact: ContactRow) -> str | None:
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
            Message.status.in_(statuses),
            Message.send_at >= since,
        )
        if exclude_campaign_id is not None:
            query = query.where(
                (Message.campaign_id.is_(None)) | (Message.campaign_id != exclude_campaign_id)
            )
        for contact_id, send_at, channel, message_id in session.execute(query):
            if contact_id not in wanted or message_id in exclude_message_ids or send_at is None:
                continue
            found.setdefault(contact_id, []).append(
                SendRecord(at=send_at, channel=channel, purpose=Purpose.MARKETING)
            )
    return found


class DecisionCache:
    """`policy.decide` with the answers of recipients without recent history remembered.

    A decision depends only on the facts below, the message and the instant; most of an
    audience shares them (country, zones, consent, no history), so most recipients cost a
    dictionary lookup. Recipients with history are decided one by one.
    """

    def __init__(self, workspace: WorkspacePolicy, *, size: int = 100_000) -> None:
        self.workspace = workspace
        self.size = size
        self._answers: dict[tuple[Any, ...], Decision] = {}

    def decide(
        self,
        facts: ContactFacts,
        message: MessageFacts,
        now: dt.datetime,
        history: Sequence[SendRecord] = (),
    ) -> Decision:
        """The decision for one recipient (see `policy.decide`)."""
        if history:
            return decide(facts, message, now, history, self.workspace)
        e164 = facts.e164
        key = (
            message,
            now,
            facts.country,
            facts.region,
            facts.timezone,
            facts.timezones,
            tuple(sorted(facts.consents.items())),
            facts.soft_opt_in_eligible,
            facts.is_customer,
            facts.suppression_reasons,
            facts.transactional_opt_out,
            e164 is None,
            facts.email is None,
            e164[:5] if e164 and e164.startswith("+1") else None,  # NANP area code: the state
        )
        answer = self._answers.get(key)
        if answer is None:
            if len(self._answers) >= self.size:
                self._answers.clear()
            answer = self._answers[key] = decide(facts, message, now, (), self.workspace)
        return answer
