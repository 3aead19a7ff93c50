"""Campaign state changes: pause, resume, cancel, and the dispatcher's start and completion."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from textopt.campaigns.models import Campaign, CampaignStatus, check_campaign_transition
from textopt.outbox.models import Message, MessageEvent, status_in
from textopt.outbox.states import MessageStatus
from textopt.webhooks.models import WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = [
    "cancel_campaign",
    "complete_finished_campaigns",
    "pause_campaign",
    "resume_campaign",
    "set_campaign_status",
    "start_due_campaigns",
]

_OPEN = (MessageStatus.PLANNED, MessageStatus.QUEUED, MessageStatus.SENDING)


def set_campaign_status(
    campaign: Campaign, status: CampaignStatus, *, now: dt.datetime
) -> Campaign:
    """Move a campaign to `status` if its transition table allows it."""
    check_campaign_transition(campaign.status, status)
    campaign.status = status
    campaign.updated_at = now
    if status == CampaignStatus.COMPLETED:
        campaign.completed_at = now
    return campaign


def pause_campaign(session: Session, *, campaign: Campaign, now: dt.datetime) -> Campaign:
    """Stop claiming the campaign's messages (within one claim cycle); nothing is lost."""
    return set_campaign_status(campaign, CampaignStatus.PAUSED, now=now)


def resume_campaign(session: Session, *, campaign: Campaign, now: dt.datetime) -> Campaign:
    """Claim the campaign's messages again from where they were."""
    future = campaign.send_at is not None and campaign.send_at > now
    status = CampaignStatus.SCHEDULED if future else CampaignStatus.RUNNING
    return set_campaign_status(campaign, status, now=now)


def cancel_campaign(session: Session, *, campaign: Campaign, now: dt.datetime) -> int:
    """Cancel the campaign and every message not yet handed to a worker; returns that count."""
    set_campaign_status(campaign, CampaignStatus.CANCELLED, now=now)
    ids = list(
        session.scalars(
            select(Message.id).where(
                Message.campaign_id == campaign.id,
                Message.status.in_([MessageStatus.PLANNED, MessageStatus.QUEUED]),
            )
        )
    )
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        session.execute(
            update(Message)
            .where(
                Message.id.in_(chunk),
                Message.status.in_([MessageStatus.PLANNED, MessageStatus.QUEUED]),
            )
            .values(
                status=MessageStatus.CANCELLED,
                reason="campaign_cancelled",
                reason_text="The campaign was cancelled before this message went out.",
                done_at=now,
            )
        )
        session.execute(
            insert(MessageEvent),
            [
                {"message_id": i, "at": now, "status": MessageStatus.CANCELLED, "detail": {}}
                for i in chunk
            ],
        )
    return len(ids)


def start_due_campaigns(session: Session, *, now: dt.datetime) -> int:
    """Scheduled campaigns whose start has come begin running."""
    result = session.execute(
        update(Campaign)
        .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.send_at <= now)
        .values(status=CampaignStatus.RUNNING, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def complete_finished_campaigns(session: Session, *, now: dt.datetime) -> int:
    """Running campaigns with nothing left to send become completed (and say so by webhook)."""
    # the states as literals: the open-messages index then answers without a scan
    pending = exists().where(Message.campaign_id == Campaign.id, status_in(*_OPEN))
    finished = list(
        session.execute(
            update(Campaign)
            .where(Campaign.status == CampaignStatus.RUNNING, ~pending)
            .values(status=CampaignStatus.COMPLETED, completed_at=now, updated_at=now)
            .returning(Campaign.id, Campaign.name)
            .execution_options(synchronize_session=False)
        )
    )
    emit_events(
        session,
        events=[
            (
                WebhookEvent.CAMPAIGN_COMPLETED,
                {"campaign_id": row.id, "name": row.name, "completed_at": now.isoformat()},
            )
            for row in finished
        ],
        now=now,
    )
    return len(finished)
