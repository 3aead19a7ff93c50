"""Campaign reports and the "why not Alice?" explanation for one recipient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.campaigns.facts import COUNTED_SENT, gather_facts, workspace_policy
from textopt.campaigns.models import Campaign
from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentEvent
from textopt.contacts.models import Contact
from textopt.dispatch.models import Message, MessageEvent
from textopt.dispatch.states import MessageStatus
from textopt.errors import NotFoundError
from textopt.policy import MessageFacts, decide
from textopt.vocab import Channel, Purpose

__all__ = ["campaign_report", "explain_recipient", "message_history"]

_MICROS = Decimal(1_000_000)


def campaign_report(session: Session, *, campaign: Campaign) -> dict[str, Any]:
    """Counts by state and reason, failures by provider code, opt-outs, segments and cost."""
    cid = campaign.id
    by_status = dict(
        session.execute(
            select(Message.status, func.count())
            .where(Message.campaign_id == cid)
            .group_by(Message.status)
        ).all()
    )
    blocked = dict(
        session.execute(
            select(Message.reason, func.count())
            .where(Message.campaign_id == cid, Message.status == MessageStatus.BLOCKED)
            .group_by(Message.reason)
        ).all()
    )
    deferred = dict(
        session.execute(
            select(Message.reason, func.count())
            .where(Message.campaign_id == cid, Message.deferred.is_(True))
            .group_by(Message.reason)
        ).all()
    )
    failures = dict(
        session.execute(
            select(func.coalesce(Message.error_code, Message.reason), func.count())
            .where(Message.campaign_id == cid, Message.status == MessageStatus.FAILED)
            .group_by(func.coalesce(Message.error_code, Message.reason))
        ).all()
    )
    sent_filter = (Message.campaign_id == cid, Message.submitted_at.is_not(None))
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
        ).where(Message.campaign_id == cid, Message.status != MessageStatus.BLOCKED)
    ).one()
    opt_outs = 0
    if campaign.launched_at is not None:
        opt_outs = int(
            session.scalar(
                select(func.count(func.distinct(ConsentEvent.contact_id))).where(
                    ConsentEvent.action == ConsentAction.REVOKED,
                    ConsentEvent.channel == campaign.channel,
                    ConsentEvent.purpose == Purpose.MARKETING,
                    ConsentEvent.occurred_at >= campaign.launched_at,
                    ConsentEvent.contact_id.in_(select(Message.contact_id).where(*sent_filter)),
                )
            )
            or 0
        )
    currency = (
        session.scalar(select(Message.currency).where(Message.campaign_id == cid).limit(1)) or "EUR"
    )
    total = sum(by_status.values())
    return {
        "campaign": cid,
        "name": campaign.name,
        "status": campaign.status,
        "messages": total,
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
        "blocked_by_reason": {str(k): v for k, v in sorted(blocked.items())},
        "deferred_by_reason": {str(k): v for k, v in sorted(deferred.items())},
        "sent": int(sent),
        "delivered": by_status.get(MessageStatus.DELIVERED, 0),
        "failed_by_code": {str(k): v for k, v in sorted(failures.items())},
        "expired": by_status.get(MessageStatus.EXPIRED, 0),
        "unknown": by_status.get(MessageStatus.UNKNOWN, 0),
        "waiting": by_status.get(MessageStatus.PLANNED, 0) + by_status.get(MessageStatus.QUEUED, 0),
        "opt_outs_after_launch": opt_outs,
        "segments_sent": int(segments),
        "cost_sent": str(Decimal(int(cost)) / _MICROS),
        "segments_planned": int(planned_segments),
        "cost_planned": str(Decimal(int(planned_cost)) / _MICROS),
        "currency": currency,
        "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
        "completed_at": campaign.completed_at.isoformat() if campaign.completed_at else None,
    }


def message_history(session: Session, *, message_id: int) -> dict[str, Any]:
    """One message with every state it went through and every receipt."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError(f"no message with id {message_id}")
    events = session.scalars(
        select(MessageEvent).where(MessageEvent.message_id == message_id).order_by(MessageEvent.id)
    )
    return {
        "id": message.id,
        "campaign": message.campaign_id,
        "contact": message.contact_id,
        "to": message.recipient,
        "channel": message.channel,
        "purpose": message.purpose,
        "status": message.status,
        "reason": message.reason,
        "reason_text": message.reason_text,
        "body": message.body,
        "encoding": message.encoding,
        "segments": message.segments,
        "cost": str(Decimal(message.cost_micros) / _MICROS),
        "currency": message.currency,
        "send_at": message.send_at.isoformat() if message.send_at else None,
        "expires_at": message.expires_at.isoformat() if message.expires_at else None,
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "idempotency_key": message.idempotency_key,
        "attempts": message.attempts,
        "error_code": message.error_code,
        "error_text": message.error_text,
        "events": [
            {"at": e.at.isoformat(), "status": e.status, "detail": e.detail} for e in events
        ],
    }


def explain_recipient(
    session: Session,
    *,
    campaign: Campaign,
    contact: Contact,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    """The stored decision for one recipient, and the policy's full trace evaluated now."""
    message = session.scalars(
        select(Message).where(Message.campaign_id == campaign.id, Message.contact_id == contact.id)
    ).first()
    channel = Channel(campaign.channel)
    recipient = gather_facts(
        session,
        contacts=[contact],
        channel=channel,
        now=now,
        counted=COUNTED_SENT,
        exclude_message_ids={message.id} if message else (),
    )[contact.id]
    decision = decide(
        recipient.facts,
        MessageFacts(
            channel=channel,
            purpose=Purpose(campaign.purpose),
            sender_id=campaign.sender_id,
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
    return {
        "campaign": campaign.id,
        "contact": contact.id,
        "phone": contact.phone,
        "in_audience": message is not None,
        "stored_decision": stored,
        "evaluated_now": decision.as_dict(),
    }
