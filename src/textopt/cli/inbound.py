"""`textopt inbound`: simulate a message a person sends (MO) and list what came in."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from textopt.cli.common import console, engine, print_json, session
from textopt.cli.display import human_instant
from textopt.config import get_settings
from textopt.contacts.phones import parse_phone
from textopt.db.base import utcnow
from textopt.dispatch.worker import run_dispatch
from textopt.errors import ConfigError, ValidationError
from textopt.inbound.models import InboundMessage
from textopt.inbound.service import list_inbound, record_sms
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.providers.base import build_provider
from textopt.providers.mo import InboundSms
from textopt.providers.sandbox import SandboxProvider

app = typer.Typer(
    help="Inbound messages: STOP, START, HELP and YES replies, and everything else people send.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _data(message: InboundMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "received_at": message.received_at.isoformat(),
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "from": message.sender,  # as it came: a number, a short code, a name, or ""
        "phone": message.phone,  # E.164 when the sender is a number
        "to": message.recipient,
        "text": message.text,
        "contact_id": message.contact_id,
        "keyword": message.keyword,
        # the workspace keyword it matched (HORAIRES), when `keyword` is "none"
        "workspace_keyword": message.workspace_keyword,
        "language": message.language,
        "action": message.action,
        "consent_event_id": message.consent_event_id,
        "reply_message_id": message.reply_message_id,
        "error": message.error,
    }


def _keyword(row: dict[str, Any]) -> str:
    """The built-in keyword's kind, or the workspace keyword matched (in capitals)."""
    word = row.get("workspace_keyword")
    return str(word).upper() if word else str(row["keyword"])


@app.command("receive")
def receive(
    sender: Annotated[str, typer.Option("--from", help="The person's number")],
    text: Annotated[str, typer.Option("--text", help="What they wrote")],
    provider: Annotated[
        str | None, typer.Option("--provider", help="Account it arrives on (default account)")
    ] = None,
    message_id: Annotated[
        str | None, typer.Option("--id", help="Provider message id (the same id is stored once)")
    ] = None,
    queue_only: Annotated[
        bool, typer.Option("--queue-only", help="Leave the reply in the outbox for a dispatcher")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Simulate an inbound message: stored, its keyword applied, the reply sent."""
    settings = get_settings()
    account = provider or settings.default_provider
    options = settings.providers.get(account)
    if options is None:
        raise ConfigError(
            f"provider account {account!r} is not configured "
            f"(known: {', '.join(sorted(settings.providers))})"
        )
    if not text.strip():
        raise ValidationError("--text: an inbound message has some text", field="text")
    adapter = build_provider(account, options)
    if isinstance(adapter, SandboxProvider):
        sms = adapter.deliver_mo(sender=sender, text=text, provider_message_id=message_id)
    else:  # another kind of account: the message as its webhook would bring it
        sms = InboundSms(account, message_id or uuid.uuid4().hex, sender, "", text, utcnow())
    with session() as s:
        result = record_sms(s, sms=sms, settings=settings)
        data = _data(result.message)
        reply = result.reply
        reply_id, reply_status = (reply.id, reply.status) if reply else (None, None)
    if result.created and reply_id and not queue_only and reply_status == MessageStatus.PLANNED:
        run_dispatch(engine(), settings, once=True, only_ids=[reply_id])
    if reply_id:
        with session() as s:
            sent = s.get_one(Message, reply_id)
            reply_status = sent.status
            data["reply"] = {"id": reply_id, "status": reply_status, "text": sent.body}
    data["created"] = result.created
    if as_json:
        print_json(data)
        return
    note = "" if result.created else " (already received: nothing applied again)"
    console.print(
        f"inbound {data['id']} from {data['from']}: [bold]{_keyword(data)}[/] → "
        f"{data['action']}{note}"
    )
    if "reply" in data:
        console.print(
            f"  reply {reply_id} {reply_status}: {data['reply']['text']}", highlight=False
        )


@app.command("list")
def list_(
    contact: Annotated[
        str | None,
        typer.Option("--contact", help="Only this number's messages (or sender's: 36111, Orange)"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The newest inbound messages, with the keyword found and what was done."""
    phone, sender = _sender_filter(contact, get_settings().default_region)
    with session() as s:
        rows = [_data(m) for m in list_inbound(s, phone=phone, sender=sender, limit=limit)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no inbound messages")
        return
    table = Table("id", "received", "from", "text", "keyword", "action", box=None)
    for row in rows:
        table.add_row(
            str(row["id"]),
            human_instant(row["received_at"]),
            _shown_sender(row["from"]),
            (row["text"] or "")[:40],
            _keyword(row),
            row["action"] or "(pending)",
        )
    console.print(table, highlight=False)


def _sender_filter(contact: str | None, region: str) -> tuple[str | None, str | None]:
    """(E.164 number, raw sender) to filter on: a number in any notation, else as typed."""
    if contact is None:
        return None, None
    try:
        return parse_phone(contact, region).e164, None
    except ValidationError:
        return None, contact  # a short code or an operator's name is matched as it came


def _shown_sender(sender: str | None) -> str:
    """The sender for the table; an erased one and an empty address are told apart."""
    if sender is None:
        return "(erased)"
    return sender or "(no sender)"
