"""The claim's policy re-check: facts read in bulk, one `policy.decide` per distinct case.

Planning's `gather_facts` builds a `ContactFacts` per contact; at claim time most messages of
a batch share every fact the policy reads (country, zones, consent, no recent history), so
here a message costs a tuple of its raw values and one dictionary lookup, and the policy
runs once per distinct tuple. The tuple holds every field of `ContactFacts` except the
number and the address themselves (only whether they are known, and a NANP area code, which
names a state), as `campaigns.facts.DecisionCache` does. Messages whose contact has marketing
history in the cap window are decided one by one with it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from textopt.campaigns.facts import CAP_WINDOW
from textopt.consent.models import ConsentSource
from textopt.consent.service import consent_status_bulk
from textopt.consent.suppression import suppressed_phones
from textopt.contacts.phones import parse_phone
from textopt.dispatch.models import Message
from textopt.dispatch.states import MessageStatus
from textopt.errors import InvalidPhoneNumber
from textopt.policy import (
    ContactFacts,
    Decision,
    MessageFacts,
    SendRecord,
    WorkspacePolicy,
    decide,
)
from textopt.vocab import Channel, Purpose

__all__ = ["Rechecker", "parse_instant", "raw"]


def raw(column: Any) -> Any:
    """`column` read as the driver gives it (no per-row conversion: done when needed)."""
    return type_coerce(column, String).label(column.key)


def parse_instant(value: Any) -> dt.datetime | None:
    """An instant as stored (SQLite text, PostgreSQL timestamptz) made aware in UTC."""
    if value is None:
        return None
    instant: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Rechecker:
    """Decisions for the messages of one claim, at one instant."""

    def __init__(
        self,
        session: Session,
        *,
        workspace: WorkspacePolicy,
        now: dt.datetime,
        rows: Sequence[Any],
        counted: Iterable[MessageStatus],
    ) -> None:
        """`rows` are the claimed messages with their contact's columns (`c_*`, None if erased)."""
        self.workspace = workspace
        self.now = now
        self._answers: dict[tuple[Any, ...], Decision] = {}
        self._instants: dict[Any, dt.datetime | None] = {}
        contacts = {
            r.contact_id: r for r in rows if r.contact_id is not None and r.c_id is not None
        }
        ids = list(contacts)
        self._consents = consent_status_bulk(session, contact_ids=ids) if ids else {}
        self._suppressed: dict[str, dict[str, list[str]]] = {}
        for channel in {r.channel for r in rows}:
            addresses = {
                address for r in contacts.values() if (address := _address(r, channel)) is not None
            }
            self._suppressed[channel] = (
                suppressed_phones(session, phones=addresses, channel=channel) if addresses else {}
            )
        self._history = _history(
            session,
            contact_ids=ids,
            since=now - CAP_WINDOW,
            counted=counted,
            exclude_message_ids={r.id for r in rows},
        )

    def instant(self, value: Any) -> dt.datetime | None:
        """A stored instant, parsed once per distinct value."""
        if value not in self._instants:
            self._instants[value] = parse_instant(value)
        return self._instants[value]

    def history(self, contact_id: int | None) -> list[SendRecord]:
        """The contact's marketing in the cap window (this claim adds to it as it goes)."""
        return self._history.setdefault(contact_id or -1, [])

    def decide(self, row: Any) -> Decision:
        """The decision for one claimed message with its contact's columns."""
        history = self._history.get(row.contact_id or -1)
        if row.contact_id is None or row.c_id is None or history:
            return decide(
                self._facts(row), self._message(row), self.now, history or (), self.workspace
            )
        states = self._consents.get(row.contact_id, {})
        consents: list[tuple[tuple[str, str], str]] = []
        soft_opt_in = False
        for pair, (status, source) in states.items():
            if source == ConsentSource.SOFT_OPT_IN and status != "revoked":
                soft_opt_in = True  # a soft opt-in is not consent: the pack decides
            else:
                consents.append((pair, status))
        channel = row.channel
        transactional = states.get((channel, Purpose.TRANSACTIONAL))
        address = _address(row, channel)
        reasons = self._suppressed[channel].get(address or "")
        phone = row.c_phone
        zones = row.c_timezones
        if type(zones) is list:  # PostgreSQL gives JSON decoded
            zones = tuple(zones)
        key: tuple[Any, ...] = (
            channel,
            row.purpose,
            row.sender,
            row.expires_at,
            row.c_country,
            row.c_region,
            row.c_timezone,
            zones,
            tuple(sorted(consents)) if len(consents) > 1 else tuple(consents),
            soft_opt_in,
            bool(row.c_is_customer),
            tuple(reasons) if reasons else (),
            transactional is not None and transactional[0] == "revoked",
            phone is None,
            row.c_email is None or row.c_email_undeliverable_at is not None,
            phone[:5] if phone and phone.startswith("+1") else None,  # NANP area code: the state
        )
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = decide(
                self._facts(row), self._message(row), self.now, (), self.workspace
            )
        return answer

    def _message(self, row: Any) -> MessageFacts:
        return MessageFacts(
            channel=Channel(row.channel),
            purpose=Purpose(row.purpose),
            sender_id=row.sender,
            expires_at=self.instant(row.expires_at),
        )

    def _facts(self, row: Any) -> ContactFacts:
        if row.contact_id is not None and row.c_id is None:
            return ContactFacts(e164=None, country=None)  # erased since planning
        if row.contact_id is None:
            return _recipient_facts(row)
        states = self._consents.get(row.contact_id, {})
        consents: dict[tuple[str, str], str | None] = {}
        soft_opt_in = False
        for key, (status, source) in states.items():
            if source == ConsentSource.SOFT_OPT_IN and status != "revoked":
                soft_opt_in = True
                continue
            consents[key] = status
        transactional = states.get((row.channel, Purpose.TRANSACTIONAL))
        address = _address(row, row.channel)
        reasons = tuple(self._suppressed[row.channel].get(address or "", ()))
        return ContactFacts(
            e164=row.c_phone,
            country=row.c_country,
            region=row.c_region,
            timezone=row.c_timezone,
            timezones=tuple(_json(row.c_timezones) or ()),
            consents=consents,
            email=row.c_email if row.c_email_undeliverable_at is None else None,
            is_customer=bool(row.c_is_customer),
            soft_opt_in_eligible=soft_opt_in,
            suppressed=bool(reasons),
            suppression_reasons=reasons,
            transactional_opt_out=transactional is not None and transactional[0] == "revoked",
        )


def _address(row: Any, channel: str) -> str | None:
    if channel == Channel.EMAIL:
        return row.c_email if row.c_email and row.c_email_undeliverable_at is None else None
    return row.c_phone or None


def _recipient_facts(row: Any) -> ContactFacts:
    """Facts for a one-off message to a number or address with no contact record."""
    if row.channel == Channel.EMAIL:
        return ContactFacts(e164=None, country=None, email=row.recipient)
    try:
        info = parse_phone(row.recipient or "")
    except InvalidPhoneNumber:
        return ContactFacts(e164=None, country=None)
    return ContactFacts(e164=info.e164, country=info.country, timezones=info.timezones)


def _history(
    session: Session,
    *,
    contact_ids: Sequence[int],
    since: dt.datetime,
    counted: Iterable[MessageStatus],
    exclude_message_ids: Collection[int],
) -> dict[int, list[SendRecord]]:
    """Marketing messages that went (or may have gone) to these contacts since `since`."""
    found: dict[int, list[SendRecord]] = {}
    if not contact_ids:
        return found
    statuses = [str(s) for s in counted]
    for start in range(0, len(contact_ids), 5_000):
        query = select(Message.contact_id, raw(Message.send_at), Message.channel, Message.id).where(
            Message.contact_id.in_(contact_ids[start : start + 5_000]),
            Message.purpose == Purpose.MARKETING,
            Message.status.in_(statuses),
            Message.send_at >= since,
        )
        for contact_id, send_at, channel, message_id in session.connection().execute(query):
            if message_id in exclude_message_ids or send_at is None:
                continue
            found.setdefault(contact_id, []).append(
                SendRecord(at=parse_instant(send_at), channel=channel, purpose=Purpose.MARKETING)  # type: ignore[arg-type]
            )
    return found
