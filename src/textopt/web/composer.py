"""The composer's live figures: a draft text analysed as recipients will get it.

Glue over the domain only: the template is rendered for a few real contacts of the chosen
segment, framed (brand, STOP footer), its links shortened to their real length when tracked,
and analysed (`compose.analyze`); the audience is counted (`campaigns.segments`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from textopt.campaigns.context import template_context
from textopt.campaigns.segments import audience_ids, count_audience, get_segment
from textopt.compose import compile_template, message_frame
from textopt.compose.email import EmailTemplate
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.contacts.service import get_contact
from textopt.errors import TextoptError
from textopt.links.service import link_base, preview_links
from textopt.vocab import Purpose

__all__ = ["analyze_draft", "email_draft_error"]

_SAMPLES = 3
_MAX_TEXT = 5_000


def _context(contact: Contact | None) -> dict[str, Any]:
    tags = contact.tag_names if contact is not None else ()
    return template_context(contact, tags=tags)


def _samples(session: Session, filter_text: str | None, now: dt.datetime) -> list[Contact]:
    if not filter_text:
        return []
    first = next(iter(audience_ids(session, filter=filter_text, now=now, batch_size=_SAMPLES)), [])
    return [c for cid in first if (c := get_contact(session, contact_id=cid)) is not None]


def _who(contact: Contact | None) -> str:
    if contact is None:
        return ""
    return " ".join(filter(None, [contact.first_name, contact.last_name])) or contact.phone or ""


def analyze_draft(
    session: Session,
    *,
    settings: Settings,
    text: str,
    segment: str | None,
    audience: str | None = None,
    purpose: str,
    brand_name: str | None,
    smart_encoding: bool,
    track_links: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    """Encoding, segments, the characters forcing UCS-2, the smart suggestion, samples, cost.

    A template error never stops the analysis half-way: each sample shows its text or its
    error, the figures come from the first sample that renders (none when none does), and
    `error` holds the first error met (English; the page translates it).
    """
    saved = get_segment(session, name_or_id=segment) if segment else None
    filter_text = saved.filter if saved is not None else (audience or None)
    result: dict[str, Any] = {"audience": None, "samples": [], "error": None}
    try:
        # the audience first: it is shown even while the text does not compile
        result["audience"] = (
            count_audience(session, filter=filter_text, now=now) if filter_text else 0
        )
        contacts: list[Contact | None] = [*_samples(session, filter_text, now)] or [None]
        template = compile_template(text[:_MAX_TEXT])
        frame = message_frame(
            purpose=Purpose(purpose),
            country=settings.default_region,
            brand=brand_name or settings.brand_name,
            stop_number=settings.stop_number,
        )
    except (TextoptError, ValueError) as exc:
        result["error"] = getattr(exc, "message", str(exc))
        return result
    audience_size: int = result["audience"]
    base = link_base(settings)
    composed = []
    for contact in contacts:
        try:
            body = template.render(_context(contact))
            if track_links:
                body = preview_links(body, base=base)
            message = frame.compose(body, smart_encoding=False)
        except (TextoptError, ValueError) as exc:
            error = getattr(exc, "message", str(exc))
            result["error"] = result["error"] or error
            result["samples"].append({"who": _who(contact), "error": error})
            continue
        composed.append(message)
        result["samples"].append(
            {
                "who": _who(contact),
                "text": message.text,
                "segments": message.analysis.segments,
                "encoding": str(message.analysis.encoding),
            }
        )
    if not composed:
        return result
    first = composed[0].analysis
    smart = first.smart
    cost = first.cost
    result.update(
        encoding=str(first.encoding),
        segments=first.segments,
        units=first.units,
        per_segment=first.per_segment,
        characters=first.characters,
        non_gsm=[
            {
                "char": c.char,
                "name": c.name,
                "count": len(c.positions),
                "replacement": c.replacement,
            }
            for c in first.non_gsm
        ],
        smart={
            "encoding": str(smart.encoding),
            "segments": smart.segments,
            "replacements": [[r.source, r.target] for r in smart.replacements],
        },
        smart_applies=smart_encoding,
        cost=None
        if cost is None
        else {
            "per_message": str(cost.amount),
            "total": str((cost.amount * Decimal(audience_size)).quantize(Decimal("0.01"))),
            "currency": cost.currency,
        },
    )
    return result


def email_draft_error(
    session: Session,
    *,
    subject: str,
    html: str,
    text: str,
    segment: str | None,
    audience: str | None = None,
    now: dt.datetime,
) -> str | None:
    """The first error of a draft's email (subject, HTML, text part) on a few real contacts of
    the audience, None when it renders for each (English; the page translates it)."""
    saved = get_segment(session, name_or_id=segment) if segment else None
    filter_text = saved.filter if saved is not None else (audience or None)
    try:
        email = EmailTemplate(
            subject=subject[:_MAX_TEXT], html=html[: _MAX_TEXT * 4], text=text[:_MAX_TEXT] or None
        )
        contacts: list[Contact | None] = [*_samples(session, filter_text, now)] or [None]
    except (TextoptError, ValueError) as exc:
        return str(getattr(exc, "message", exc))
    for contact in contacts:
        try:
            email.render(_context(contact), footer=False)
        except (TextoptError, ValueError) as exc:
            message = str(getattr(exc, "message", exc))
            who = _who(contact) or (contact.email if contact is not None else None)
            return f"{message} (for {who})" if who else message
    return None
