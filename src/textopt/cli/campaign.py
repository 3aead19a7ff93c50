"""`textopt campaign`: create, preview, launch, pause, resume, cancel, report, why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from textopt.campaigns import service
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning import PlanReport
from textopt.campaigns.report import campaign_report, explain_recipient
from textopt.campaigns.segments import count_audience
from textopt.cli.common import console, console_err, parse_instant, print_json, session
from textopt.config import get_settings
from textopt.contacts.service import get_contact_by_phone_or_raise
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.vocab import Purpose

app = typer.Typer(help="Campaigns: create, preview, launch and follow.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
IdArgument = Annotated[int, typer.Argument(help="Campaign id")]


def _campaign_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "purpose": campaign.purpose,
        "channel": campaign.channel,
        "brand_name": campaign.brand_name,
        "sender_id": campaign.sender_id,
        "template": campaign.template,
        "audience": campaign.audience_filter,
        "segment_id": campaign.segment_id,
        "send_at": campaign.send_at,
        "expires_at": campaign.expires_at,
        "validity_hours": campaign.validity_hours,
        "throughput": campaign.throughput,
        "provider": campaign.provider,
        "smart_encoding": campaign.smart_encoding,
        "created_at": campaign.created_at,
        "launched_at": campaign.launched_at,
        "completed_at": campaign.completed_at,
    }


@app.command("create")
def create(
    name: str,
    text: Annotated[str | None, typer.Option("--text", help="Message template")] = None,
    template_file: Annotated[
        Path | None, typer.Option("--template", help="Read the template from a file")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Saved segment")] = None,
    audience: Annotated[str | None, typer.Option("--audience", help="Filter")] = None,
    transactional: Annotated[
        bool, typer.Option("--transactional", help="Confirmations, reminders: no brand/STOP")
    ] = False,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand named in the text")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="Sender ID")] = None,
    send_at: Annotated[str | None, typer.Option("--send-at", help="Start (ISO 8601)")] = None,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="No message after this (ISO 8601)")
    ] = None,
    validity: Annotated[
        int, typer.Option("--validity-hours", help="Expiry after the start, in hours")
    ] = 24,
    throughput: Annotated[
        float | None, typer.Option("--throughput", help="Segments per second at most")
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Provider account")] = None,
    no_smart: Annotated[
        bool, typer.Option("--no-smart-encoding", help="Keep typographic characters")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a draft campaign (nothing is sent until `launch`)."""
    if (text is None) == (template_file is None):
        raise ValidationError("give the message with --text or --template (one of them)")
    template = text if text is not None else template_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    with session() as s:
        campaign = service.create_campaign(
            s,
            settings=get_settings(),
            name=name,
            template=template,
            purpose=Purpose.TRANSACTIONAL if transactional else Purpose.MARKETING,
            brand_name=brand,
            sender_id=sender,
            segment=segment,
            audience=audience,
            send_at=parse_instant(send_at, field="--send-at") if send_at else None,
            expires_at=parse_instant(expires_at, field="--expires-at") if expires_at else None,
            validity_hours=validity,
            throughput=throughput,
            provider=provider,
            smart_encoding=not no_smart,
        )
        data = _campaign_dict(campaign)
    if as_json:
        print_json(data)
    else:
        console.print(f"campaign {data['id']} created as a draft: {data['name']}")


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """The newest campaigns."""
    with session() as s:
        rows = [_campaign_dict(c) for c in service.list_campaigns(s)]
    if as_json:
        print_json(rows)
        return
    table = Table(title="campaigns")
    for column in ("id", "name", "status", "purpose", "audience", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["status"],
            row["purpose"],
            row["audience"],
            row["created_at"].isoformat(timespec="minutes"),
        )
    console.print(table)


@app.command("show")
def show(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """One campaign's settings."""
    with session() as s:
        data = _campaign_dict(service.get_campaign_or_raise(s, campaign_id=campaign_id))
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


def _progress_run(total: int, label: str, run: Any) -> Any:
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        return run(lambda n: bar.advance(task, n))


def _print_plan(report: PlanReport, *, title: str) -> None:
    data = report.to_dict()
    console.print(
        f"[bold]{title}[/] — audience {data['audience']:,}, "
        f"{data['planned']:,} to send ({data['send_now']:,} at the start, "
        f"{sum(data['deferred'].values()):,} deferred), "
        f"{sum(data['blocked'].values()):,} excluded",
        highlight=False,
    )
    console.print(f"start {data['start']}, expires {data['expires_at']}")
    for kind in ("blocked", "deferred"):
        if data[kind]:
            table = Table(title="excluded" if kind == "blocked" else "deferred")
            table.add_column("reason")
            table.add_column("messages", justify="right")
            for reason, count in data[kind].items():
                table.add_row(reason, f"{count:,}")
            console.print(table)
    costs = Table(title="segments and cost by country and encoding")
    for column in ("country/encoding", "messages", "segments", "cost"):
        costs.add_column(column, justify="right" if column != "country/encoding" else "left")
    for key, row in data["by_country"].items():
        costs.add_row(
            key, f"{row['messages']:,}", f"{row['segments']:,}", f"{row['cost']} {data['currency']}"
        )
    console.print(costs)
    console.print(
        f"total: {data['segments']:,} segments, {data['cost']} {data['currency']}; "
        f"smart encoding saves {data['smart_encoding_saving_segments']:,} segments"
    )
    if data["send_times_by_local_hour"]:
        hist = Table(title="send times by hour, in the recipients' local time")
        hist.add_column("day")
        hist.add_column("00 . . . 06 . . . 12 . . . 18 . . . 23")
        for day, hours in sorted(data["send_times_by_local_hour"].items()):
            peak = max(hours) or 1
            bars = "".join(" ▁▂▃▄▅▆▇█"[min(8, round(8 * h / peak))] if h else "·" for h in hours)
            hist.add_row(day, bars)
        console.print(hist)
    if data["worst_message"]:
        worst = data["worst_message"]
        console.print(f"worst case ({worst['segments']} segments, {worst['encoding']}):")
        console.print(f"  {worst['text']}", highlight=False)
    if data["throughput_segments_per_second"]:
        console.print(
            f"estimated sending time: {data['estimated_duration_seconds']} s at "
            f"{data['throughput_segments_per_second']} segments/s"
        )
    for problem, count in data["template_problems"].items():
        console.print(f"[red]template problem[/]: {problem} ({count:,} recipients)")


@app.command("preview")
def preview(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """What launching would do: exclusions, deferrals, send times, segments, cost."""
    settings = get_settings()
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        total = count_audience(s, filter=campaign.audience_filter, now=now)
        report = _progress_run(
            total,
            "previewing",
            lambda step: service.preview(
                s, campaign=campaign, settings=settings, now=now, progress=step
            ),
        )
        s.rollback()  # a preview writes nothing
    if as_json:
        print_json(report.to_dict())
    else:
        _print_plan(report, title=f"preview of campaign {campaign_id}")


@app.command("launch")
def launch(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Plan every recipient into the outbox and start (or schedule) the campaign."""
    settings = get_settings()
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        total = count_audience(s, filter=campaign.audience_filter, now=now)
        report = _progress_run(
            total,
            "planning",
            lambda step: service.launch(
                s, campaign=campaign, settings=settings, now=now, progress=step
            ),
        )
        status = campaign.status
    if as_json:
        print_json({**report.to_dict(), "status": status})
    else:
        _print_plan(report, title=f"campaign {campaign_id} {status}")
        console.print("run `textopt dispatch` to send")


def _transition(campaign_id: int, action: str, as_json: bool) -> None:
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        cancelled = None
        if action == "pause":
            service.pause(s, campaign=campaign, now=now)
        elif action == "resume":
            service.resume(s, campaign=campaign, now=now)
        else:
            cancelled = service.cancel(s, campaign=campaign, now=now)
        data: dict[str, Any] = {"id": campaign.id, "status": campaign.status}
        if cancelled is not None:
            data["messages_cancelled"] = cancelled
    if as_json:
        print_json(data)
    else:
        extra = f" ({cancelled} unsent messages cancelled)" if cancelled is not None else ""
        console.print(f"campaign {campaign_id} is {data['status']}{extra}")


@app.command("pause")
def pause(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Stop sending; nothing is lost."""
    _transition(campaign_id, "pause", as_json)


@app.command("resume")
def resume(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Continue a paused campaign without duplicates."""
    _transition(campaign_id, "resume", as_json)


@app.command("cancel")
def cancel(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Cancel the campaign and every message not yet sent."""
    _transition(campaign_id, "cancel", as_json)


@app.command("report")
def report(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """Planned, excluded, deferred, sent, delivered, failed, opt-outs, cost."""
    with session() as s:
        data = campaign_report(
            s, campaign=service.get_campaign_or_raise(s, campaign_id=campaign_id)
        )
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]campaign {data['campaign']}[/] {data['name']} ({data['status']})", highlight=False
    )
    summary = Table(show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    for key in (
        "messages",
        "sent",
        "delivered",
        "expired",
        "unknown",
        "waiting",
        "opt_outs_after_launch",
        "segments_sent",
    ):
        summary.add_row(key.replace("_", " "), f"{data[key]:,}")
    summary.add_row("cost sent", f"{data['cost_sent']} {data['currency']}")
    console.print(summary)
    for key in ("by_status", "blocked_by_reason", "deferred_by_reason", "failed_by_code"):
        if data[key]:
            table = Table(title=key.replace("_", " "))
            table.add_column("")
            table.add_column("messages", justify="right")
            for name, count in data[key].items():
                table.add_row(name, f"{count:,}")
            console.print(table)


@app.command("why")
def why(campaign_id: IdArgument, phone: str, as_json: JsonOption = False) -> None:
    """Why a recipient was (or was not) sent this campaign: the decision and its trace."""
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        contact = get_contact_by_phone_or_raise(s, phone=phone)
        data = explain_recipient(
            s, campaign=campaign, contact=contact, settings=get_settings(), now=now
        )
    if as_json:
        print_json(data)
        return
    stored = data["stored_decision"]
    if stored is None:
        console.print(f"{data['phone']} is not among the recipients of campaign {campaign_id}")
    else:
        console.print(
            f"message {stored['message']}: [bold]{stored['status']}[/]"
            f"{' (' + stored['reason'] + ')' if stored['reason'] else ''}"
        )
        console.print(f"  {stored['sentence']}", highlight=False)
    now_decision = data["evaluated_now"]
    table = Table(title=f"the rules evaluated now: {now_decision['decision']}")
    for column in ("rule", "outcome", "detail"):
        table.add_column(column)
    for entry in now_decision["trace"]:
        table.add_row(entry["rule"], entry["outcome"], entry["detail"])
    console.print(table)
