"""Conversations: opened by inbound messages in the transaction that stores them, listed,
read, assigned, closed and reopened by the team (the audited commands every face calls).

`open_conversations` is the batch path the MO store calls: one read of the new messages,
one upsert per batch (a conversation per contact, or per number when no contact has it),
one read of the conversations' ids, and the `message.received` webhooks in one insert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from textopt.accounts.models import ROLE_SCOPES, Role, Scope, User
from textopt.accounts.service import Actor, get_user_or_raise, record_audit
from textopt.contacts.models import Contact
from textopt.conversations.models import (
    Conversation,
    ConversationReply,
    ConversationState,
    party_of,
)
from textopt.db.bulk import among
from textopt.db.engine import upsert_insert
from textopt.db.ids import parse_id
from textopt.errors import NotFoundError, ValidationError
from textopt.inbound.models import InboundMessage
from textopt.outbox.models import Message
from textopt.vocab import Channel
from textopt.webhooks.models import WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = [
    "FILTERS",
    "ConversationSummary",
    "ThreadEntry",
    "assign_conversation",
    "can_answer",
    "close_conversation",
    "conversation_of_contact",
    "erase_conversations",
    "get_conversation_or_raise",
    "list_conversations",
    "mark_read",
    "open_conversations",
    "reopen_conversation",
    "summary_of",
    "thread",
    "unread_total",
]

#: The lists the inbox offers: open ones, closed ones, those assigned to the viewer, all.
FILTERS = ("open", "closed", "mine", "all")
#: The most messages of each direction a thread shows (the newest).
THREAD_LIMIT = 200

_S = ConversationState


def open_conversations(session: Session, *, inbound_ids: Sequence[int], now: dt.datetime) -> int:
    """Open (or reopen) the conversations of newly stored inbound messages, count them unread,
    and queue their `message.received` webhooks; returns how many conversations were touched.

    Call it in the transaction that stored the messages: a message exists with its
    conversation and its webhook, or not at all.
    """
    if not inbound_ids:
        return 0
    dialect = session.get_bind().dialect.name
    columns = (
        InboundMessage.id,
        InboundMessage.contact_id,
        InboundMessage.phone,
        InboundMessage.received_at,
        InboundMessage.sender,
        InboundMessage.recipient,
        InboundMessage.text,
        InboundMessage.keyword,
        InboundMessage.provider,
    )
    new = session.execute(
        select(*columns).where(among(dialect, InboundMessage.id, inbound_ids))
    ).all()
    rows: dict[str, dict[str, Any]] = {}
    for message in new:
        party = party_of(contact_id=message.contact_id, phone=message.phone)
        if party is None:
            continue
        row = rows.setdefault(
            party,
            {
                "party": party,
                "contact_id": message.contact_id,
                "phone": message.phone if message.contact_id is None else None,
                "state": str(_S.OPEN),
                "unread_count": 0,
                "last_inbound_at": message.received_at,
                "last_activity_at": message.received_at,
                "created_at": now,
                "updated_at": now,
            },
        )
        row["unread_count"] += 1
        if message.received_at > row["last_inbound_at"]:
            row["last_inbound_at"] = row["last_activity_at"] = message.received_at
    if rows:
        # in one order, so that two workers storing batches lock the rows alike (no deadlock)
        _upsert(session, rows=[rows[party] for party in sorted(rows)])
    ids = _ids_by_party(session, parties=list(rows))
    events = [
        (
            WebhookEvent.MESSAGE_RECEIVED,
            {
                "inbound_id": message.id,
                "conversation_id": ids.get(
                    party_of(contact_id=message.contact_id, phone=message.phone) or ""
                ),
                "contact_id": message.contact_id,
                "from": message.sender,
                "to": message.recipient,
                "text": message.text,
                "keyword": message.keyword,
                "provider": message.provider,
                "received_at": message.received_at.isoformat(),
            },
        )
        for message in sorted(new, key=lambda m: m.id)
    ]
    emit_events(session, events=events, now=now)
    return len(rows)


def _upsert(session: Session, *, rows: list[dict[str, Any]]) -> None:
    """One statement: new conversations inserted, existing ones reopened and counted."""
    statement = upsert_insert(session, Conversation)
    table = Conversation.__table__.c
    new = statement.excluded

    def later(column: Any, value: Any) -> Any:
        return case((value > column, value), else_=column)

    statement = statement.on_conflict_do_update(
        index_elements=["party"],
        set_={
            "state": str(_S.OPEN),
            "closed_at": None,
            "unread_count": table.unread_count + new.unread_count,
            "last_inbound_at": later(table.last_inbound_at, new.last_inbound_at),
            "last_activity_at": later(table.last_activity_at, new.last_activity_at),
            "updated_at": new.updated_at,
        },
    )
    session.execute(statement, rows)


def _ids_by_party(session: Session, *, parties: list[str]) -> dict[str, int]:
    if not parties:
        return {}
    dialect = session.get_bind().dialect.name
    query = select(Conversation.party, Conversation.id).where(
        among(dialect, Conversation.party, parties)
    )
    return {row[0]: row[1] for row in session.execute(query)}


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A conversation as the inbox lists it: who, the last message, what waits."""

    conversation: Conversation
    contact: Contact | None
    assigned: User | None
    last_text: str | None  # the last inbound message (None: erased)

    @property
    def number(self) -> str | None:
        """The number replies go to: the contact's, else the conversation's."""
        if self.contact is not None:
            return None if self.contact.erased_at is not None else self.contact.phone
        return self.conversation.phone

    @property
    def name(self) -> str:
        """The person as the team knows them: name, else number."""
        contact = self.contact
        if contact is not None and contact.erased_at is None:
            full = " ".join(p for p in (contact.first_name, contact.last_name) if p)
            if full:
                return full
        return self.number or "—"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's `--json`)."""
        c = self.conversation
        return {
            "id": c.id,
            "contact_id": c.contact_id,
            "number": self.number,
            "name": self.name,
            "state": c.state,
            "assigned_to": self.assigned.email if self.assigned else None,
            "unread": c.unread_count,
            "last_inbound_at": c.last_inbound_at.isoformat(),
            "last_activity_at": c.last_activity_at.isoformat(),
            "last_text": self.last_text,
        }


def list_conversations(
    session: Session,
    *,
    show: str = "open",
    user_id: int | None = None,
    limit: int = 50,
    before: tuple[dt.datetime, int] | None = None,
) -> list[ConversationSummary]:
    """Conversations, the latest activity first: `open`, `closed`, `mine` (open and assigned
    to `user_id`) or `all`; `before` is the (activity, id) of the previous page's last."""
    if show not in FILTERS:
        raise ValidationError(
            f"show: {show[:20]!r} is not a list of the inbox (one of {', '.join(FILTERS)})",
            field="show",
        )
    if show == "mine" and user_id is None:
        return []  # an operator or a key acting for no user has no conversation of their own
    query = select(Conversation)
    if show in ("open", "mine"):
        query = query.where(Conversation.state == str(_S.OPEN))
    elif show == "closed":
        query = query.where(Conversation.state == str(_S.CLOSED))
    if show == "mine":
        query = query.where(Conversation.assigned_user_id == user_id)
    if before is not None:
        at, last_id = before
        query = query.where(
            or_(
                Conversation.last_activity_at < at,
                and_(Conversation.last_activity_at == at, Conversation.id < last_id),
            )
        )
    query = query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    conversations = list(session.scalars(query.limit(limit)))
    return _summaries(session, conversations)


def _summaries(session: Session, conversations: list[Conversation]) -> list[ConversationSummary]:
    """Each conversation with its contact, assignee and last text: three queries in all."""
    if not conversations:
        return []
    contact_ids = {c.contact_id for c in conversations if c.contact_id is not None}
    contacts = (
        {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    user_ids = {c.assigned_user_id for c in conversations if c.assigned_user_id is not None}
    users = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    last = _last_texts(session, conversations)
    return [
        ConversationSummary(
            conversation=c,
            contact=contacts.get(c.contact_id) if c.contact_id is not None else None,
            assigned=users.get(c.assigned_user_id) if c.assigned_user_id is not None else None,
            last_text=last.get(c.id),
        )
        for c in conversations
    ]


def _last_texts(session: Session, conversations: list[Conversation]) -> dict[int, str | None]:
    """The text of each conversation's last inbound message, in one query."""
    by_contact = {c.contact_id: c.id for c in conversations if c.contact_id is not None}
    by_number = {c.phone: c.id for c in conversations if c.contact_id is None and c.phone}
    conditions: list[ColumnElement[bool]] = []
    if by_contact:
        conditions.append(InboundMessage.contact_id.in_(by_contact))
    if by_number:
        conditions.append(
            and_(InboundMessage.contact_id.is_(None), InboundMessage.phone.in_(by_number))
        )
    if not conditions:
        return {}
    ranked = (
        select(
            InboundMessage.contact_id,
            InboundMessage.phone,
            InboundMessage.text,
            func.row_number()
            .over(
                partition_by=(InboundMessage.contact_id, InboundMessage.phone),
                order_by=(InboundMessage.received_at.desc(), InboundMessage.id.desc()),
            )
            .label("rank"),
        )
        .where(or_(*conditions))
        .subquery()
    )
    found: dict[int, str | None] = {}
    query = select(ranked.c.contact_id, ranked.c.phone, ranked.c.text).where(ranked.c.rank == 1)
    for contact_id, phone, text in session.execute(query):
        conversation_id = (
            by_contact.get(contact_id) if contact_id is not None else by_number.get(phone)
        )
        if conversation_id is not None and conversation_id not in found:
            found[conversation_id] = text
    return found


def conversation_of_contact(session: Session, *, contact_id: int) -> Conversation | None:
    """The contact's conversation, if they ever wrote."""
    party = party_of(contact_id=contact_id, phone=None)
    return session.scalars(select(Conversation).where(Conversation.party == party)).first()


def unread_total(session: Session) -> int:
    """Inbound messages not yet read in open conversations: what the navigation shows."""
    total = session.scalar(
        select(func.coalesce(func.sum(Conversation.unread_count), 0)).where(
            Conversation.state == str(_S.OPEN)
        )
    )
    return int(total or 0)


def get_conversation_or_raise(session: Session, *, conversation_id: int | str) -> Conversation:
    """The conversation with this id, or NotFoundError."""
    number = conversation_id if isinstance(conversation_id, int) else parse_id(conversation_id)
    found = session.get(Conversation, number) if number is not None else None
    if found is None:
        raise NotFoundError(f"no conversation with id {conversation_id}")
    return found


def summary_of(session: Session, *, conversation: Conversation) -> ConversationSummary:
    """One conversation as the inbox lists it."""
    return _summaries(session, [conversation])[0]


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """One message of a thread, either way."""

    direction: str  # "in" (the person wrote) or "out" (we sent)
    at: dt.datetime
    text: str | None  # None: erased
    inbound: InboundMessage | None = None
    message: Message | None = None
    reply: ConversationReply | None = None  # set when a user wrote it from the inbox

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's `--json`)."""
        out: dict[str, Any] = {
            "direction": self.direction,
            "at": self.at.isoformat(),
            "text": self.text,
        }
        if self.inbound is not None:
            out.update(
                inbound_id=self.inbound.id,
                keyword=self.inbound.keyword,
                action=self.inbound.action,
            )
        if self.message is not None:
            out.update(
                message_id=self.message.id,
                purpose=self.message.purpose,
                status=self.message.status,
                reason=self.message.reason,
                reason_text=self.message.reason_text,
                campaign_id=self.message.campaign_id,
                segments=self.message.segments,
            )
        if self.reply is not None:
            out.update(replied_by=self.reply.actor_label, reply_kind=self.reply.kind)
        return out


def thread(session: Session, *, conversation: Conversation) -> list[ThreadEntry]:
    """The conversation's messages both ways, oldest first (the newest `THREAD_LIMIT` each)."""
    inbound = select(InboundMessage)
    outbound = select(Message).where(Message.channel == str(Channel.SMS))
    if conversation.contact_id is not None:
        inbound = inbound.where(InboundMessage.contact_id == conversation.contact_id)
        outbound = outbound.where(Message.contact_id == conversation.contact_id)
    else:
        inbound = inbound.where(
            InboundMessage.contact_id.is_(None), InboundMessage.phone == conversation.phone
        )
        outbound = outbound.where(
            Message.contact_id.is_(None), Message.recipient == conversation.phone
        )
    received = session.scalars(
        inbound.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(
            THREAD_LIMIT
        )
    ).all()
    sent = session.scalars(
        outbound.order_by(Message.created_at.desc(), Message.id.desc()).limit(THREAD_LIMIT)
    ).all()
    replies = {
        r.message_id: r
        for r in session.scalars(
            select(ConversationReply).where(ConversationReply.conversation_id == conversation.id)
        )
    }
    entries = [ThreadEntry("in", m.received_at, m.text, inbound=m) for m in received]
    entries.extend(
        ThreadEntry("out", m.created_at, m.body, message=m, reply=replies.get(m.id)) for m in sent
    )
    entries.sort(key=lambda e: (e.at, 0 if e.direction == "in" else 1))
    return entries


def mark_read(session: Session, *, conversation_id: int | str, now: dt.datetime) -> Conversation:
    """Everything in the conversation is read by the team (not audited: nothing changes)."""
    conversation = get_conversation_or_raise(session, conversation_id=conversation_id)
    if conversation.unread_count or conversation.read_at is None:
        conversation.unread_count = 0
        conversation.read_at = now
        session.flush()
    return conversation


def can_answer(user: User) -> bool:
    """Whether `user` may be given conversations: active, with a role that opens the inbox."""
    return not user.disabled and Scope.INBOX in ROLE_SCOPES[Role(user.role)]


def assign_conversation(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int | str,
    user: int | str | None,
    now: dt.datetime,
) -> Conversation:
    """Give the conversation to a user (by id or email), or to nobody with None; audited."""
    conversation = get_conversation_or_raise(session, conversation_id=conversation_id)
    assignee = None
    if user is not None:
        assignee = get_user_or_raise(session, user=user)
        if assignee.disabled:
            raise ValidationError(
                f"user {assignee.email} is disabled: assign the conversation to someone else",
                field="user",
            )
        if Scope.INBOX not in ROLE_SCOPES[Role(assignee.role)]:
            raise ValidationError(
                f"user {assignee.email} cannot open the inbox (role {assignee.role}): "
                "assign the conversation to a marketer or an admin",
                field="user",
            )
    conversation.assigned_user_id = assignee.id if assignee else None
    conversation.updated_at = now
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="conversation.assign",
        target_type="conversation",
        target_id=conversation.id,
        detail={"user": assignee.email if assignee else None},
    )
    return conversation


def close_conversation(
    session: Session, *, actor: Actor, conversation_id: int | str, now: dt.datetime
) -> Conversation:
    """Close the conversation (handled); the person's next message reopens it. Audited."""
    return _set_state(
        session, actor=actor, conversation_id=conversation_id, state=_S.CLOSED, now=now
    )


def reopen_conversation(
    session: Session, *, actor: Actor, conversation_id: int | str, now: dt.datetime
) -> Conversation:
    """Reopen a closed conversation. Audited."""
    return _set_state(session, actor=actor, conversation_id=conversation_id, state=_S.OPEN, now=now)


def _set_state(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int | str,
    state: ConversationState,
    now: dt.datetime,
) -> Conversation:
    conversation = get_conversation_or_raise(session, conversation_id=conversation_id)
    if conversation.state != state:
        conversation.state = str(state)
        conversation.closed_at = now if state == _S.CLOSED else None
        conversation.updated_at = now
        session.flush()
        record_audit(
            session,
            actor=actor,
            action=f"conversation.{'close' if state == _S.CLOSED else 'reopen'}",
            target_type="conversation",
            target_id=conversation.id,
        )
    return conversation


def erase_conversations(session: Session, *, contact_ids: list[int], numbers: list[str]) -> int:
    """Delete the conversations of erased contacts (and numbers): the messages they showed are
    emptied by the erasure, the number on the conversation goes with it."""
    conditions: list[ColumnElement[bool]] = []
    if contact_ids:
        conditions.append(Conversation.contact_id.in_(contact_ids))
    if numbers:
        conditions.append(Conversation.phone.in_(numbers))
    if not conditions:
        return 0
    doomed = select(Conversation.id).where(or_(*conditions))
    session.execute(delete(ConversationReply).where(ConversationReply.conversation_id.in_(doomed)))
    result = session.execute(
        delete(Conversation).where(or_(*conditions)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
