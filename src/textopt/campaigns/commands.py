"""The campaign commands every face offers: create, launch, pause, resume, cancel, audited.

The dashboard, the API and the CLI call these with their actor and only translate the
outcome; the audit entry is written here, in the caller's transaction, so it exists if and
only if the change does, and reads the same whichever face made it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.campaigns import service
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning.report import PlanReport
from textopt.config import Settings

__all__ = ["Cancelled", "Launched", "cancel", "create", "launch", "pause", "resume"]


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


def create(session: Session, *, actor: Actor, settings: Settings, **fields: Any) -> Campaign:
    """Create a draft (every mistake reported now, see `service.create_campaign`), audited."""
    if not actor.operator:
        actor.require(Scope.WRITE)
    campaign = service.create_campaign(session, settings=settings, **fields)
    _audit(session, actor, campaign, "campaign.created")
    return campaign


def launch(
    session: Session,
    *,
    campaign_id: int,
    actor: Actor,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> Launched:
    """Plan the draft's recipients into the outbox, start or schedule it, and audit it."""
    _allowed(actor)
    campaign = service.get_campaign_or_raise(session, campaign_id=campaign_id)
    report = service.launch(
        session, campaign=campaign, settings=settings, now=now, progress=progress
    )
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


def _audit(session: Session, actor: Actor, campaign: Campaign, action: str, **detail: int) -> None:
    # The status after the change is part of every entry: a launch may start or schedule.
    record_audit(
        session,
        actor=actor,
        action=action,
        target_type="campaign",
        target_id=campaign.id,
        detail={**detail, "status": str(campaign.status)},
    )
