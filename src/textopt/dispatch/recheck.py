"""The claim's policy re-check: facts read with the claim, one `policy.decide` per distinct case.

At claim time most messages of a batch share every fact the policy reads (country, zones,
consent, no recent history), so here a message costs a tuple of values read by the claim's
own query and one dictionary lookup, and the full facts are gathered, and the policy run,
once per distinct tuple. The tuple holds every input of `ContactFacts` except the number and
the address themselves: only whether they are known, and a NANP area code (which names a
state; the policy reads nothing else of a number). Consent enters it as the contact's
consent rows joined into one string by the database. A message whose contact has marketing
in the cap window is decided one by one with it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from textopt.campaigns.facts import CAP_WINDOW, contact_facts
from textopt.config import get_settings
from textopt.consent.models import Suppression
from textopt.consent.service import consent_summary, parse_consent_summary
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
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

__all__ = [
    "Rechecker",
    "among",
    "contact_columns",
    "id_list",
    "ids_parameter",
    "parse_instant",
    "raw",
]


def raw(column: Any) -> Any:
    """`column` read as the driver gives it (no per-row conversion: done when needed)."""
    return type_coerce(column, String).label(column.key)


def among(dialect: str, column: Any, values: Collection[Any] | BindParameter[Any]) -> Any:
    """`column IN values` with the values as one parameter (a JSON array, or an array).

    A long IN list is rendered and bound value by value on every execution; one parameter
    costs the same for ten values or ten thousand. `values` may be a bound parameter whose
    value `id_list` makes.
    """
    if not isinstance(values, BindParameter):
        values = literal(id_list(dialect, values), _list_type(dialect, column))
    if dialect == "postgresql":
        return column == any_(values)
    return column.in_(select(func.json_each(values).table_valued("value").c.value))


def id_list(dialect: str, values: Collection[Any]) -> Any:
    """The value of an `among` parameter: a list on PostgreSQL, a JSON array on SQLite."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


def _list_type(dialect: str, column: Any) -> Any:
    if dialect != "postgresql":
        return Text()
    return ARRAY(Integer if column.type._type_affinity is Integer else String)


def ids_parameter(dialect: str, name: str, column: Any) -> BindParameter[Any]:
    """A bound parameter for `among`, to build a statement once and bind its list later."""
    return bindparam(name, type_=_list_type(dialect, column))


def parse_instant(value: Any) -> dt.datetime | None:
    """An instant as stored (SQLite text, PostgreSQL timestamptz) made aware in UTC."""
    if value is None:
        return None
    instant: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def contact_columns(*, since: Any, counted: Iterable[MessageStatus]) -> tuple[Any, ...]:
    """What a claim reads of each message's contact (None when erased), in this order:

    id, phone, email, email_undeliverable_at, country, region, timezone, timezones,
    is_customer, consent rows as one string, and whether it has marketing since `since` (the
    start of the cap window: an instant or a bound parameter).
    """
    consents = consent_summary(Message.contact_id)
    earlier = Message.__table__.alias("earlier")
    history = exists().where(
        and_(
            earlier.c.contact_id == Message.contact_id,
            earlier.c.purpose == Purpose.MARKETING,
            # `|| ''`: not the (status, send_at) index, which would read every message sent
            # in the window for each claimed one; the (contact, time) index reads only its own.
            earlier.c.status.concat("").in_([str(s) for s in counted]),
            earlier.c.send_at >= since,
        )
    )
    return (
        Contact.id,
        Contact.phone,
        Contact.email,
        raw(Contact.email_undeliverable_at),
        Contact.country,
        Contact.region,
        Contact.timezone,
        raw(Contact.timezones),
        Contact.is_customer,
        consents.label("consents"),
        history.label("has_history"),
    )


class Rechecker:
    """Decisions for the messages of one claim, at one instant.

    Each row is (message columns..., then the `contact_columns`) as `decide` documents.
    """

    def __init__(
        self,
        session: Session,
        *,
        workspace: WorkspacePolicy,
        now: dt.datetime,
        contacts: Sequence[Sequence[Any]],
        channels: Collection[str],
        counted: Iterable[MessageStatus],
        claimed_ids: Collection[int],
    ) -> None:
        """`contacts`: the contact columns of the claimed rows (see `contact_columns`)."""
        self.session = session
        self.workspace = workspace
        self.now = now
        self.dialect = session.get_bind().dialect.name
        self._answers: dict[tuple[Any, ...], Decision] = {}
        self._instants: dict[Any, dt.datetime | None] = {}
        self._suppressed = {
            channel: _suppressions(session, self.dialect, contacts, channel) for channel in channels
        }
        with_history = [c[0] for c in contacts if c[0] is not None and c[10]]
        self._history = _history(
            session,
            contact_ids=with_history,
            since=now - CAP_WINDOW,
            counted=counted,
            exclude_message_ids=claimed_ids,
        )

    def instant(self, value: Any) -> dt.datetime | None:
        """A stored instant, parsed once per distinct value."""
        if value not in self._instants:
            self._instants[value] = parse_instant(value)
        return self._instants[value]

    def history(self, contact_id: int) -> list[SendRecord]:
        """The contact's marketing in the cap window (this claim adds to it as it goes)."""
        return self._history.setdefault(contact_id, [])

    def decide(
        self,
        *,
        contact_id: int | None,
        channel: str,
        purpose: str,
        sender: str | None,
        expires_at: Any,
        recipient: str | None,
        contact: Sequence[Any],
    ) -> Decision:
        """The decision for one claimed message; `contact` is its `contact_columns` values."""
        (cid, phone, email, bounced, country, region, zone, zones, customer, consents, _) = contact
        history = self._history.get(contact_id) if contact_id is not None else None
        if cid is None or history:
            message = self._message(channel, purpose, sender, expires_at)
            facts = self._facts(contact_id, channel, recipient, contact)
            return decide(facts, message, self.now, history or (), self.workspace)
        if email is not None and bounced is not None:
            email = None
        address = email if channel == Channel.EMAIL else phone
        reasons = self._suppressed[channel].get(address) if address else None
        key = (
            channel,
            purpose,
            sender,
            expires_at,
            country,
            region,
            zone,
            tuple(zones) if type(zones) is list else zones,  # PostgreSQL gives JSON decoded
            consents,
            bool(customer),
            reasons,
            phone is None,
            email is None,
            phone[:5] if phone and phone.startswith("+1") else None,  # NANP area code: the state
        )
        answer = self._answers.get(key)
        if answer is None:
            message = self._message(channel, purpose, sender, expires_at)
            facts = self._facts(contact_id, channel, recipient, contact)
            answer = self._answers[key] = decide(facts, message, self.now, (), self.workspace)
        return answer

    def _message(
        self, channel: str, purpose: str, sender: str | None, expires_at: Any
    ) -> MessageFacts:
        return MessageFacts(
            channel=Channel(channel),
            purpose=Purpose(purpose),
            sender_id=sender,
            expires_at=self.instant(expires_at),
        )

    def _facts(
        self, contact_id: int | None, channel: str, recipient: str | None, contact: Sequence[Any]
    ) -> ContactFacts:
        (cid, phone, email, bounced, country, region, zone, zones, customer, consents, _) = contact
        if contact_id is not None and cid is None:
            return ContactFacts(e164=None, country=None)  # erased since planning
        if contact_id is None:
            return _recipient_facts(channel, recipient)
        email = email if bounced is None else None
        address = email if channel == Channel.EMAIL else phone
        return contact_facts(
            channel=channel,
            consents=parse_consent_summary(consents),
            phone=phone,
            email=email,
            country=country,
            region=region,
            timezone=zone,
            timezones=(json.loads(zones) if isinstance(zones, str) else zones) or (),
            is_customer=customer,
            suppression_reasons=tuple(self._suppressed[channel].get(address or "", ())),
        )


def _suppressions(
    session: Session, dialect: str, contacts: Sequence[Sequence[Any]], channel: str
) -> dict[str, tuple[str, ...]]:
    """The suppressed addresses among the contacts' (for `channel`), with their reasons."""
    if channel == Channel.EMAIL:
        addresses = {c[2] for c in contacts if c[2] and c[3] is None}
    else:
        addresses = {c[1] for c in contacts if c[1]}
    channels = [str(Channel(channel)), "all"]
    anything = select(Suppression.id).where(Suppression.channel.in_(channels)).limit(1)
    if not addresses or session.execute(anything).first() is None:
        return {}  # nothing suppressed on this channel: no address needs hashing
    # the keyed hash set up once per claim (the key may be read from a key file)
    hashed = address_digester(get_settings().resolved_secret_key())
    by_digest = {hashed(a): a for a in addresses}
    found: dict[str, set[str]] = {}
    query = select(Suppression.digest, Suppression.reason).where(
        among(dialect, Suppression.digest, by_digest),
        Suppression.channel.in_(channels),
    )
    for digest, reason in session.execute(query):
        found.setdefault(by_digest[digest], set()).add(reason)
    return {address: tuple(sorted(reasons)) for address, reasons in found.items()}


def _recipient_facts(channel: str, recipient: str | None) -> ContactFacts:
    """Facts for a one-off message to a number or address with no contact record."""
    if channel == Channel.EMAIL:
        return ContactFacts(e164=None, country=None, email=recipient)
    try:
        info = parse_phone(recipient or "")
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
    dialect = session.get_bind().dialect.name
    query = select(Message.contact_id, raw(Message.send_at), Message.channel, Message.id).where(
        among(dialect, Message.contact_id, contact_ids),
        Message.purpose == Purpose.MARKETING,
        # `|| ''`: the (contact, time) index, not the dispatcher's (status, send_at) one
        Message.status.concat("").in_([str(s) for s in counted]),
        Message.send_at >= since,
    )
    for contact_id, send_at, channel, message_id in session.connection().execute(query):
        at = parse_instant(send_at)
        if message_id in exclude_message_ids or at is None:
            continue
        found.setdefault(contact_id, []).append(
            SendRecord(at=at, channel=channel, purpose=Purpose.MARKETING)
        )
    return found
