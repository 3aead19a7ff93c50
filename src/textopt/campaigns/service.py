"""Campaign services: create, find, preview, launch, pause, resume, cancel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import parse_filter
from textopt.campaigns.emails import email_account, from_header
from textopt.campaigns.lifecycle import (
    cancel_campaign,
    pause_campaign,
    resume_campaign,
    set_campaign_status,
)
from textopt.campaigns.models import Campaign, CampaignStatus, ChannelRule
from textopt.campaigns.planning import PlanReport, plan_campaign, preview_campaign
from textopt.campaigns.segments import get_segment_or_raise
from textopt.compose import (
    check_registered_sender,
    check_segment_limit,
    compile_template,
    count_segments,
    validate_sender_id,
)
from textopt.compose.email import EmailTemplate
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.errors import ConfigError, NotFoundError, ValidationError
from textopt.instants import check_scheduled
from textopt.links.service import TRACK_OPTION
from textopt.vocab import Channel, Purpose

__all__ = [
    "build_campaign",
    "cancel",
    "create_campaign",
    "get_campaign_or_raise",
    "launch",
    "list_campaigns",
    "pause",
    "preview",
    "resume",
]


def create_campaign(session: Session, *, settings: Settings, **fields: Any) -> Campaign:
    """Validate and save a draft campaign (the fields of `build_campaign`)."""
    campaign = build_campaign(session, settings=settings, **fields)
    session.add(campaign)
    session.flush()
    return campaign


def build_campaign(
    session: Session,
    *,
    settings: Settings,
    name: str,
    template: str,
    purpose: Purpose | str = Purpose.MARKETING,
    brand_name: str | None = None,
    sender_id: str | None = None,
    segment: str | None = None,
    audience: str | None = None,
    send_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    validity_hours: int = 24,
    throughput: float | None = None,
    provider: str | None = None,
    smart_encoding: bool = True,
    fold_accents: bool = False,
    track_links: bool = False,
    channel: Channel | str = Channel.SMS,
    channels: ChannelRule | str | None = None,
    email_subject: str | None = None,
    email_template: str | None = None,
    email_text_template: str | None = None,
    email_from: str | None = None,
    email_provider: str | None = None,
) -> Campaign:
    """A validated draft campaign, not yet saved; every mistake is reported before anything
    is sent.

    `channels` is the channel rule (`sms`, `email`, `both`, `sms-else-email`,
    `email-else-sms`; default: `channel` alone). The SMS text is `template`; the email is
    `email_subject` and the HTML `email_template` (its text part derived from the HTML unless
    `email_text_template` is given), sent from `email_from` (default: the brand and
    `email_from_address`) through `email_provider`.
    """
    name = name.strip()
    if not name:
        raise ValidationError("a campaign needs a name", field="name")
    purpose = Purpose(purpose)
    rule = _channel_rule(channels if channels is not None else channel)
    if Channel.SMS in rule.channels:
        if not template.strip():
            raise ValidationError(f"a {rule} campaign needs an SMS text", field="template")
        compiled = compile_template(template)  # a syntax error is reported now, with its line
        # what every recipient's text holds already: too long for anyone, refused now
        check_segment_limit(
            count_segments(compiled.fixed_text),
            limit=settings.max_segments_per_message,
            field="template",
        )
    elif template.strip():
        raise ValidationError(
            f"an SMS text was given but the channel rule is {rule}", field="template"
        )
    if Channel.EMAIL in rule.channels:
        EmailTemplate(
            subject=email_subject or "", html=email_template or "", text=email_text_template
        )
        email_provider = email_account(settings, wanted=email_provider)
    elif email_template or email_subject or email_text_template:
        raise ValidationError(
            f"an email was given but the channel rule is {rule}: use --channels",
            field="channels",
        )
    else:
        email_provider = None
    if (segment is None) == (audience is None):
        raise ValidationError("give the audience as a saved segment or a filter (one of them)")
    segment_id = None
    if segment is not None:
        saved = get_segment_or_raise(session, name_or_id=segment)
        segment_id, audience = saved.id, saved.filter
    assert audience is not None
    parse_filter(audience)  # a bad filter is reported now, with its column
    brand = (brand_name or settings.brand_name).strip()
    if purpose == Purpose.MARKETING and not brand:
        raise ValidationError("a marketing campaign must name its brand", field="brand_name")
    if sender_id is not None:
        check_registered_sender(sender_id, registered=settings.sender_ids)
        # the rules of the workspace's own country; each recipient's pack checks again
        validate_sender_id(sender_id, country=settings.default_region)
    provider = provider or (email_provider if rule == ChannelRule.EMAIL else None)
    provider = provider or settings.default_provider
    if provider not in settings.providers:
        raise ConfigError(
            f"provider account {provider!r} is not configured "
            f"(known: {', '.join(sorted(settings.providers))})"
        )
    checked_at = utcnow()
    if send_at is not None:
        send_at = check_scheduled(send_at, now=checked_at, field="send_at")
    if expires_at is not None:
        expires_at = check_scheduled(expires_at, now=checked_at, field="expires_at")
    if send_at is not None and expires_at is not None and expires_at <= send_at:
        raise ValidationError("the campaign expires before it starts", field="expires_at")
    if validity_hours <= 0:
        raise ValidationError("validity must be at least one hour", field="validity_hours")
    if throughput is not None and throughput <= 0:
        raise ValidationError("throughput must be positive", field="throughput")
    if email_provider is not None:
        from_header(brand=brand, address=email_from or settings.email_from_address)
    return Campaign(
        name=name,
        purpose=purpose,
        channels=rule,
        channel=rule.primary,
        brand_name=brand,
        sender_id=sender_id,
        template=template,
        email_subject=email_subject if email_provider else None,
        email_template=email_template if email_provider else None,
        email_text_template=email_text_template if email_provider else None,
        email_from=email_from if email_provider else None,
        email_provider=email_provider,
        segment_id=segment_id,
        audience_filter=audience,
        status=CampaignStatus.DRAFT,
        send_at=send_at,
        expires_at=expires_at,
        validity_hours=validity_hours,
        throughput=throughput,
        provider=provider,
        smart_encoding=smart_encoding,
        fold_accents=fold_accents,
        options={TRACK_OPTION: True} if track_links else {},
    )


def _channel_rule(value: ChannelRule | str) -> ChannelRule:
    try:
        return ChannelRule(value)
    except ValueError:
        known = ", ".join(rule.value for rule in ChannelRule)
        raise ValidationError(
            f"unknown channel rule {value!r} (one of {known})", field="channels"
        ) from None


def get_campaign(session: Session, *, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return session.get(Campaign, campaign_id)


def get_campaign_or_raise(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign with this id, or NotFoundError."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    if campaign is None:
        raise NotFoundError(f"no campaign with id {campaign_id}")
    return campaign


def list_campaigns(session: Session, *, limit: int = 50) -> list[Campaign]:
    """The newest campaigns first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


def preview(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> PlanReport:
    """What launching would do, computed on the real audience; writes nothing."""
    return preview_campaign(
        session, campaign=campaign, settings=settings, now=now, progress=progress
    )


def launch(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> PlanReport:
    """Plan every recipient into the outbox, then schedule or start the campaign."""
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(f"campaign {campaign.id} is {campaign.status}: only a draft launches")
    report = plan_campaign(
        session, campaign=campaign, settings=settings, now=now, progress=progress
    )
    future = campaign.send_at is not None and campaign.send_at > now
    set_campaign_status(
        campaign, CampaignStatus.SCHEDULED if future else CampaignStatus.RUNNING, now=now
    )
    campaign.launched_at = now
    return report


def pause(session: Session, *, campaign: Campaign, now: dt.datetime) -> Campaign:
    """Stop sending the campaign; nothing is lost and resume continues."""
    return pause_campaign(session, campaign=campaign, now=now)


def resume(session: Session, *, campaign: Campaign, now: dt.datetime) -> Campaign:
    """Continue a paused campaign."""
    return resume_campaign(session, campaign=campaign, now=now)


def cancel(session: Session, *, campaign: Campaign, now: dt.datetime) -> int:
    """Cancel the campaign; returns how many unsent messages were cancelled."""
    return cancel_campaign(session, campaign=campaign, now=now)
