"""`textopt campaign edit / duplicate / delete`, and the summary a launch asks to confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from textopt.campaigns import commands, service
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning import PlanReport
from textopt.campaigns.segments import get_segment
from textopt.cli.common import console, parse_instant, print_json, session
from textopt.cli.display import human_instant
from textopt.cli.users import cli_actor
from textopt.config import get_settings
from textopt.db.base import utcnow
from textopt.errors import ValidationError

__all__ = ["delete", "duplicate", "edit", "launch_summary"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
IdArgument = Annotated[int, typer.Argument(help="Campaign id")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")]


def _short(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "template": campaign.template,
        "audience": campaign.audience_filter,
        "segment_id": campaign.segment_id,
        "send_at": campaign.send_at,
    }


def edit(
    campaign_id: IdArgument,
    name: Annotated[str | None, typer.Option("--name", help="New name")] = None,
    text: Annotated[str | None, typer.Option("--text", help="New message template")] = None,
    template_file: Annotated[
        Path | None, typer.Option("--template", help="Read the new template from a file")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Saved segment")] = None,
    audience: Annotated[str | None, typer.Option("--audience", help="Filter")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand named in the text")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="Sender ID")] = None,
    send_at: Annotated[str | None, typer.Option("--send-at", help="Start (ISO 8601)")] = None,
    validity: Annotated[
        int | None, typer.Option("--validity-hours", help="Expiry after the start, in hours")
    ] = None,
    smart: Annotated[
        bool | None,
        typer.Option("--smart-encoding/--no-smart-encoding", help="Replace look-alikes"),
    ] = None,
    track_links: Annotated[
        bool | None, typer.Option("--track-links/--no-track-links", help="Count clicks")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a draft: only the options given change; validated as at `create`."""
    if text is not None and template_file is not None:
        raise ValidationError("give the SMS with --text or --template, not both")
    if segment is not None and audience is not None:
        raise ValidationError("give --segment or --audience, not both", field="--segment")
    if template_file is not None:
        try:
            text = template_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(
                f"--template: cannot read {template_file}: {exc.strerror}", field="--template"
            ) from None
    given: dict[str, Any] = {
        "name": name,
        "template": text,
        "segment": segment,
        "audience": audience,
        "brand_name": brand,
        "sender_id": sender,
        "send_at": parse_instant(send_at, field="--send-at") if send_at else None,
        "validity_hours": validity,
        "smart_encoding": smart,
        "track_links": track_links,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    if not changes:
        raise ValidationError("nothing to change: give at least one option (see --help)")
    with session() as s:
        campaign = commands.edit(
            s,
            campaign_id=campaign_id,
            actor=cli_actor(),
            settings=get_settings(),
            now=utcnow(),
            changes=changes,
        )
        data = _short(campaign)
    if as_json:
        print_json(data)
    else:
        changed = ", ".join(sorted(changes))
        console.print(f"draft {campaign_id} changed ({changed})", highlight=False)


def duplicate(
    campaign_id: IdArgument,
    name: Annotated[str | None, typer.Option("--name", help="The new draft's name")] = None,
    as_json: JsonOption = False,
) -> None:
    """Copy any campaign (message, audience, settings) into a new draft."""
    with session() as s:
        copy = commands.duplicate(
            s,
            campaign_id=campaign_id,
            actor=cli_actor(),
            settings=get_settings(),
            now=utcnow(),
            name=name,
        )
        data = _short(copy)
    if as_json:
        print_json(data)
    else:
        console.print(
            f"campaign {data['id']} created as a draft from campaign {campaign_id}: {data['name']}",
            highlight=False,
        )


def delete(campaign_id: IdArgument, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Delete a draft for good (a launched campaign is cancelled instead)."""
    with session() as s:
        campaign = service.get_campaign_or_raise(s, campaign_id=campaign_id)
        name = campaign.name
    if not yes:
        typer.confirm(f'Delete the draft {campaign_id} "{name}" for good?', abort=True, err=True)
    with session() as s:
        commands.delete(s, campaign_id=campaign_id, actor=cli_actor())
    if as_json:
        print_json({"id": campaign_id, "deleted": True})
    else:
        console.print(f'draft {campaign_id} "{name}" deleted', highlight=False)


def _counted(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def launch_summary(s: Session, *, campaign: Campaign, report: PlanReport) -> list[str]:
    """What a launch will do: recipients, audience, SMS segments, cost, first and last send."""
    data = report.to_dict()
    saved = get_segment(s, name_or_id=campaign.segment_id) if campaign.segment_id else None
    audience = (
        f"segment {saved.name} ({saved.filter})"
        if saved is not None
        else f"the filter {campaign.audience_filter}"
    )
    duration = data["estimated_duration_seconds"]
    return [
        f'campaign {campaign.id} "{campaign.name}": '
        f"{_counted(report.audience, 'recipient')} in {audience}",
        f"  {_counted(report.planned, 'message')} to send ({report.send_now:,} at the start, "
        f"{sum(report.deferred.values()):,} deferred), "
        f"{sum(report.blocked.values()):,} excluded",
        f"  {_counted(report.segments, 'SMS segment')}, "
        f"estimated cost {data['cost']} {report.currency}",
        f"  first send {human_instant(report.first_send, seconds=False)}, "
        f"last send {human_instant(report.last_send, seconds=False)}"
        + (f" (then about {duration:,.0f} s at the account's rate)" if duration else ""),
    ]
