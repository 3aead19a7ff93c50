"""`textopt dispatch` and `textopt send`: send what is due, or one message now."""

from __future__ import annotations

import datetime as dt
import json
import time
from enum import IntEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.live import Live
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from textopt.campaigns.report import message_history
from textopt.campaigns.sends import enqueue_message
from textopt.cli.common import console, console_err, engine, parse_instant, print_json, session
from textopt.cli.display import human_instant, workspace_zone
from textopt.config import Settings, get_settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.dispatch.backlog import Backlog, outbox_backlog
from textopt.dispatch.worker import DispatchStats, run_dispatch
from textopt.errors import ValidationError
from textopt.metrics import Metrics, serve_metrics
from textopt.outbox.states import MessageStatus
from textopt.vocab import Purpose

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]

#: How often (seconds) the live status reads the outbox's waiting messages.
_BACKLOG_EVERY = 2.0


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


class _LiveStatus:
    """The status line of a running dispatcher: its counts, and what the outbox still holds.

    Rich redraws it from its own thread several times a second; the outbox is read at most
    every `_BACKLOG_EVERY` seconds so that the line costs the database next to nothing.
    """

    def __init__(self, db: Engine, zone: ZoneInfo) -> None:
        self.db = db
        self.zone = zone
        self.stats = DispatchStats()
        self._backlog: Backlog | None = None
        self._read_at = -_BACKLOG_EVERY

    def update(self, stats: DispatchStats) -> None:
        """Take the dispatcher's running totals (it passes the same object each time)."""
        self.stats = stats

    def backlog(self, *, fresh: bool = False) -> Backlog | None:
        """What is due and waiting, read again when older than a few seconds or if `fresh`."""
        if fresh or time.monotonic() - self._read_at >= _BACKLOG_EVERY:
            try:
                with session_scope(self.db) as s:
                    self._backlog = outbox_backlog(s, now=utcnow())
            except SQLAlchemyError:
                pass  # a busy database only delays the count; the next redraw reads it again
            self._read_at = time.monotonic()
        return self._backlog

    def line(self) -> str:
        """`sent 12 · failed 0 · 10 waiting until 08:00 CET`, as the terminal shows it."""
        stats = self.stats
        parts = [
            f"sent {stats.submitted:,}",
            f"receipts {stats.receipts:,}",
            f"replies in {stats.inbound:,}",
            f"failed {stats.failed:,}",
        ]
        if stats.expired:
            parts.append(f"expired {stats.expired:,}")
        parts.append(self._waiting(self.backlog()))
        return " · ".join(parts)

    def summary(self) -> str:
        """What a stopped dispatcher did and leaves: sent, failed, waiting, next send time."""
        stats = self.stats
        failed = f"{stats.failed:,} failed"
        if stats.expired:
            failed += f", {stats.expired:,} expired"
        waiting = self._waiting(self.backlog(fresh=True))
        return f"stopped: {stats.submitted:,} sent, {failed}, {waiting}"

    def _waiting(self, backlog: Backlog | None) -> str:
        if backlog is None:
            return "outbox not read yet"
        due = f"{backlog.due:,} due now" if backlog.due else ""
        if backlog.next_send_at is None:
            return due or "nothing due or waiting"
        until = human_instant(backlog.next_send_at, self.zone, seconds=False, now=utcnow())
        waiting = f"{backlog.waiting:,} waiting until {until}"
        return f"{due}, {waiting}" if due else waiting

    def __rich__(self) -> Text:
        """The line as Rich draws it."""
        return Text(self.line())


def _backlog_dict(backlog: Backlog | None) -> dict[str, Any]:
    if backlog is None:
        return {}
    return {"due": backlog.due, "waiting": backlog.waiting, "next_send_at": backlog.next_send_at}


def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when nothing is due and receipts are in")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", help="Workers per provider account")] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve Prometheus metrics over HTTP on this port (GET any path)",
            min=1,
            max=65535,
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host", help="Address of the metrics listener (no auth: keep it private)"
        ),
    ] = "127.0.0.1",
    as_json: JsonOption = False,
) -> None:
    """Send due messages through the configured providers (Ctrl-C stops cleanly).

    The status line says what was sent and what waits until when, in the workspace's time
    zone; stopped, it prints what was sent and failed, what waits and the next send time.
    """
    if workers < 1:
        raise ValidationError("--workers must be at least 1", field="workers")
    settings = get_settings()
    db = engine()
    metrics = Metrics.for_engine(db) if metrics_port is not None else None
    listener = (
        serve_metrics(metrics, host=metrics_host, port=metrics_port)
        if metrics is not None and metrics_port is not None
        else None
    )
    try:
        _dispatch(db, settings, workers=workers, once=once, as_json=as_json, metrics=metrics)
    finally:
        if listener is not None:
            listener.close()


def _dispatch(
    db: Engine,
    settings: Settings,
    *,
    workers: int,
    once: bool,
    as_json: bool,
    metrics: Metrics | None,
) -> None:
    """Run the dispatcher with its live status line, or its JSON summary at the end."""
    status = _LiveStatus(db, workspace_zone())
    stopped = False
    if as_json:
        try:
            status.update(
                run_dispatch(
                    db, settings, workers=workers, once=once, webhooks=True, metrics=metrics
                )
            )
        except KeyboardInterrupt:
            stopped = True
        backlog = _backlog_dict(status.backlog(fresh=True))
        print_json({**_stats_dict(status.stats), **backlog, "stopped": stopped})
        return
    with Live(status, console=console_err, refresh_per_second=4, transient=False):
        try:
            status.update(
                run_dispatch(
                    db,
                    settings,
                    workers=workers,
                    once=once,
                    progress=status.update,
                    webhooks=True,
                    metrics=metrics,
                )
            )
        except KeyboardInterrupt:
            stopped = True
    if stopped:
        console_err.print(status.summary(), highlight=False)


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
    asks: Annotated[
        str | None,
        typer.Option(
            "--asks",
            help="The question it asks, answered by reply (appointment: OUI/ANNULER, YES/NO…); "
            "the recipient must be a contact",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="What it asks about: the appointment's id"),
    ] = None,
    answer_by: Annotated[
        str | None,
        typer.Option("--answer-by", help="Answers count until then (ISO 8601; default 72 h)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Send one message now through the same policy and outbox as campaigns.

    \b
    Exit codes (also with --json, whose "status" says the same):
      0  sent, or written to the outbox and due now (--queue-only)
      2  bad input or configuration: nothing was written
      3  not sent and never will be: blocked by the policy (the reason is printed)
      4  deferred: it waits in the outbox until its send time (printed)
      5  failed or expired at the provider
    """
    variables: dict[str, str] = {}
    for item in var or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"--var {item!r}: write name=value", field="var")
        variables[name.strip()] = value
    if asks is None and (reference is not None or answer_by is not None):
        raise ValidationError("--reference and --answer-by go with --asks", field="asks")
    deadline = parse_instant(answer_by, field="answer_by") if answer_by is not None else None
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
            asks=asks,
            asks_reference=reference,
            answer_by=deadline,
            now=utcnow(),
        )
        message_id, status = message.id, message.status
    if created and not queue_only and status == MessageStatus.PLANNED:
        run_dispatch(engine(), settings, once=True, only_ids=[message_id])
    with session() as s:
        data = message_history(s, message_id=message_id)
    data["created"] = created
    outcome = send_outcome(data, now=utcnow(), queue_only=queue_only)
    if as_json:
        print_json(data)
    else:
        note = "" if created else " (already sent with this idempotency key)"
        console.print(f"message {message_id}: [bold]{data['status']}[/]{note}")
        if outcome == SendOutcome.DEFERRED and data["send_at"]:
            until = human_instant(data["send_at"], workspace_zone(), seconds=False)
            console.print(f"  waits in the outbox until {until}", highlight=False)
        if data["reason_text"] and data["status"] in ("blocked", "planned"):
            console.print(f"  {data['reason_text']}", highlight=False)
    # SystemExit, not typer.Exit: main() runs click with standalone_mode=False (cli/message.py)
    if outcome != SendOutcome.SENT:
        raise SystemExit(outcome)


class SendOutcome(IntEnum):
    """The exit code of `textopt send`: what became of the message (see its --help)."""

    SENT = 0  # handed to the provider, or in the outbox and due now (--queue-only)
    BLOCKED = 3  # the policy refused it (or it was cancelled): it will never go
    DEFERRED = 4  # it waits for its send time (quiet hours, a cap) or a retry
    FAILED = 5  # the provider or the network refused it for good, or it expired


def send_outcome(data: dict[str, Any], *, now: dt.datetime, queue_only: bool) -> SendOutcome:
    """What a one-off message's state means for the sender, from `message_history`'s fields."""
    status = MessageStatus(data["status"])
    if status in (MessageStatus.BLOCKED, MessageStatus.CANCELLED):
        return SendOutcome.BLOCKED
    if status in (MessageStatus.FAILED, MessageStatus.EXPIRED):
        return SendOutcome.FAILED
    if status in (MessageStatus.PLANNED, MessageStatus.QUEUED):
        send_at = data["send_at"]
        later = send_at is not None and dt.datetime.fromisoformat(send_at) > now
        # due now and left to a dispatcher (--queue-only) is what was asked; anything else
        # still in the outbox waits: for its send time, or for a retry
        if later or status == MessageStatus.QUEUED or not queue_only:
            return SendOutcome.DEFERRED
    return SendOutcome.SENT


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
    sizes = [f"{data['segments']} segment(s)", data["encoding"]]
    line = " ".join(str(part) for part in sizes if part) + f", {data['cost']} {data['currency']}"
    if data["provider"]:  # absent until a provider account is chosen: said by leaving it out
        line += f", provider {data['provider']} {data['provider_message_id'] or ''}".rstrip()
    console.print(f"  {line}", highlight=False)
    if data["status"] in ("planned", "queued") and data["send_at"]:
        console.print(f"  send time: {human_instant(data['send_at'])}", highlight=False)
    console.print(f"  text: {data['body']}", highlight=False)
    zone = workspace_zone()
    for event in data["events"]:
        detail = json.dumps(event["detail"], ensure_ascii=False) if event["detail"] else ""
        at = human_instant(event["at"], zone)
        console.print(f"  {at}  {event['status']:<10} {detail}", highlight=False)
