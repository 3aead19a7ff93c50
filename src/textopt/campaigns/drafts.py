"""Drafts: edit, duplicate and delete a campaign before it is launched, and check its template
on the first contacts of its audience.

An edit is validated as a creation is (`service.build_campaign`, every mistake reported
before anything is saved); only a draft changes or is deleted. Any campaign, whatever its
state, is duplicated into a new draft.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from textopt.campaigns.audience import parse_filter
from textopt.campaigns.context import template_context
from textopt.campaigns.models import Campaign, CampaignStatus
from textopt.campaigns.segments import audience_ids, get_segment
from textopt.campaigns.service import build_campaign
from textopt.compose import compile_template
from textopt.compose.email import EmailTemplate
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.errors import ConflictError, TemplateError, ValidationError
from textopt.links.service import TRACK_OPTION, tracks_links

__all__ = [
    "EDITABLE_FIELDS",
    "SAMPLE_CONTACTS",
    "check_template_on_samples",
    "delete_draft",
    "draft_fields",
    "duplicate_campaign",
    "update_draft",
]

#: The fields an edit may change (the keyword arguments of `build_campaign`).
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "template",
        "purpose",
        "brand_name",
        "sender_id",
        "segment",
        "audience",
        "send_at",
        "expires_at",
        "validity_hours",
        "throughput",
        "provider",
        "smart_encoding",
        "fold_accents",
        "track_links",
        "channels",
        "email_subject",
        "email_template",
        "email_text_template",
        "email_from",
        "email_provider",
    }
)

#: The columns a validated edit copies onto the draft.
_COLUMNS = (
    "name",
    "purpose",
    "channels",
    "channel",
    "brand_name",
    "sender_id",
    "template",
    "email_subject",
    "email_template",
    "email_text_template",
    "email_from",
    "email_provider",
    "segment_id",
    "audience_filter",
    "send_at",
    "expires_at",
    "validity_hours",
    "throughput",
    "provider",
    "smart_encoding",
    "fold_accents",
)

#: How many contacts of the audience a template is tried on when it is saved (the composer's
#: samples): a template that fails for one of them fails for sure.
SAMPLE_CONTACTS = 3


def _require_draft(campaign: Campaign, verb: str) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise ConflictError(
            f"campaign {campaign.id} is {campaign.status}: only a draft can be {verb} "
            "(duplicate it to start a new draft)",
            field="status",
        )


def draft_fields(session: Session, *, campaign: Campaign) -> dict[str, Any]:
    """The fields that would create `campaign` again (its saved segment, if it still exists,
    else its filter)."""
    fields: dict[str, Any] = {
        "name": campaign.name,
        "template": campaign.template,
        "purpose": campaign.purpose,
        "brand_name": campaign.brand_name,
        "sender_id": campaign.sender_id,
        "send_at": campaign.send_at,
        "expires_at": campaign.expires_at,
        "validity_hours": campaign.validity_hours,
        "throughput": campaign.throughput,
        "provider": campaign.provider,
        "smart_encoding": campaign.smart_encoding,
        "fold_accents": campaign.fold_accents,
        "track_links": tracks_links(campaign),
        "channels": campaign.channels,
        "email_subject": campaign.email_subject,
        "email_template": campaign.email_template,
        "email_text_template": campaign.email_text_template,
        "email_from": campaign.email_from,
        "email_provider": campaign.email_provider,
        "segment": None,
        "audience": None,
    }
    saved = get_segment(session, name_or_id=campaign.segment_id) if campaign.segment_id else None
    if saved is not None:
        fields["segment"] = saved.name
    else:
        fields["audience"] = campaign.audience_filter
    return fields


def update_draft(
    session: Session, *, campaign: Campaign, settings: Settings, changes: Mapping[str, Any]
) -> Campaign:
    """Change a draft's fields, validated as at creation; `segment` and `audience` replace
    each other."""
    _require_draft(campaign, "edited")
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"a draft has no field {unknown[0]!r}", field=unknown[0])
    fields = draft_fields(session, campaign=campaign)
    if changes.get("segment") is not None:
        fields["audience"] = None
    if changes.get("audience") is not None:
        fields["segment"] = None
    fields.update(changes)
    checked = build_campaign(session, settings=settings, **fields)
    for column in _COLUMNS:
        setattr(campaign, column, getattr(checked, column))
    campaign.options = {**(campaign.options or {}), TRACK_OPTION: bool(fields["track_links"])}
    session.flush()
    return campaign


def duplicate_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    name: str | None = None,
) -> Campaign:
    """A new draft with the campaign's message, audience and settings (any state); a start
    or expiry already past is dropped."""
    fields = draft_fields(session, campaign=campaign)
    fields["name"] = name if name is not None else f"{campaign.name} (copy)"[:200]
    for key in ("send_at", "expires_at"):
        if fields[key] is not None and fields[key] <= now:
            fields[key] = None
    copy = build_campaign(session, settings=settings, **fields)
    session.add(copy)
    session.flush()
    return copy


def delete_draft(session: Session, *, campaign: Campaign) -> None:
    """Delete a draft for good (nothing of it was planned)."""
    _require_draft(campaign, "deleted")
    session.delete(campaign)
    session.flush()


def check_template_on_samples(session: Session, *, campaign: Campaign, now: dt.datetime) -> None:
    """Refuse an SMS text or an email that fails for one of the first contacts of the
    audience.

    The whole audience is rendered by the preview and the launch; these few contacts are
    the ones the composer shows, so an error here is certain and is reported at once.
    """
    renders: list[Callable[[dict[str, Any]], object]] = []
    if campaign.template.strip():
        renders.append(compile_template(campaign.template).render)
    if campaign.email_provider is not None:
        email = EmailTemplate(
            subject=campaign.email_subject or "",
            html=campaign.email_template or "",
            text=campaign.email_text_template,
        )
        renders.append(lambda context: email.render(context, footer=False))
    if not renders:
        return
    parse_filter(campaign.audience_filter)
    first = next(
        iter(
            audience_ids(
                session, filter=campaign.audience_filter, now=now, batch_size=SAMPLE_CONTACTS
            )
        ),
        [],
    )
    for contact_id in first:
        contact = session.get(Contact, contact_id)
        if contact is None:
            continue
        try:
            for render in renders:
                render(template_context(contact, tags=contact.tag_names))
        except TemplateError as exc:
            who = " ".join(filter(None, [contact.first_name, contact.last_name]))
            who = who or contact.phone or contact.email or f"contact {contact.id}"
            raise TemplateError(f"{exc.message} (for {who})", field=exc.field) from None
