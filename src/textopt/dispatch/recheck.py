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
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from textopt.campaigns.facts import CAP_WINDOW, UNDELIVERABLE, contact_facts, number_kind
from textopt.config import get_settings
from textopt.consent.models import Suppression
from textopt.consent.service import consent_summary, parse_consent_summary
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.dispatch.feedback import any_undeliverable, undeliverable_digests
from textopt.errors import InvalidPhoneNumber
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

__all__ = [
    "FIRST",
    "Rechecker",
    "among",
    "claim_columns",
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


#: Where `claim_columns` start in a claimed row (the message's own columns come first), and
#: the slice of them a decision depends on: a message costs one tuple slice and one lookup.
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
    consents = consent_summary(Message.contact_id)
    earlier = Message.__table__.alias("earlier")
    history = exists().where(
        and_(
            earlier.c.contact_id == Message.contact_id,
            earlier.c.purpose == Purpose.MARKETING,
            # `|| ''`: not the dispatcher's indexes, which would read every message sent in
            # the window for each claimed one; the (contact, time) index reads only its own.
            earlier.c.status.concat("").in_([str(s) for s in counted]),
            earlier.c.send_at >= since,
        )
    )
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
        consents.label("consents"),
        number_kind().label("number_kind"),
        usable.is_(None).label("no_email"),
        case((Contact.phone.like("+1%"), func.substr(Contact.phone, 1, 5)), else_=None).label(
            "nanp"
        ),
        Contact.id.label("contact"),
        Contact.phone,
        usable.label("email"),
        history.label("has_history"),
    )


class Rechecker:
    """Decisions for the messages of one claim, at one instant.

    Each row is the message's own columns, then `claim_columns` from index `FIRST` on.
    Messages alike (the `_KEY` slice, the suppression reasons of their address, and their
    marketing in the cap window, from before or from this very claim) share one
    `policy.decide`; a message whose contact was erased is decided on its own.
    """

    def __init__(
        self,
        session: Session,
        *,
        workspace: WorkspacePolicy,
        now: dt.datetime,
        rows: Sequence[Sequence[Any]],
        counted: Iterable[MessageStatus],
        claimed_ids: Collection[int],
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.now = now
        self.dialect = session.get_bind().dialect.name
        self._answers: dict[tuple[Any, ...], Decision] = {}
        channels = {row[_CHANNEL] for row in rows}
        self._suppressed = {
            channel: _suppressions(session, self.dialect, rows, channel) for channel in channels
        }
        with_history = [
            row[_CONTACT] for row in rows if row[_CONTACT] is not None and row[_HISTORY]
        ]
        self._history = _history(
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
            address = row[_EMAIL] if row[_CHANNEL] == Channel.EMAIL else row[_PHONE]
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
        contact_id, channel = row[1], row[_CHANNEL]
        if contact_id is None:
            return _recipient_facts(channel, row[2])
        if row[_CONTACT] is None:
            return ContactFacts(e164=None, country=None)  # erased since planning
        phone, email = row[_PHONE], row[_EMAIL]
        address = email if channel == Channel.EMAIL else phone
        zones = row[_ZONES]
        return contact_facts(
            channel=channel,
            consents=parse_consent_summary(row[_CONSENTS]),
            phone=phone,
            email=email,
            country=row[_COUNTRY],
            region=row[_REGION],
            timezone=row[_ZONE],
            timezones=(json.loads(zones) if zones else None) or (),
            is_customer=row[_CUSTOMER],
            suppression_reasons=self._suppressed[channel].get(address or "", ()),
            not_mobile=row[_NUMBER_KIND] == "not_mobile",
        )


#: The suppression lookup by dialect and channel: digests -> digest, reason.
_SUPPRESSION_QUERIES: dict[tuple[str, str], Any] = {}


def _suppressions(
    session: Session, dialect: str, rows: Sequence[Sequence[Any]], channel: str
) -> dict[str, tuple[str, ...]]:
    """The suppressed addresses among the rows' (for `channel`), with their reasons, and
    the undeliverable numbers (`UNDELIVERABLE`)."""
    column = _EMAIL if channel == Channel.EMAIL else _PHONE
    addresses = {row[column] for row in rows if row[column]}
    channels = [str(Channel(channel)), "all"]
    connection = session.connection()
    anything = select(Suppression.id).where(Suppression.channel.in_(channels)).limit(1)
    if not addresses:
        return {}
    dead = channel == Channel.SMS and any_undeliverable(session)
    if not dead and connection.execute(anything).first() is None:
        return {}  # nothing suppressed on this channel: no address needs hashing
    # the keyed hash set up once per claim (the key may be read from a key file)
    hashed = address_digester(get_settings().resolved_secret_key())
    by_digest = {hashed(a): a for a in addresses}
    found: dict[str, set[str]] = {}
    for digest in undeliverable_digests(session, digests=by_digest) if dead else ():
        found[by_digest[digest]] = {UNDELIVERABLE}
    query = _SUPPRESSION_QUERIES.get((dialect, channel))
    if query is None:
        query = _SUPPRESSION_QUERIES[(dialect, channel)] = select(
            Suppression.digest, Suppression.reason
        ).where(
            among(
                dialect, Suppression.digest, ids_parameter(dialect, "digests", Suppression.digest)
            ),
            Suppression.channel.in_([literal_column(f"'{c}'") for c in channels]),
        )
    values = {"digests": id_list(dialect, by_digest)}
    for digest, reason in connection.execute(query, values):
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
        # `|| ''`: the (contact, time) index, never a status one
        Message.status.concat("").in_([str(s) for s in counted]),
        Message.send_at >= since,
    )
    # the messages of one earlier batch share their instant: one record for them all
    records: dict[tuple[Any, str], SendRecord | None] = {}
    for contact_id, send_at, channel, message_id in session.connection().execute(query):
        if message_id in exclude_message_ids:
            continue
        if (send_at, channel) not in records:
            at = parse_instant(send_at)
            marketing = Purpose.MARKETING
            records[(send_at, channel)] = (
                None if at is None else SendRecord(at=at, channel=channel, purpose=marketing)
            )
        record = records[(send_at, channel)]
        if record is not None:
            found.setdefault(contact_id, []).append(record)
    return found
