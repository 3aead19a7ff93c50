"""What one planning run knows before it reads a contact, frozen and shared by both planners."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy.engine import Dialect

from textopt.campaigns.context import CONTEXT_FIELDS
from textopt.campaigns.emails import EmailComposer
from textopt.campaigns.models import Campaign, ChannelRule
from textopt.compose import PriceTable, Template, compile_template
from textopt.config import Settings
from textopt.eligibility import workspace_policy
from textopt.links.service import link_base, tracks_links
from textopt.outbox.rows import StoredInstant
from textopt.outbox.writers import StoredInstants
from textopt.policy import MessageFacts, WorkspacePolicy
from textopt.vocab import Channel, Purpose

__all__ = ["RunContext", "campaign_window", "run_context"]


def campaign_window(campaign: Campaign, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The campaign's start (its `send_at`, or now) and its expiry."""
    start = max(campaign.send_at or now, now)
    expires = campaign.expires_at or start + dt.timedelta(hours=campaign.validity_hours)
    return start, expires


@dataclass(frozen=True, slots=True)
class RunContext:
    """The campaign's settings, window, template and channels for one planning run."""

    campaign_id: int
    audience_filter: str
    rule: ChannelRule
    purpose: Purpose
    sender: str | None
    brand: str | None
    smart_encoding: bool
    fold_accents: bool
    template: Template
    email: EmailComposer | None
    # tracked links: URLs become per-recipient short links before the text is measured
    link_base: str | None
    start: dt.datetime
    expires: dt.datetime
    now: dt.datetime
    settings: Settings
    workspace: WorkspacePolicy
    prices: PriceTable | None
    write: bool
    providers: Mapping[Channel, str | None]
    messages: Mapping[Channel, MessageFacts]
    # with a shared budget, a contact's SMS of this campaign counts against its email
    shared_caps: bool
    instants: StoredInstants
    stored_start: StoredInstant
    stored_expires: StoredInstant
    stored_now: StoredInstant

    @property
    def primary(self) -> Channel:
        """The channel decided first for every recipient."""
        return self.rule.primary

    @property
    def second(self) -> Channel | None:
        """The other channel of a campaign on two, or None."""
        return self.rule.channels[1] if len(self.rule.channels) > 1 else None

    @property
    def idempotency_prefix(self) -> str:
        """What every idempotency key of the run starts with (the contact's id follows)."""
        return f"c{self.campaign_id}-"

    def by_class(self) -> bool:
        """Whether the run can be planned by class of recipient (`planning.classes`).

        SMS only, and a template that only reads contact fields and attributes (no Jinja
        code, no tags).
        """
        paths = self.template.paths
        return (
            self.rule.channels == (Channel.SMS,)
            and paths is not None
            and all(
                (len(p) == 1 and p[0] in CONTEXT_FIELDS) or (len(p) > 1 and p[0] == "attributes")
                for p in paths
            )
        )


def run_context(
    campaign: Campaign,
    settings: Settings,
    *,
    now: dt.datetime,
    prices: PriceTable | None,
    write: bool,
    dialect: Dialect,
) -> RunContext:
    """The run context of planning (or previewing) `campaign` at `now`."""
    rule = ChannelRule(campaign.channels)
    channels = rule.channels
    purpose = Purpose(campaign.purpose)
    start, expires = campaign_window(campaign, now=now)
    workspace = workspace_policy(settings)
    instants = StoredInstants(dialect)
    return RunContext(
        campaign_id=campaign.id,
        audience_filter=campaign.audience_filter,
        rule=rule,
        purpose=purpose,
        sender=campaign.sender_id,
        brand=campaign.brand_name,
        smart_encoding=campaign.smart_encoding,
        fold_accents=campaign.fold_accents,
        # an email-only campaign has no SMS text to compile
        template=compile_template(campaign.template if Channel.SMS in channels else ""),
        email=EmailComposer(campaign, settings) if Channel.EMAIL in channels else None,
        link_base=link_base(settings) if tracks_links(campaign) else None,
        start=start,
        expires=expires,
        now=now,
        settings=settings,
        workspace=workspace,
        prices=prices,
        write=write,
        providers=MappingProxyType(
            {
                Channel.SMS: campaign.provider,
                Channel.EMAIL: campaign.email_provider or campaign.provider,
            }
        ),
        messages=MappingProxyType(
            {
                channel: MessageFacts(
                    channel=channel,
                    purpose=purpose,
                    sender_id=campaign.sender_id if channel == Channel.SMS else None,
                    expires_at=expires,
                )
                for channel in channels
            }
        ),
        shared_caps=workspace.caps_across_channels and purpose == Purpose.MARKETING,
        instants=instants,
        stored_start=instants(start),
        stored_expires=instants(expires),
        stored_now=instants(now),
    )
