"""Campaign reports and the "why not Alice?" explanation for one recipient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.campaigns.models import Campaign, ChannelRule
from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentEvent
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact
from textopt.dispatch.listing import message_fields
from textopt.eligibility import COUNTED_PLANNED, read_policy_inputs, workspace_policy
from textopt.errors import NotFoundError
from textopt.links.service import clicks_by_campaign
from textopt.outbox.history import history_of
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.policy import MessageFacts, decide
from textopt.vocab import Channel, Purpose

__all__ = ["campaign_report", "explain_recipient", "message_history"]

_MICROS = Decimal(1_000_000)


def campaign_report(session: Session, *, campaign: Campaign) -> dict[str, Any]:
    """Counts by state and reason, failures by provider code, opt-outs, segments and cost.

    The totals cover every channel; `channels` holds each channel's own counts side by side.
    """
    rule = ChannelRule(campaign.channels)
    totals = _counts(session, campaign=campaign, channel=None)
    currency = (
        session.scalar(select(Message.currency).where(Message.campaign_id == campaign.id).limit(1))
        or "EUR"
    )
    return {
        "campaign": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "channel_rule": str(rule),
        **totals,
        "currency": currency,
        "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
        "completed_at": campaign.completed_at.isoformat() if campaign.completed_at else None,
        "channels": {
            str(channel): _counts(session, campaign=campaign, channel=channel)
            for channel in rule.channels
        },
    }


def _counts(session: Session, *, campaign: Campaign, channel: Channel | None) -> dict[str, Any]:
    """The report's counts over one channel of the campaign (None: every channel)."""
    cid = campaign.id
    mine = [Message.campaign_id == cid]
    if channel is not None:
        mine.append(Message.channel == channel)

    def grouped(column: Any, *where: Any) -> dict[Any, int]:
        query = select(column, func.count()).where(*mine, *where).group_by(column)
        return {key: count for key, count in session.execute(query)}  # noqa: C416 (typed rows)

    by_status = grouped(Message.status)
    # `|| ''`: the campaign's rows through its own index, never a status index that would
    # read every blocked or failed message of the outbox
    status = Message.status.concat("")
    blocked = grouped(Message.reason, status == MessageStatus.BLOCKED)
    deferred = grouped(Message.reason, Message.deferred.is_(True))
    failures = grouped(
        func.coalesce(Message.error_code, Message.reason), status == MessageStatus.FAILED
    )
    # sent, outcome not known: no receipt in time, a receipt that confirms nothing, a crash
    unknown = grouped(Message.reason, status == MessageStatus.UNKNOWN)
    sent_filter = (*mine, Message.submitted_at.is_not(None))
    sent, segments, cost = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Message.segments), 0),
            func.coalesce(func.sum(Message.cost_micros), 0),
        ).where(*sent_filter)
    ).one()
    planned_segments, planned_cost = session.execute(
        select(
            func.coalesce(func.sum(Message.segments), 0),
            func.coalesce(func.sum(Message.cost_micros), 0),
        ).where(*mine, Message.status != MessageStatus.BLOCKED)
    ).one()
    opt_outs = 0
    if campaign.launched_at is not None:
        # An opt-out counts on the channel it was made on, after a message of that channel.
        channels = (
            [channel] if channel is not None else list(ChannelRule(campaign.channels).channels)
        )
        opt_outs = int(
            session.scalar(
                select(func.count(func.distinct(ConsentEvent.contact_id))).where(
                    ConsentEvent.action == ConsentAction.REVOKED,
                    ConsentEvent.channel.in_([str(c) for c in channels]),
                    ConsentEvent.purpose == Purpose.MARKETING,
                    ConsentEvent.occurred_at >= campaign.launched_at,
                    ConsentEvent.contact_id.in_(
                        select(Message.contact_id).where(
                            *sent_filter, Message.channel == ConsentEvent.channel
                        )
                    ),
                )
            )
            or 0
        )
    return {
        "messages": sum(by_status.values()),
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
        "blocked_by_reason": {str(k): v for k, v in sorted(blocked.items())},
        "deferred_by_reason": {str(k): v for k, v in sorted(deferred.items())},
        "sent": int(sent),
        "delivered": by_status.get(MessageStatus.DELIVERED, 0),
        "failed_by_code": {str(k): v for k, v in sorted(failures.items())},
        "expired": by_status.get(MessageStatus.EXPIRED, 0),
        "unknown": by_status.get(MessageStatus.UNKNOWN, 0),
        "unknown_by_reason": {str(k): v for k, v in sorted(unknown.items())},
        "waiting": by_status.get(MessageStatus.PLANNED, 0) + by_status.get(MessageStatus.QUEUED, 0),
        "opt_outs_after_launch": opt_outs,
        "clicks": clicks_by_campaign(session, campaign_id=cid).to_dict(),
        "segments_sent": int(segments),
        "cost_sent": str(Decimal(int(cost)) / _MICROS),
        "segments_planned": int(planned_segments),
        "cost_planned": str(Decimal(int(planned_cost)) / _MICROS),
    }


def message_history(session: Session, *, message_id: int) -> dict[str, Any]:
    """One message with every state it went through and every receipt (its event rows and
    the steps its row holds, `outbox.history`)."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError(f"no message with id {message_id}")
    return {**message_fields(message), "events": history_of(session, message=message)}


def explain_recipient(
    session: Session,
    *,
    campaign: Campaign,
    contact: Contact,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    """The stored decision for one recipient, and the policy's full trace evaluated now.

    The top-level decision is the primary channel's; `channels` has one per channel.
    """
    rule = ChannelRule(campaign.channels)
    channels = {
        str(channel): _explain_channel(
            session, campaign=campaign, contact=contact, channel=channel, settings=settings, now=now
        )
        for channel in rule.channels
    }
    primary = channels[str(rule.primary)]
    return {
        "campaign": campaign.id,
        "contact": contact.id,
        "phone": contact.phone,
        "email": contact.email,
        "in_audience": any(c["stored_decision"] is not None for c in channels.values()),
        "stored_decision": primary["stored_decision"],
        "evaluated_now": primary["evaluated_now"],
        "channels": channels,
    }


def _explain_channel(
    session: Session,
    *,
    campaign: Campaign,
    contact: Contact,
    channel: Channel,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    message = session.scalars(
        select(Message).where(
            Message.campaign_id == campaign.id,
            Message.contact_id == contact.id,
            Message.channel == channel,
        )
    ).first()
    recipient = read_policy_inputs(
        session,
        contacts=[contact],
        channel=channel,
        now=now,
        digest=address_digester(settings.resolved_secret_key()),
        counted=COUNTED_PLANNED,  # the facts planning decided on (`decisions.md`)
        exclude_message_ids={message.id} if message else (),
    )[contact.id]
    decision = decide(
        recipient.facts,
        MessageFacts(
            channel=channel,
            purpose=Purpose(campaign.purpose),
            sender_id=campaign.sender_id if channel == Channel.SMS else None,
            expires_at=message.expires_at if message else campaign.expires_at,
        ),
        now,
        recipient.history,
        workspace_policy(settings),
    )
    stored = None
    if message is not None:
        stored = {
            "message": message.id,
            "status": message.status,
            "reason": message.reason,
            "sentence": message.reason_text,
            "decided_at": message.decided_at.isoformat(),
            "send_at": message.send_at.isoformat() if message.send_at else None,
        }
    return {"stored_decision": stored, "evaluated_now": decision.as_dict()}
