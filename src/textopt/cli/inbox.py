"""`textopt inbox`: conversations with the people who write to us; list, show, reply, assign,
close, reopen, mark read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from textopt.cli.common import console, print_json, session
from textopt.cli.display import human_instant
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.conversations import replies, service
from textopt.conversations.models import Conversation
from textopt.conversations.replies import ReplyKind
from textopt.db.base import utcnow

app = typer.Typer(
    help="The inbox: conversations with the people who write to us (list, show, reply, "
    "assign, close).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
ConversationArgument = Annotated[str, typer.Argument(help="The conversation's id")]


def _summary_line(data: dict[str, Any]) -> str:
    assigned = f", assigned to {data['assigned_to']}" if data["assigned_to"] else ""
    return (
        f"conversation {data['id']} with {data['name']}: {data['state']}, "
        f"{data['unread']} unread{assigned}"
    )


@app.command("list")
def list_(
    show: Annotated[
        str, typer.Option("--show", help="open, closed or all (the latest activity first)")
    ] = "open",
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Conversations, the latest activity first, with their unread messages."""
    with session() as s:
        found = [c.as_dict() for c in service.list_conversations(s, show=show, limit=limit)]
        unread = service.unread_total(s)
    if as_json:
        print_json({"conversations": found, "unread": unread})
        return
    table = Table(title=f"conversations ({show}; {unread} unread in open ones)")
    for column in ("id", "person", "state", "unread", "assigned", "last activity", "last message"):
        table.add_column(column)
    now = utcnow()
    for c in found:
        table.add_row(
            str(c["id"]),
            c["name"],
            c["state"],
            str(c["unread"]),
            c["assigned_to"] or "",
            human_instant(c["last_activity_at"], seconds=False, now=now),
            (c["last_text"] or "")[:60],
        )
    console.print(table)


@app.command("show")
def show(conversation: ConversationArgument, as_json: JsonOption = False) -> None:
    """A conversation's messages both ways, oldest first, and whether a reply now is
    conversational (it is not marked read: `textopt inbox read`)."""
    now = utcnow()
    with session() as s:
        found = service.get_conversation_or_raise(s, conversation_id=conversation)
        summary = service.summary_of(s, conversation=found).as_dict()
        window = replies.reply_window(s, conversation=found, now=now)
        entries = [e.as_dict() for e in service.thread(s, conversation=found)]
    data = {
        **summary,
        "window": {
            "conversational": window.conversational,
            "state": window.state,
            "last_inbound_at": window.last_inbound_at,
            "closes_at": window.closes_at,
        },
        "messages": entries,
    }
    if as_json:
        print_json(data)
        return
    console.print(_summary_line(summary), markup=False, highlight=False)
    for e in entries:
        when = human_instant(e["at"], seconds=False, now=now)
        if e["direction"] == "in":
            console.print(f"  < {when}  {e['text'] or '(erased)'}", markup=False, highlight=False)
            continue
        who = f" by {e['replied_by']} ({e['reply_kind']})" if e.get("replied_by") else ""
        state = e["status"] + (f": {e['reason_text']}" if e.get("reason_text") else "")
        console.print(
            f"  > {when}  {e['text'] or '(erased)'}  [{state}]{who}", markup=False, highlight=False
        )
    if window.conversational:
        console.print(
            f"a reply now is conversational until {human_instant(window.closes_at, seconds=False)}",
            highlight=False,
        )
    else:
        console.print(
            "a reply now is not conversational: give --kind transactional or marketing",
            highlight=False,
        )


@app.command("reply")
def reply(
    conversation: ConversationArgument,
    text: Annotated[str, typer.Argument(help="The reply, sent as written")],
    kind: Annotated[
        ReplyKind | None,
        typer.Option(
            "--kind",
            help="conversational (the default within 24 h of the person's last message), "
            "transactional or marketing",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reply through the outbox, decided by the policy; a reply held or blocked says why."""
    with session() as s:
        result = replies.reply_to_conversation(
            s,
            actor=cli_actor(),
            settings=get_settings(),
            conversation_id=conversation,
            text=text,
            kind=kind,
            now=utcnow(),
        )
        message = result.message
        data = {
            "conversation_id": result.reply.conversation_id,
            "message_id": message.id,
            "kind": result.reply.kind,
            "status": message.status,
            "reason": message.reason,
            "reason_text": message.reason_text,
            "send_at": message.send_at,
            "segments": message.segments,
            "text": message.body,
        }
    if as_json:
        print_json(data)
        return
    said = f"reply {data['message_id']} ({data['kind']}, {data['segments']} SMS part(s)): "
    if data["status"] == "blocked":
        said += f"not sent, {data['reason_text']}"
    elif data["reason"]:
        said += f"held, {data['reason_text']}"
    else:
        said += "on its way"
    console.print(said, markup=False, highlight=False)


@app.command("assign")
def assign(
    conversation: ConversationArgument,
    user: Annotated[
        str | None, typer.Argument(help="The user's email or id; leave out to unassign")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Assign the conversation to a user, or to nobody."""
    _change(
        lambda s: service.assign_conversation(
            s, actor=cli_actor(), conversation_id=conversation, user=user, now=utcnow()
        ),
        as_json,
    )


@app.command("close")
def close(conversation: ConversationArgument, as_json: JsonOption = False) -> None:
    """Close the conversation; the person's next message reopens it."""
    _change(
        lambda s: service.close_conversation(
            s, actor=cli_actor(), conversation_id=conversation, now=utcnow()
        ),
        as_json,
    )


@app.command("reopen")
def reopen(conversation: ConversationArgument, as_json: JsonOption = False) -> None:
    """Reopen a closed conversation."""
    _change(
        lambda s: service.reopen_conversation(
            s, actor=cli_actor(), conversation_id=conversation, now=utcnow()
        ),
        as_json,
    )


@app.command("read")
def read(conversation: ConversationArgument, as_json: JsonOption = False) -> None:
    """Mark everything in the conversation read."""
    _change(lambda s: service.mark_read(s, conversation_id=conversation, now=utcnow()), as_json)


def _change(command: Callable[[Session], Conversation], as_json: bool) -> None:
    """Run one command on a conversation and show the conversation as it is then."""
    with session() as s:
        data = service.summary_of(s, conversation=command(s)).as_dict()
    _done(data, as_json)


def _done(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
    else:
        console.print(_summary_line(data), markup=False, highlight=False)
