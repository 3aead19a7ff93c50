"""`textopt campaign`: create, edit, duplicate, delete, preview, launch, pause, resume, cancel,
report, why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from textopt.campaigns import commands, service
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning import PlanReport
from textopt.campaigns.report import campaign_report, explain_recipient
from textopt.campaigns.segments import count_audience
from textopt.cli import campaign_drafts
from textopt.cli.common import console, console_err, parse_instant, print_json, session
from textopt.cli.display import counted, human_instant, send_time_histogram
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.contacts.service import get_contact_by_phone_or_raise
from textopt.db.base import utcnow
from textopt.errors import ValidationError
from textopt.vocab import Purpose

app = typer.Typer(help="Campaigns: create, preview, launch and follow.", no_args_is_help=True)
app.command("edit")(campaign_drafts.edit)
app.command("duplicate")(campaign_drafts.duplicate)
app.command("delete")(campaign_drafts.delete)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
IdArgument = Annotated[int, typer.Argument(help="Campaign id")]


def _campaign_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "purpose": campaign.purpose,
        "channel": campaign.channel,
        "channels": campaign.channels,
        "brand_name": campaign.brand_name,
        "sender_id": campaign.sender_id,
        "template": campaign.template,
        "email_subject": campaign.email_subject,
        "email_template": campaign.email_template,
        "email_text_template": campaign.email_text_template,
        "email_from": campaign.email_from,
        "email_provider": campaign.email_provider,
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
    channels: Annotated[
        str,
        typer.Option("--channels", help="sms, email, both, sms-else-email or email-else-sms"),
    ] = "sms",
    email_template: Annotated[
        Path | None, typer.Option("--email-template", help="The email's HTML (Jinja2) file")
    ] = None,
    email_text: Annotated[
        Path | None,
        typer.Option("--email-text-template", help="The email's text part (else from the HTML)"),
    ] = None,
    email_subject: Annotated[
        str | None, typer.Option("--email-subject", help="The email's subject (a template)")
    ] = None,
    email_from: Annotated[
        str | None, typer.Option("--email-from", help="From address (default: the settings')")
    ] = None,
    email_provider: Annotated[
        str | None, typer.Option("--email-provider", help="Provider account for the email")
    ] = None,
    track_links: Annotated[
        bool, typer.Option("--track-links", help="Shorten URLs per recipient and count clicks")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a draft campaign (nothing is sent until `launch`)."""
    if text is not None and template_file is not None:
        raise ValidationError("give the SMS with --text or --template, not both")
    if text is None and template_file is None and channels != "email":
        raise ValidationError(
            "give the SMS with --text or --template (or use --channels email)", field="--text"
        )
    template = text if text is not None else _read(template_file, "--template")
    with session() as s:
        campaign = commands.create(
            s,
            actor=cli_actor(),
            settings=get_settings(),
            now=utcnow(),
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
            track_links=track_links,
            channels=channels,
            email_subject=email_subject,
            email_template=_read(email_template, "--email-template") or None,
            email_text_template=_read(email_text, "--email-text-template") or None,
            email_from=email_from,
            email_provider=email_provider,
        )
        data = _campaign_dict(campaign)
    if as_json:
        print_json(data)
    else:
        console.print(f"campaign {data['id']} created as a draft: {data['name']}")


def _read(path: Path | None, option: str) -> str:
    """A template file's text ("" without a file); a missing file is a clear error."""
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            f"{option}: cannot read {path}: {exc.strerror}", field=option
        ) from None


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
            human_instant(row["created_at"], seconds=False),
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
        if value is None:
            continue  # an absent setting says nothing
        shown = human_instant(value) if isinstance(value, dt.datetime) else value
        console.print(f"[bold]{key}[/]: {shown}", highlight=False)


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
    console.print(
        f"start {human_instant(data['start'], seconds=False)}, "
        f"expires {human_instant(data['expires_at'], seconds=False)}",
        highlight=False,
    )
    if data["first_send_at"]:
        console.print(
            f"first send {human_instant(data['first_send_at'], seconds=False)}, "
            f"last send {human_instant(data['last_send_at'], seconds=False)}",
            highlight=False,
        )
    else:
        console.print("[red]nothing would be sent[/]: a launch is refused", highlight=False)
    if len(data["channels"]) > 1:
        _print_channels(data)
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
        console.print(
            send_time_histogram(
                data["send_times_by_local_hour"],
                title="send times by hour, in the recipients' local time",
            )
        )
    if data["worst_message"]:
        worst = data["worst_message"]
        console.print(f"worst case ({counted(worst['segments'], 'segment')}, {worst['encoding']}):")
        console.print(f"  {worst['text']}", highlight=False)
    if data["throughput_segments_per_second"]:
        console.print(
            f"estimated sending time: {data['estimated_duration_seconds']} s at "
            f"{data['throughput_segments_per_second']} segments/s"
        )
    for problem, count in data["template_problems"].items():
        console.print(f"[red]template problem[/]: {problem} ({count:,} recipients)")
    for day, count in data.get("planned_elsewhere", {}).items():
        console.print(
            f"[yellow]warning[/]: {count:,} people already have a marketing message planned on "
            f"{dt.date.fromisoformat(day):%a %d %b %Y}; the frequency cap will hold this one "
            "back for them",
            highlight=False,
        )


def _print_channels(data: dict[str, Any]) -> None:
    """Each channel's audience, exclusions and cost side by side."""
    channels = data["channels"]
    console.print(
        f"channels {data['channel_rule']}: {data['reached']:,} of {data['audience']:,} "
        "contacts reached",
        highlight=False,
    )
    table = Table(title="channels side by side")
    table.add_column("")
    for name in channels:
        table.add_column(name, justify="right")
    rows: list[tuple[str, str]] = [
        ("decided for", "audience"),
        ("to send", "planned"),
        ("at the start", "send_now"),
    ]
    for label, key in rows:
        table.add_row(label, *(f"{c[key]:,}" for c in channels.values()))
    for kind, title in (("deferred", "deferred"), ("blocked", "excluded")):
        reasons = sorted({r for c in channels.values() for r in c[kind]})
        for reason in reasons:
            table.add_row(
                f"{title}: {reason}", *(f"{c[kind].get(reason, 0):,}" for c in channels.values())
            )
    table.add_row("segments or emails", *(f"{c['segments']:,}" for c in channels.values()))
    table.add_row("cost", *(f"{c['cost']} {c['currency']}" for c in channels.values()))
    console.print(table)


def _plan(campaign_id: int, *, launch: bool) -> tuple[PlanReport, str]:
    """Preview or launch with a progress bar; a launch is audited, a preview writes nothing."""
    settings = get_settings()
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        total = count_audience(s, filter=campaign.audience_filter, now=now)
        if launch:
            done: commands.Launched = _progress_run(
                total,
                "planning",
                lambda step: commands.launch(
                    s,
                    campaign_id=campaign_id,
                    actor=cli_actor(),
                    settings=settings,
                    now=now,
                    progress=step,
                ),
            )
            return done.report, done.campaign.status
        report = _progress_run(
            total,
            "previewing",
            lambda step: service.preview(
                s, campaign=campaign, settings=settings, now=now, progress=step
            ),
        )
        s.rollback()
        return report, campaign.status


@app.command("preview")
def preview(campaign_id: IdArgument, as_json: JsonOption = False) -> None:
    """What launching would do: exclusions, deferrals, send times, segments, cost."""
    report, _ = _plan(campaign_id, launch=False)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_plan(report, title=f"preview of campaign {campaign_id}")


def _confirm_launch(campaign_id: int, *, as_json: bool) -> None:
    """Show what the launch will do and ask; refuse at once when nothing would be sent."""
    settings = get_settings()
    now = utcnow()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        if campaign.status != "draft":
            return  # the launch itself says why it cannot
        total = count_audience(s, filter=campaign.audience_filter, now=now)
        report = _progress_run(
            total,
            "previewing",
            lambda step: service.preview(
                s, campaign=campaign, settings=settings, now=now, progress=step
            ),
        )
        for problem, count in report.template_problems.items():
            console_err.print(f"[red]template problem[/]: {problem} ({count:,} recipients)")
        refusal = commands.nothing_to_send(report)
        if refusal is not None:
            raise refusal
        lines = campaign_drafts.launch_summary(s, campaign=campaign, report=report)
        s.rollback()
    out = console_err if as_json else console
    for line in lines:
        out.print(line, highlight=False)
    typer.confirm(f"Launch campaign {campaign_id}?", abort=True, err=as_json)


@app.command("launch")
def launch(
    campaign_id: IdArgument,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Launch without showing the summary and asking")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show recipients, cost and send times, ask, then plan every recipient into the outbox
    and start (or schedule) the campaign; refused when nothing would be sent."""
    if not yes:
        _confirm_launch(campaign_id, as_json=as_json)
    report, status = _plan(campaign_id, launch=True)
    if as_json:
        print_json({**report.to_dict(), "status": status})
    else:
        _print_plan(report, title=f"campaign {campaign_id} {status}")
        console.print("run `textopt dispatch` to send")


def _transition(campaign_id: int, action: str, as_json: bool) -> None:
    now, actor = utcnow(), cli_actor()
    cancelled = None
    with session() as s:
        if action == "pause":
            campaign = commands.pause(s, campaign_id=campaign_id, actor=actor, now=now)
        elif action == "resume":
            campaign = commands.resume(s, campaign_id=campaign_id, actor=actor, now=now)
        else:
            done = commands.cancel(s, campaign_id=campaign_id, actor=actor, now=now)
            campaign, cancelled = done.campaign, done.messages_cancelled
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
    if len(data["channels"]) > 1:
        _print_report_channels(data)
    for key in (
        "by_status",
        "blocked_by_reason",
        "deferred_by_reason",
        "failed_by_code",
        "unknown_by_reason",
    ):
        if data[key]:
            table = Table(title=key.replace("_", " "))
            table.add_column("")
            table.add_column("messages", justify="right")
            for name, count in data[key].items():
                table.add_row(name, f"{count:,}")
            console.print(table)


def _print_report_channels(data: dict[str, Any]) -> None:
    """The report's counts per channel, side by side."""
    channels = data["channels"]
    table = Table(title=f"channels side by side ({data['channel_rule']})")
    table.add_column("")
    for name in channels:
        table.add_column(name, justify="right")
    for key in ("messages", "sent", "delivered", "waiting", "expired", "opt_outs_after_launch"):
        table.add_row(key.replace("_", " "), *(f"{c[key]:,}" for c in channels.values()))
    for group, title in (
        ("blocked_by_reason", "excluded"),
        ("deferred_by_reason", "deferred"),
        ("failed_by_code", "failed"),
    ):
        for reason in sorted({r for c in channels.values() for r in c[group]}):
            table.add_row(
                f"{title}: {reason}", *(f"{c[group].get(reason, 0):,}" for c in channels.values())
            )
    table.add_row("cost sent", *(f"{c['cost_sent']} {data['currency']}" for c in channels.values()))
    console.print(table)


@app.command("why")
def why(campaign_id: IdArgument, phone: str, as_json: JsonOption = False) -> None:
    """Why a recipient was (or was not) sent this campaign: the decision and its trace."""
    now = utcnow()
    settings = get_settings()
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        contact = get_contact_by_phone_or_raise(
            s, phone=phone, default_region=settings.default_region
        )
        data = explain_recipient(s, campaign=campaign, contact=contact, settings=settings, now=now)
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
