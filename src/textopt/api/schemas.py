"""Response bodies of the API's reports: messages, previews, launches, reports, exports, health.

The services build these as JSON-ready dicts (the CLI's `--json` prints the same); the
models here give them a name and a schema, so that generated clients get typed objects.
Maps keyed by data (reasons, countries, channels) stay maps, of typed values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CampaignReport",
    "ChannelPlanRead",
    "ChannelReportRead",
    "ClicksRead",
    "CountryPlanRead",
    "DecisionRead",
    "GdprExport",
    "HealthRead",
    "LaunchReport",
    "MessageDetail",
    "MessageEventRead",
    "MessageRead",
    "MessageSent",
    "PlanReportRead",
    "RecipientExplanation",
    "StoredDecisionRead",
    "TraceStepRead",
    "WorkerRead",
    "WorstMessageRead",
]


def _open(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)  # clients must accept fields added later


class _Shape(BaseModel):
    """A service's dict as published. A key the model lacks is an error (so tests catch a
    service that grew a field without its model), yet the published schema stays open."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_open)


class MessageRead(_Shape):
    """One message: recipient, state, reason, cost and provider ids (no history)."""

    id: int
    campaign: int | None = Field(description="The campaign; null for a one-off message")
    contact: int | None
    to: str | None = Field(description="E.164 number or address; null once erased")
    channel: str
    purpose: str
    status: str = Field(
        description="planned, queued, sending, submitted, delivered, failed, expired, "
        "unknown, blocked or cancelled"
    )
    reason: str | None = Field(description="Policy or failure code")
    reason_text: str | None
    body: str | None
    encoding: str | None
    segments: int
    cost: str = Field(description="Estimated cost, a decimal string")
    currency: str
    send_at: dt.datetime | None
    expires_at: dt.datetime | None
    provider: str | None
    provider_message_id: str | None
    idempotency_key: str
    attempts: int
    error_code: str | None
    error_text: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class MessageEventRead(_Shape):
    """One step of a message's life: a state change, a provider answer, a receipt."""

    at: dt.datetime
    status: str
    detail: dict[str, Any]


class MessageDetail(MessageRead):
    """One message with every state it went through."""

    events: list[MessageEventRead]


class MessageSent(MessageDetail):
    """The message a send created (`created`), or found again for the same key."""

    created: bool


class ChannelPlanRead(_Shape):
    """One channel's part of a plan."""

    audience: int
    planned: int
    send_now: int
    deferred: dict[str, int]
    blocked: dict[str, int]
    segments: int
    cost: str
    currency: str
    throughput_per_second: float
    estimated_duration_seconds: float


class CountryPlanRead(_Shape):
    """Messages, segments and cost for one country and encoding."""

    messages: int
    segments: int
    cost_micros: int
    cost: str


class WorstMessageRead(_Shape):
    """The longest message of a plan."""

    contact_id: int
    text: str
    segments: int
    encoding: str
    units: int


class PlanReportRead(_Shape):
    """What planning (a preview, or a launch) finds: who gets what, when, at what cost."""

    campaign: int
    start: dt.datetime
    expires_at: dt.datetime
    channel_rule: str
    audience: int
    reached: int
    planned: int
    send_now: int
    deferred: dict[str, int] = Field(description="Messages sent later, by reason")
    blocked: dict[str, int] = Field(description="Messages not sent, by reason")
    written: int
    segments: int
    cost: str
    currency: str
    by_country: dict[str, CountryPlanRead]
    smart_encoding_saving_segments: int
    send_times_by_local_hour: dict[str, list[int]]
    worst_message: WorstMessageRead | None
    template_problems: dict[str, int]
    throughput_segments_per_second: float
    estimated_duration_seconds: float
    channels: dict[str, ChannelPlanRead]
    planned_elsewhere: dict[str, int] = Field(
        description="People who already have another campaign's marketing planned, by their "
        "local day (ISO date): the caps may hold this campaign back for them"
    )
    first_send_at: dt.datetime | None = Field(
        description="The earliest send time of a message to go (null: nothing to send)"
    )
    last_send_at: dt.datetime | None = Field(
        description="The latest planned send time (the account's rate may spread the sends "
        "over `estimated_duration_seconds` more)"
    )


class LaunchReport(PlanReportRead):
    """A launch: the plan written to the outbox, and the campaign's state after it."""

    status: str


class ClicksRead(_Shape):
    """Tracked link clicks of a campaign."""

    campaign: int
    clicks: int
    contacts_clicking: int
    links: int
    clicks_by_url: dict[str, int]


class ChannelReportRead(_Shape):
    """A campaign's counts (over one channel, or all)."""

    messages: int
    by_status: dict[str, int]
    blocked_by_reason: dict[str, int]
    deferred_by_reason: dict[str, int]
    sent: int
    delivered: int
    failed_by_code: dict[str, int]
    expired: int
    unknown: int
    unknown_by_reason: dict[str, int]
    waiting: int
    opt_outs_after_launch: int
    clicks: ClicksRead
    segments_sent: int
    cost_sent: str
    segments_planned: int
    cost_planned: str


class CampaignReport(ChannelReportRead):
    """Counts by state and reason, failures, opt-outs, clicks and cost, with each channel's."""

    campaign: int
    name: str
    status: str
    channel_rule: str
    currency: str
    launched_at: dt.datetime | None
    completed_at: dt.datetime | None
    channels: dict[str, ChannelReportRead]


class TraceStepRead(_Shape):
    """One rule the policy checked."""

    rule: str
    outcome: str
    detail: str


class DecisionRead(_Shape):
    """A policy decision: send, defer (to `at`) or block, with its reason and trace."""

    decision: str
    at: dt.datetime | None
    reason: str | None
    sentence: str
    pack: str | None
    timezones: list[str]
    trace: list[TraceStepRead]


class StoredDecisionRead(_Shape):
    """The decision stored with the recipient's message."""

    message: int
    status: str
    reason: str | None
    sentence: str | None
    decided_at: dt.datetime
    send_at: dt.datetime | None


class ChannelExplanation(_Shape):
    """One channel's stored decision and the policy evaluated now."""

    stored_decision: StoredDecisionRead | None
    evaluated_now: DecisionRead


class RecipientExplanation(_Shape):
    """Why one person did or did not get a campaign."""

    campaign: int
    contact: int
    phone: str | None
    email: str | None
    in_audience: bool
    stored_decision: StoredDecisionRead | None
    evaluated_now: DecisionRead
    channels: dict[str, ChannelExplanation]


class GdprExport(_Shape):
    """Everything held about one person (GDPR art. 15)."""

    exported_at: dt.datetime
    contact: dict[str, Any]
    consent: dict[str, list[dict[str, Any]]] = Field(description="`current` and `history`")
    suppression: dict[str, list[str]] = Field(description="Reasons by channel")
    inbound_messages: list[dict[str, Any]]
    events: list[dict[str, Any]] = Field(description="What happened to the person, as recorded")
    questions: list[dict[str, Any]] = Field(
        description="What messages asked the person (appointments) and their answers"
    )
    messages: list[dict[str, Any]]


class WorkerError(_Shape):
    """The last error of a worker."""

    type: str
    message: str
    at: dt.datetime


class WorkerRead(_Shape):
    """One supervised worker."""

    state: str
    restarts: int
    next_attempt_at: dt.datetime | None = None
    last_error: WorkerError | None = None


class HealthRead(_Shape):
    """`ok`, `degraded` (a worker restarting) or `unavailable` (no database)."""

    status: str
    database: str
    workers: dict[str, WorkerRead] | None = None
