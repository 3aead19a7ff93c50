"""The claim's policy re-check: facts read with the claim, one `policy.decide` per distinct case.

At claim time most messages of a batch share every fact the policy reads (country, zones,
consent, no recent history), so here a message costs a tuple of values read by the claim's
own query and one dictionary lookup, and the full facts are built, and the policy run,
once per distinct tuple. The tuple holds every input of `ContactFacts` except the number and
the address themselves: only whether they are known, and a NANP area code (which names a
state; the policy reads nothing else of a number). Consent enters it as the contact's
consent rows joined into one string by the database. A message whose contact has marketing
in the cap window is decided one by one with it, and so is a message without a contact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Text, case, cast, func
from sqlalchemy.orm import Session

from textopt.consent.service import consent_summary, parse_consent_summary
from textopt.consent.suppression import Digester
from textopt.contacts.models import Contact
from textopt.db.bulk import parse_instant, raw
from textopt.eligibility.history import CAP_WINDOW, cap_history, recent_marketing
from textopt.eligibility.inputs import contact_facts, number_kind, recipient_facts
from textopt.eligibility.suppression import find_suppressed
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.policy import (
    ContactFacts,
    Decision,
    MessageFacts,
    SendRecord,
    Verdict,
    WorkspacePolicy,
    decide,
    history_key,
)
from textopt.vocab import Channel, Purpose

__all__ = ["FIRST", "Rechecker", "claim_columns"]


#: Where `claim_columns` start in a claimed row (the message's own columns come first:
#: its id, contact id and recipient at 0, 1 and 2), and the slice of them a decision
#: depends on: a message costs one tuple slice and one lookup.
FIRST = 10
_KEY = slice(FIRST, FIRST + 13)
(_CHANNEL, _PURPOSE, _SENDER, _EXPIRES, _COUNTRY, _REGION, _ZONE, _ZONES, _CUSTOMER, _CONSENTS) = (
    range(FIRST, FIRST + 10)
)
_NUMBER_KIND = FIRST + 10
_CONTACT, _PHONE, _EMAIL, _HISTORY = range(FIRST + 13, FIRST + 17)


def claim_columns(*, since: Any, counted: Iterable[MessageStatus]) -> tuple[Any, ...]:
    """What the re-check reads of each claimed message and its contact, in this order.

    First what a decision depends on (the `_KEY` slice): the message's channel, purpose,
    sender and expiry; the contact's country, region, zone, zones (as text), customer flag,
    consent rows as one string, what its number is for SMS (`number_kind`), whether it
    lacks a usable address, and the North American area code of its number (which names a
    state). Then the contact's id (None when erased), number and usable address, and
    whether it has marketing since `since` (the start of the cap window: an instant or a
    bound parameter).
    """
    usable = case((Contact.email_undeliverable_at.is_(None), Contact.email), else_=None)
    return (
        Message.channel,
        Message.purpose,
        Message.sender,
        raw(Message.expires_at),
        Contact.country,
        Contact.region,
        Contact.timezone,
        cast(Contact.timezones, Text).label("timezones"),  # text: hashable on both databases
        Contact.is_customer,
        consent_summary(Message.contact_id).label("consents"),
        number_kind().label("number_kind"),
        usable.is_(None).label("no_email"),
        case((Contact.phone.like("+1%"), func.substr(Contact.phone, 1, 5)), else_=None).label(
            "nanp"
        ),
        Contact.id.label("contact"),
        Contact.phone,
        usable.label("email"),
        recent_marketing(Message.contact_id, since=since, counted=counted).label("has_history"),
    )


class Rechecker:
    """Decisions for the messages of one claim, at one instant.

    Each row is the message's own columns, then `claim_columns` from index `FIRST` on.
    Messages alike (the `_KEY` slice, the suppression reasons of their address, and their
    marketing in the cap window, from before or from this very claim) share one
    `policy.decide`; a message whose contact was erased, or that never had one, is
    decided on its own.
    """

    def __init__(
        self,
        session: Session,
        *,
        workspace: WorkspacePolicy,
        digest: Digester,
        now: dt.datetime,
        rows: Sequence[Sequence[Any]],
        counted: Iterable[MessageStatus],
        claimed_ids: Collection[int],
    ) -> None:
        self.workspace = workspace
        self.now = now
        self._answers: dict[tuple[Any, ...], Decision] = {}
        channels = {row[_CHANNEL] for row in rows}
        self._suppressed = {
            channel: find_suppressed(
                session,
                digest=digest,
                addresses={a for row in rows if (a := _address(row, channel))},
                channel=channel,
            )
            for channel in channels
        }
        with_history = [
            row[_CONTACT] for row in rows if row[_CONTACT] is not None and row[_HISTORY]
        ]
        self._history = cap_history(
            session,
            contact_ids=with_history,
            since=now - CAP_WINDOW,
            counted=counted,
            exclude_message_ids=claimed_ids,
        )
        #: The channels of the marketing this claim sends, by contact: a later message to
        #: the same contact counts them.
        self._sent_now: dict[int, list[str]] = {}

    def decide(self, row: tuple[Any, ...]) -> Decision:
        """The decision for one claimed row; decided `SEND`, it is sent (caps count it)."""
        answer = self._decide(row)
        contact_id = row[1]
        if (
            answer.verdict is Verdict.SEND
            and row[_PURPOSE] == Purpose.MARKETING
            and contact_id is not None
        ):
            self._sent_now.setdefault(contact_id, []).append(row[_CHANNEL])
        return answer

    def _decide(self, row: tuple[Any, ...]) -> Decision:
        contact_id = row[1]
        if row[_CONTACT] is None:  # erased since planning, or a one-off without a contact
            return decide(self._facts(row), self._message(row), self.now, (), self.workspace)
        key: tuple[Any, ...] = row[_KEY]
        suppressed = self._suppressed[row[_CHANNEL]]
        if suppressed:
            address = _address(row, row[_CHANNEL])
            reasons = suppressed.get(address) if address else None
            if reasons:
                key = (*key, reasons)
        history: tuple[SendRecord, ...] = ()
        if contact_id in self._history or contact_id in self._sent_now:
            # caps read the history, and only its instants and channels: contacts whose
            # marketing went out in the same earlier batches share it, and the decision
            history = self._history_of(contact_id)
            key = (key, history)
        answer: Decision | None = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = decide(
                self._facts(row), self._message(row), self.now, history, self.workspace
            )
        return answer

    def _history_of(self, contact_id: int) -> tuple[SendRecord, ...]:
        """The contact's marketing in the cap window, this claim's included (`history_key`)."""
        return history_key(
            self._history.get(contact_id, ()),
            (
                SendRecord(at=self.now, channel=channel, purpose=Purpose.MARKETING)
                for channel in self._sent_now.get(contact_id, ())
            ),
        )

    def _message(self, row: Sequence[Any]) -> MessageFacts:
        return MessageFacts(
            channel=Channel(row[_CHANNEL]),
            purpose=Purpose(row[_PURPOSE]),
            sender_id=row[_SENDER],
            expires_at=parse_instant(row[_EXPIRES]),
        )

    def _facts(self, row: Sequence[Any]) -> ContactFacts:
        channel = row[_CHANNEL]
        address = _address(row, channel)
        reasons = self._suppressed[channel].get(address or "", ())
        if row[1] is None:
            return recipient_facts(channel=channel, recipient=row[2], suppression_reasons=reasons)
        if row[_CONTACT] is None:
            return ContactFacts(e164=None, country=None)  # erased since planning
        zones = row[_ZONES]
        return contact_facts(
            channel=channel,
            consents=parse_consent_summary(row[_CONSENTS]),
            phone=row[_PHONE],
            email=row[_EMAIL],
            country=row[_COUNTRY],
            region=row[_REGION],
            timezone=row[_ZONE],
            timezones=(json.loads(zones) if zones else None) or (),
            is_customer=row[_CUSTOMER],
            suppression_reasons=reasons,
            not_mobile=row[_NUMBER_KIND] == "not_mobile",
        )


def _address(row: Sequence[Any], channel: str) -> str | None:
    """The address the row's message goes to on `channel`, as the policy checks it: the
    contact's current one, or the recipient of a message that never had a contact."""
    if row[_CHANNEL] != channel:
        return None
    if row[1] is None:
        return row[2]  # type: ignore[no-any-return]
    return row[_EMAIL] if channel == Channel.EMAIL else row[_PHONE]  # type: ignore[no-any-return]
