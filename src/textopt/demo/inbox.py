"""The demo's inbox: customers answer the winter sale; the shop replies to one, the others
wait unread (one from a number no contact has).

At night, on a Sunday or a public holiday the sale waits for its window: the customers who
write back are then among those the appointment confirmations reached, so the demo runs
the same at any hour."""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from sqlalchemy import Engine, select

from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.conversations.replies import reply_to_conversation
from textopt.conversations.service import list_conversations
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.inbound.service import record_inbound
from textopt.outbox.models import Message

__all__ = ["STRANGER", "demo_conversations"]

#: A number no contact has: its conversation is the number's own.
STRANGER = "+33798765432"
_SHOP = Actor("cli", None, "cli:boutique", frozenset())


def demo_conversations(
    engine: Engine,
    settings: Settings,
    *,
    sale_id: int,
    fallback_id: int,
    avoid: tuple[str, ...],
    console: Console,
) -> None:
    """Two customers who got the sale (none of `avoid`, the README's featured people) write
    back and a stranger asks who we are; the shop answers the first (a conversational
    reply: no footer, sent at any hour). When the sale reached no one yet (it waits for
    its window), the two are among those campaign `fallback_id` reached."""
    now = utcnow()
    kept_out = [parse_phone(number, settings.default_region).e164 for number in avoid]
    with session_scope(engine) as s:
        reached: list[str] = []
        for campaign_id in (sale_id, fallback_id):
            delivered = (
                select(Contact.phone)
                .join(Message, Message.contact_id == Contact.id)
                .where(
                    Message.campaign_id == campaign_id,
                    Message.status == "delivered",
                    Contact.phone.is_not(None),
                    Contact.phone.not_in(kept_out),
                )
                .order_by(Contact.id)
                .limit(2)
            )
            reached = [number for number in s.scalars(delivered) if number]
            if len(reached) == 2:
                break
            if campaign_id == sale_id:
                console.print(
                    "  the sale waits for its window: customers the confirmations reached"
                )
        first, second = reached
        said = (
            (first, "Les soldes valent aussi en boutique ?", 40),
            (second, "Vous avez la robe rouge en 38 ?", 25),
            (STRANGER, "Bonjour, qui m'écrit ? J'ai reçu un SMS de ce numéro.", 10),
        )
        for i, (number, text, minutes) in enumerate(said, start=1):
            record_inbound(
                s,
                provider=settings.default_provider,
                provider_message_id=f"demo-mo-{i}",
                sender=number,
                recipient="36111",
                text=text,
                received_at=now - dt.timedelta(minutes=minutes),
                settings=settings,
                now=now,
            )
    with session_scope(engine) as s:
        answered = next(
            c for c in list_conversations(s, show="open") if c.number == first
        ).conversation
        reply_to_conversation(
            s,
            actor=_SHOP,
            settings=settings,
            conversation_id=answered.id,
            text="Oui, en boutique aussi, jusqu'à dimanche. À bientôt !",
            now=now,
        )
    console.print(f"  {first}: answered (a conversational reply, no STOP footer)")
    console.print(f"  {second}: waiting, unread")
    console.print(f"  {STRANGER}: a number no contact has, waiting, unread")
    console.print("  textopt inbox list   (the dashboard: /app/inbox)")
