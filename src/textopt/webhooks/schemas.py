"""The bodies of outbound webhook events, versioned: what an endpoint of the user receives.

Every delivery is an envelope `{"id", "type", "version", "created_at", "data"}`. `version`
is `BODY_VERSION`: fields may be added within a version, never removed nor changed in
meaning; a change that would break a receiver comes as a new version. The services build
`data` as dicts (`emit_events`); these models describe them in the API schema (`webhooks`)
and a test checks that the bodies sent match them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "BODY_VERSION",
    "CampaignCompletedData",
    "CampaignCompletedEvent",
    "ContactOptedOutData",
    "ContactOptedOutEvent",
    "MessageStatusChangedData",
    "MessageStatusChangedEvent",
    "QuestionAnsweredData",
    "QuestionAnsweredEvent",
]

#: The version of the event bodies, sent in each envelope.
BODY_VERSION = 1


class _Envelope(BaseModel):
    id: str = Field(description="The event id (`evt_…`), the same on every retry: dedupe on it")
    version: Literal[1] = Field(description="The body version")
    created_at: dt.datetime


class MessageStatusChangedData(BaseModel):
    """A message was submitted, delivered, failed, expired or ended `unknown`."""

    message_id: int
    campaign_id: int | None = Field(description="Null for a one-off message")
    status: str = Field(description="submitted, delivered, failed, expired or unknown")
    reason: str | None = Field(description="Why, for failed, expired and unknown")
    provider_message_id: str | None
    error_code: str | None


class MessageStatusChangedEvent(_Envelope):
    """`message.status_changed`."""

    type: Literal["message.status_changed"]
    data: MessageStatusChangedData


class ContactOptedOutData(BaseModel):
    """A revocation reached the consent ledger (STOP, API, CLI, unsubscribe link)."""

    contact_id: int
    channel: str
    purpose: str
    source: str
    occurred_at: dt.datetime
    ledger_event: int = Field(description="The consent ledger event's id")


class ContactOptedOutEvent(_Envelope):
    """`contact.opted_out`."""

    type: Literal["contact.opted_out"]
    data: ContactOptedOutData


class CampaignCompletedData(BaseModel):
    """Every message of a running campaign is final."""

    campaign_id: int
    name: str
    completed_at: dt.datetime


class CampaignCompletedEvent(_Envelope):
    """`campaign.completed`."""

    type: Literal["campaign.completed"]
    data: CampaignCompletedData


class QuestionAnsweredData(BaseModel):
    """A contact answered a question a message asked (OUI, ANNULER…)."""

    question_id: int
    contact_id: int
    kind: str = Field(description="What was asked: appointment")
    answer: Literal["confirmed", "cancelled"]
    reference: str | None = Field(description="The sender's reference: the appointment's id")
    message_id: int = Field(description="The message that asked")
    inbound_message_id: int = Field(description="The reply that answered")
    event_id: int = Field(description="The event recorded: appointment_confirmed…")
    event_type: str
    answered_at: dt.datetime


class QuestionAnsweredEvent(_Envelope):
    """`question.answered`."""

    type: Literal["question.answered"]
    data: QuestionAnsweredData
