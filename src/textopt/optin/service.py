"""Signup lists and the double opt-in: a form grant, a confirmation SMS, a reply that confirms.

`start_signup` runs in the caller's transaction: the anti-pumping checks
(`accounts.limits.check_optin_request`), the contact (created if new), a `granted` ledger
event whose proof holds the form URL, IP, user agent, text version and `double_opt_in`, and
the confirmation SMS in the outbox (transactional, one idempotency key per signup). The
reply YES/OUI reaches `inbound.service.record_inbound`, which appends the `confirmed` event
citing the grant and the inbound message.

Nothing here tells a caller whether a number is known, suppressed or erased: a refused
number gets the same outcome as an accepted one, minus the SMS.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.accounts.limits import RequestLimiter, check_optin_request
from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentSource, ConsentText
from textopt.consent.service import (
    current_consent,
    get_consent_text,
    history,
    record_consent,
    suppression_reasons,
)
from textopt.consent.suppression import address_digester
from textopt.contacts.phones import parse_phone
from textopt.contacts.service import create_contact, get_contact_by_phone
from textopt.errors import ConflictError, ConsentError, NotFoundError, ValidationError
from textopt.optin.models import Signup, SignupList
from textopt.outbox.states import MessageStatus
from textopt.vocab import Channel, Purpose

__all__ = [
    "LANGUAGES",
    "SignupOutcome",
    "SignupStatus",
    "confirmation_text",
    "create_list",
    "get_list_or_raise",
    "list_lists",
    "list_text",
    "signup_status",
    "start_signup",
]

LANGUAGES = ("fr", "en")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# A second submission of the same number within this time sends no second SMS.
_RESUBMIT_WINDOW = dt.timedelta(minutes=10)
# Only these suppressions let a person sign up again themselves (a STOP they sent).
_SELF_LIFTABLE = frozenset({"keyword"})
_CONFIRMATION = {
    "fr": "{{ brand }} : pour confirmer votre inscription à {{ list }}, répondez OUI à ce SMS. "
    "Sans réponse, vous ne recevrez rien.",
    "en": "{{ brand }}: reply YES to confirm your signup to {{ list }}. "
    "Without a reply you will receive nothing.",
}


class SignupStatus(StrEnum):
    """Where one signup is in the double opt-in."""

    PENDING = "pending"  # confirmation SMS sent (or blocked), no reply yet
    CONFIRMED = "confirmed"  # the person replied YES/OUI: a `confirmed` ledger event
    WITHDRAWN = "withdrawn"  # revoked (STOP) before or after confirming


@dataclass(frozen=True, slots=True)
class SignupOutcome:
    """What a form submission did; `signup` is None when the number was refused silently."""

    signup: Signup | None
    sent: bool  # a confirmation SMS is in the outbox
    repeated: bool = False  # the same number had just signed up: nothing new was done


def _slug(raw: str) -> str:
    slug = raw.strip().lower()
    if not _SLUG.fullmatch(slug):
        raise ValidationError(
            f"list slug {raw!r}: use 1-64 lower-case letters, digits and inner hyphens",
            field="slug",
        )
    return slug


def _countries(values: Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    codes = [v.strip().upper() for v in values if v.strip()]
    for code in codes:
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise ValidationError(f"country {code!r} is not an ISO 3166 code", field="countries")
    return codes or None


def create_list(
    session: Session,
    *,
    slug: str,
    name: str,
    brand: str,
    consent_text_version: str,
    language: str = "fr",
    countries: Iterable[str] | None = None,
) -> SignupList:
    """Add a signup list; its consent text must be registered (it is shown verbatim)."""
    slug = _slug(slug)
    name, brand = " ".join(name.split()), " ".join(brand.split())
    if not name or len(name) > 200:
        raise ValidationError("a signup list needs a name of 1 to 200 characters", field="name")
    if not brand or len(brand) > 100:
        raise ValidationError("a signup list names its brand (1 to 100 characters)", field="brand")
    if language not in LANGUAGES:
        raise ValidationError(
            f"language {language!r}: one of {', '.join(LANGUAGES)}", field="language"
        )
    text = get_consent_text(session, version=consent_text_version.strip())
    if text is None:
        raise ValidationError(
            f"consent text version {consent_text_version!r} is not registered "
            "(add it with `textopt consent texts add`)",
            field="consent_text_version",
        )
    if (text.channel, text.purpose) != (Channel.SMS, Purpose.MARKETING):
        raise ValidationError(
            f"consent text {text.version!r} is for {text.channel} {text.purpose}, "
            "not SMS marketing",
            field="consent_text_version",
        )
    if session.scalars(select(SignupList).where(SignupList.slug == slug)).first() is not None:
        raise ConflictError(f"a signup list {slug!r} exists already", field="slug")
    signup_list = SignupList(
        slug=slug,
        name=name,
        brand=brand,
        consent_text_version=text.version,
        language=language,
        countries=_countries(countries),
    )
    session.add(signup_list)
    session.flush()
    return signup_list


def get_list_or_raise(session: Session, *, slug: str, active_only: bool = True) -> SignupList:
    """The signup list of this slug, or NotFoundError (also for a closed list)."""
    found = session.scalars(select(SignupList).where(SignupList.slug == slug.lower())).first()
    if found is None or (active_only and not found.active):
        raise NotFoundError(f"no signup list {slug!r}")
    return found


def list_lists(session: Session) -> list[SignupList]:
    """Every signup list, oldest first."""
    return list(session.scalars(select(SignupList).order_by(SignupList.id)))


def list_text(session: Session, *, signup_list: SignupList) -> ConsentText:
    """The consent text the list's page shows verbatim."""
    text = get_consent_text(session, version=signup_list.consent_text_version)
    if text is None:  # texts are never deleted; a missing one is a broken database
        raise NotFoundError(f"consent text {signup_list.consent_text_version!r} is missing")
    return text


def confirmation_text(signup_list: SignupList) -> str:
    """The template of the confirmation SMS, in the list's language."""
    return _CONFIRMATION.get(signup_list.language, _CONFIRMATION["en"])


def _recent_pending(
    session: Session, *, signup_list: SignupList, contact_id: int, now: dt.datetime
) -> Signup | None:
    recent = session.scalars(
        select(Signup)
        .where(
            Signup.list_id == signup_list.id,
            Signup.contact_id == contact_id,
            Signup.created_at >= now - _RESUBMIT_WINDOW,
        )
        .order_by(Signup.id.desc())
    ).first()
    if recent is None or signup_status(session, signup=recent) != SignupStatus.PENDING:
        return None
    return recent


def _has_consent(session: Session, *, contact_id: int) -> bool:
    state = current_consent(session, contact_id=contact_id).get((Channel.SMS, Purpose.MARKETING))
    return state is not None and state.status in (ConsentAction.GRANTED, ConsentAction.CONFIRMED)


def start_signup(
    session: Session,
    *,
    settings: Settings,
    limiter: RequestLimiter,
    signup_list: SignupList,
    phone: str,
    ip: str,
    user_agent: str | None,
    form_url: str,
    now: dt.datetime,
) -> SignupOutcome:
    """Record a form signup pending confirmation and queue its confirmation SMS.

    Raises InvalidPhoneNumber or ValidationError for a number this list does not take, and
    RateLimited past the anti-pumping budgets; a suppressed number (other than by its own
    STOP) gets an outcome without SMS, indistinguishable to the caller.
    """
    # A national notation belongs to the list's first country, else the workspace's.
    region = signup_list.countries[0] if signup_list.countries else settings.default_region
    info = parse_phone(phone, region)
    if signup_list.countries and info.country not in signup_list.countries:
        raise ValidationError(
            f"numbers of {info.country} cannot join this list "
            f"(allowed: {', '.join(signup_list.countries)})",
            field="phone",
        )
    contact = get_contact_by_phone(session, phone=info.e164, default_region=settings.default_region)
    if contact is not None:
        recent = _recent_pending(session, signup_list=signup_list, contact_id=contact.id, now=now)
        if recent is not None:
            return SignupOutcome(signup=recent, sent=recent.message_id is not None, repeated=True)
    # A person who has consented already is not asked again: the request is recorded beside
    # the consent (it never replaces it, see consent/derive.py) and nobody is texted, so a
    # stranger typing a subscriber's number neither stops their marketing nor spends the
    # workspace's confirmation budget.
    subscribed = contact is not None and _has_consent(session, contact_id=contact.id)
    check_optin_request(
        session,
        settings=settings,
        limiter=limiter,
        client_ip=ip,
        phone=info,
        now=now,
        sends_confirmation=not subscribed,
    )
    digest = address_digester(settings.resolved_secret_key())
    reasons = set(suppression_reasons(session, digest=digest, phone=info.e164, channel=Channel.SMS))
    if reasons - _SELF_LIFTABLE:
        return SignupOutcome(signup=None, sent=False)  # erased or complained: never again
    try:
        with session.begin_nested():
            if contact is None:
                contact = create_contact(
                    session,
                    default_region=settings.default_region,
                    phone=info.e164,
                    language=signup_list.language,
                )
            event = record_consent(
                session,
                digest=digest,
                contact_id=contact.id,
                channel=Channel.SMS,
                purpose=Purpose.MARKETING,
                action=ConsentAction.REQUESTED,
                source=ConsentSource.FORM,
                occurred_at=now,
                consent_text_version=signup_list.consent_text_version,
                proof={
                    "form_url": form_url[:2000],
                    "ip": ip,
                    "user_agent": (user_agent or "")[:500],
                    "consent_text_version": signup_list.consent_text_version,
                    "signup_list": signup_list.slug,
                },
            )
    except ConsentError:
        return SignupOutcome(signup=None, sent=False)
    signup = Signup(
        list_id=signup_list.id, contact_id=contact.id, consent_event_id=event.id, created_at=now
    )
    session.add(signup)
    session.flush()
    if subscribed:
        signup.note = "already subscribed: no confirmation sent"
        session.flush()
        return SignupOutcome(signup=signup, sent=False)
    message, _ = enqueue_message(
        session,
        settings=settings,
        to=info.e164,
        text=confirmation_text(signup_list),
        variables={"brand": signup_list.brand, "list": signup_list.name},
        purpose=Purpose.TRANSACTIONAL,
        brand_name=signup_list.brand,
        idempotency_key=f"optin-{signup.id}",
        now=now,
    )
    signup.message_id = message.id
    sent = message.status != MessageStatus.BLOCKED
    if not sent:
        signup.note = message.reason_text
    session.flush()
    return SignupOutcome(signup=signup, sent=sent)


def signup_status(session: Session, *, signup: Signup) -> SignupStatus:
    """Pending, confirmed or withdrawn, as the ledger says after the signup's grant."""
    status = SignupStatus.PENDING
    for event, proof in history(session, contact_id=signup.contact_id):
        if event.id <= signup.consent_event_id:
            continue
        if (event.channel, event.purpose) != (Channel.SMS, Purpose.MARKETING):
            continue
        if event.action == ConsentAction.REVOKED:
            status = SignupStatus.WITHDRAWN
        elif event.action == ConsentAction.CONFIRMED and (
            proof is None or proof.data.get("confirms_event") == signup.consent_event_id
        ):
            status = SignupStatus.CONFIRMED
        elif event.action in (ConsentAction.REQUESTED, ConsentAction.GRANTED):
            break  # a later request or grant supersedes this signup
    return status
