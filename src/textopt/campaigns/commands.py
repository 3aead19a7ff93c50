"""The campaign commands every face offers, audited: create, edit, duplicate, delete,
launch, pause, resume, cancel.

The dashboard, the API and the CLI call these with their actor and only translate the
outcome; the audit entry is written here, in the caller's transaction, so it exists if and
only if the change does, and reads the same whichever face made it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.campaigns import drafts, service
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning.report import PlanReport
from textopt.config import Settings
from textopt.errors import NothingToSend

__all__ = [
    "Cancelled",
    "Launched",
    "cancel",
    "create",
    "delete",
    "duplicate",
    "edit",
    "launch",
    "nothing_to_send",
    "pause",
    "resume",
]


@dataclass(frozen=True, slots=True)
class Launched:
    """A launched campaign (now running or scheduled) and what its planning wrote."""

    campaign: Campaign
    report: PlanReport


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A cancelled campaign and how many of its unsent messages were cancelled with it."""

    campaign: Campaign
    messages_cancelled: int


def _allowed(actor: Actor) -> None:
    # The faces check the permission before reading the request; this guards other callers.
    if not actor.operator:
        actor.require(Scope.LAUNCH)


def _may_write(actor: Actor) -> None:
    if not actor.operator:
        actor.require(Scope.WRITE)


def create(
    session: Session, *, actor: Actor, settings: Settings, now: dt.datetime, **fields: Any
) -> Campaign:
    """Create a draft (every mistake reported now, see `service.build_campaign`, and a
    template failing for the audience's first contacts refused), audited."""
    _may_write(actor)
    campaign = service.create_campaign(session, settings=settings, **fields)
    drafts.check_template_on_samples(session, campaign=campaign, now=now)
    _audit(session, actor, campaign, "campaign.created")
    return campaign


def edit(
    session: Session,
    *,
    campaign_id: int,
    actor: Actor,
    settings: Settings,
    now: dt.datetime,
    changes: Mapping[str, Any],
) -> Campaign:
    """Change a draft, validated as at creation (template tried on the first contacts too),
    and audit which fields changed."""
    _may_write(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    drafts.update_draft(session, campaign=campaign, settings=settings, changes=changes)
    drafts.check_template_on_samples(session, campaign=campaign, now=now)
    _audit(session, actor, campaign, "campaign.edited", fields=sorted(changes))
    return campaign


def duplicate(
    session: Session,
    *,
    campaign_id: int,
    actor: Actor,
    settings: Settings,
    now: dt.datetime,
    name: str | None = None,
) -> Campaign:
    """A new draft copied from any campaign, audited on the copy with its origin."""
    _may_write(actor)
    original = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    copy = drafts.duplicate_campaign(
        session, campaign=original, settings=settings, now=now, name=name
    )
    _audit(session, actor, copy, "campaign.duplicated", copied_from=original.id)
    return copy


def delete(session: Session, *, campaign_id: int, actor: Actor) -> None:
    """Delete a draft for good, audited (the entry keeps its id and name)."""
    _may_write(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    _audit(session, actor, campaign, "campaign.deleted", name=campaign.name)
    drafts.delete_draft(session, campaign=campaign)


def nothing_to_send(report: PlanReport) -> NothingToSend | None:
    """The refusal of a launch whose plan sends no message (None when some would go)."""
    if report.planned:
        return None
    if not report.audience:
        return NothingToSend("nothing would be sent: the audience is empty", field="audience")
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in report.blocked.most_common())
    return NothingToSend(
        f"nothing would be sent: all {report.audience:,} of the audience are excluded"
        + (f" ({reasons})" if reasons else ""),
        field="audience",
    )


def launch(
    session: Session,
    *,
    campaign_id: int,
    actor: Actor,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> Launched:
    """Plan the draft's recipients into the outbox, start or schedule it, and audit it;
    refused (NothingToSend) when no message would go out."""
    _allowed(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    report = service.launch(
        session, campaign=campaign, settings=settings, now=now, progress=progress
    )
    refusal = nothing_to_send(report)
    if refusal is not None:
        raise refusal  # the caller's transaction drops what planning wrote
    _audit(session, actor, campaign, "campaign.launched", planned=report.planned)
    return Launched(campaign, report)


def pause(session: Session, *, campaign_id: int, actor: Actor, now: dt.datetime) -> Campaign:
    """Stop sending the campaign (nothing is lost) and audit it."""
    _allowed(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    service.pause(session, campaign=campaign, now=now)
    _audit(session, actor, campaign, "campaign.paused")
    return campaign


def resume(session: Session, *, campaign_id: int, actor: Actor, now: dt.datetime) -> Campaign:
    """Continue a paused campaign where it stopped and audit it."""
    _allowed(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    service.resume(session, campaign=campaign, now=now)
    _audit(session, actor, campaign, "campaign.resumed")
    return campaign


def cancel(session: Session, *, campaign_id: int, actor: Actor, now: dt.datetime) -> Cancelled:
    """Cancel the campaign and its unsent messages for good, and audit it."""
    _allowed(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    count = service.cancel(session, campaign=campaign, now=now)
    _audit(session, actor, campaign, "campaign.cancelled", messages_cancelled=count)
    return Cancelled(campaign, count)


def _audit(
    session: Session, actor: Actor, campaign: Campaign, action: str, **detail: object
) -> None:
    # The status after the change is part of every entry: a launch may start or schedule.
    record_audit(
        session,
        actor=actor,
        action=action,
        target_type="campaign",
        target_id=campaign.id,
        detail={**detail, "status": str(campaign.status)},
    )
