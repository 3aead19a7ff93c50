"""`textopt dispatch` and `textopt send`: send what is due, or one message now."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.live import Live

from textopt.campaigns.report import message_history
from textopt.campaigns.sends import enqueue_message
from textopt.cli.common import console, console_err, engine, print_json, session
from textopt.config import get_settings
from textopt.db.base import utcnow
from textopt.dispatch.worker import DispatchStats, run_dispatch
from textopt.errors import ValidationError
from textopt.outbox.states import MessageStatus
from textopt.vocab import Purpose

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _stats_dict(stats: DispatchStats) -> dict[str, Any]:
    return {
        "submitted": stats.submitted,
        "retried": stats.retried,
        "failed": stats.failed,
        "expired": stats.expired,
        "blocked_at_claim": stats.blocked,
        "deferred_at_claim": stats.deferred,
        "receipts": stats.receipts,
        "inbound": stats.inbound,
        "recovered_unknown": stats.recovered_unknown,
        "recovered_requeued": stats.recovered_requeued,
        "throttled": stats.throttled,
    }


def _line(stats: DispatchStats) -> str:
    held = stats.blocked + stats.deferred
    return (
        f"submitted {stats.submitted:,} · receipts {stats.receipts:,} · replies in "
        f"{stats.inbound:,} · retried {stats.retried:,} · failed {stats.failed:,} · held back "
        f"{held:,}"
    )


def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when nothing is due and receipts are in")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", help="Workers per provider account")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Send due messages through the configured providers (Ctrl-C stops cleanly)."""
    if workers < 1:
        raise ValidationError("--workers must be at least 1", field="workers")
    settings = get_settings()
    if as_json:
        stats = run_dispatch(engine(), settings, workers=workers, once=once, webhooks=True)
        print_json(_stats_dict(stats))
        return
    with Live(console=console_err, refresh_per_second=4, transient=False) as live:
        try:
            stats = run_dispatch(
                engine(),
                settings,
                workers=workers,
                once=once,
                progress=lambda s: live.update(_line(s)),
                webhooks=True,
            )
        except KeyboardInterrupt:
            console_err.print("stopped")
            return
        live.update(_line(stats))


def send(
    to: Annotated[str, typer.Option("--to", help="Recipient number")],
    text: Annotated[str, typer.Option("--text", help="Text (a template: {{ first_name }})")],
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Template variable k=v (repeatable)")
    ] = None,
    marketing: Annotated[
        bool, typer.Option("--marketing/--transactional", help="Purpose of the message")
    ] = False,
    sender: Annotated[str | None, typer.Option("--sender", help="Sender ID")] = None,
    key: Annotated[
        str | None, typer.Option("--idempotency-key", help="The same key never sends twice")
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Provider account")] = None,
    queue_only: Annotated[
        bool, typer.Option("--queue-only", help="Write it to the outbox; a dispatcher sends it")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Send one message now through the same policy and outbox as campaigns."""
    variables: dict[str, str] = {}
    for item in var or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--var {item!r}: write name=value", field="var")
        variables[name.strip()] = value
    settings = get_settings()
    with session() as s:
        message, created = enqueue_message(
            s,
            settings=settings,
            to=to,
            text=text,
            variables=variables,
            purpose=Purpose.MARKETING if marketing else Purpose.TRANSACTIONAL,
            sender_id=sender,
            idempotency_key=key,
            provider=provider,
            now=utcnow(),
        )
        message_id, status = message.id, message.status
    if created and not queue_only and status == MessageStatus.PLANNED:
        run_dispatch(engine(), settings, once=True, only_ids=[message_id])
    with session() as s:
        data = message_history(s, message_id=message_id)
    data["created"] = created
    if as_json:
        print_json(data)
        return
    note = "" if created else " (already sent with this idempotency key)"
    console.print(f"message {message_id}: [bold]{data['status']}[/]{note}")
    if data["reason_text"] and data["status"] in ("blocked", "planned"):
        console.print(f"  {data['reason_text']}", highlight=False)


def show_message(message_id: int, as_json: JsonOption = False) -> None:
    """One message with its states and receipts."""
    with session() as s:
        data = message_history(s, message_id=message_id)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]message {data['id']}[/] to {data['to']}: {data['status']}")
    if data["reason_text"]:
        console.print(f"  {data['reason_text']}", highlight=False)
    console.print(
        f"  {data['segments']} segment(s) {data['encoding']}, {data['cost']} "
        f"{data['currency']}, provider {data['provider']} {data['provider_message_id'] or ''}"
    )
    console.print(f"  text: {data['body']}", highlight=False)
    for event in data["events"]:
        detail = json.dumps(event["detail"], ensure_ascii=False) if event["detail"] else ""
        console.print(f"  {event['at']}  {event['status']:<10} {detail}", highlight=False)
