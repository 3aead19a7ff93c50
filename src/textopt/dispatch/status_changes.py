"""What recording an answer or a receipt reads of a message, and the webhook events its
changes queue (`message.status_changed`), shared by answers, receipts and their endings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from textopt.db.bulk import raw
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.webhooks.models import WebhookEndpoint, WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = ["STATE_COLUMNS", "emit_status_changes", "status_webhooks", "status_webhooks_exist"]

#: What recording an answer or a receipt reads of a message.
STATE_COLUMNS = (
    Message.id,
    Message.campaign_id,
    Message.purpose,
    Message.status,
    Message.claimed_by,
    Message.attempts,
    raw(Message.expires_at),  # parsed where a retry is weighed against it
    Message.provider_message_id,
)


def status_webhooks_exist() -> Exists:
    """`EXISTS` an active webhook endpoint (which may want `message.status_changed`)."""
    return exists().where(WebhookEndpoint.active.is_(True))


def status_webhooks(session: Session) -> bool:
    """Whether an active webhook endpoint may want `message.status_changed` events."""
    return bool(session.scalar(select(status_webhooks_exist())))


def emit_status_changes(
    session: Session,
    messages: Mapping[int, Any],
    changes: Sequence[Mapping[str, Any]],
    *,
    now: dt.datetime,
) -> None:
    """Queue one `message.status_changed` webhook event per change (one insert in all)."""
    if not changes or not status_webhooks(session):
        return  # nobody listens: the events are not even built
    emit_events(
        session,
        events=[
            (
                WebhookEvent.MESSAGE_STATUS,
                {
                    "message_id": change["id"],
                    "campaign_id": messages[change["id"]].campaign_id,
                    "status": str(change["status"]),
                    "reason": change.get("reason"),
                    "provider_message_id": change.get("provider_message_id")
                    or messages[change["id"]].provider_message_id,
                    "error_code": change.get("error_code"),
                },
            )
            for change in changes
            if change["status"] != MessageStatus.QUEUED  # a retry is not news to the user's systems
        ],
        now=now,
    )
