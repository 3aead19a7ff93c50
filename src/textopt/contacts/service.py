"""Contacts: create, find, change, tag and delete people.

The only module of the domain that touches the session for single contacts (the CSV import
and export have their own batch paths). Functions flush but never commit: the caller owns
the transaction. Erased contacts (tombstones, `erased_at` set) are invisible here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from textopt.consent.models import ConsentEvent
from textopt.contacts.fields import (
    check_storable,
    normalise_country,
    normalise_email,
    normalise_language,
    normalise_region,
    normalise_tags,
    normalise_timezone,
    tag_key,
)
from textopt.contacts.models import Contact, ContactTag
from textopt.contacts.phones import PhoneInfo, parse_phone
from textopt.db.base import utcnow
from textopt.db.engine import upsert_insert
from textopt.errors import ConflictError, NotFoundError, ValidationError

__all__ = [
    "UNSET",
    "count_contacts",
    "create_contact",
    "delete_contact",
    "find_contact_or_raise",
    "get_contact",
    "get_contact_by_address_or_raise",
    "get_contact_by_email",
    "get_contact_by_email_or_raise",
    "get_contact_by_phone",
    "get_contact_by_phone_or_raise",
    "get_contact_or_raise",
    "list_contacts",
    "normalise_phone",
    "tag_contacts",
    "untag_contacts",
    "update_contact",
]

_Q = TypeVar("_Q", bound=Select[Any])
_MAX_NAME = 200
_MAX_LIMIT = 10_000


class _Unset(enum.Enum):
    """Marks an `update_contact` argument that was not given (None means "clear it")."""

    UNSET = enum.auto()


UNSET = _Unset.UNSET


def normalise_phone(phone: str, *, default_region: str) -> PhoneInfo:
    """Parse a number in any notation; national forms are read in `default_region`.

    The region is the caller's to give (the faces pass the workspace's `default_region`):
    the domain reads no configuration.
    """
    return parse_phone(phone, default_region)


def _name(raw: str | None, field: str) -> str | None:
    text = " ".join((raw or "").split())
    check_storable(text, field=field)
    if len(text) > _MAX_NAME:
        raise ValidationError(f"{field} is longer than {_MAX_NAME} characters", field=field)
    return text or None


def _attributes(raw: Mapping[str, Any]) -> dict[str, Any]:
    check_storable(raw, field="attributes")
    return dict(raw)


def _visible() -> Select[Contact]:
    return select(Contact).where(Contact.erased_at.is_(None))


def create_contact(
    session: Session,
    *,
    default_region: str,
    phone: str | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    language: str | None = None,
    country: str | None = None,
    region: str | None = None,
    timezone: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    is_customer: bool = False,
) -> Contact:
    """Validate and add a contact with a number, an email address or both.

    The number must not belong to another contact; without a number, the address must not.
    A national notation is read in `default_region`.
    """
    address = normalise_email(email)
    if not (phone or "").strip() and address is None:
        raise ValidationError(
            "a contact needs a phone number or an email address (or both)", field="phone"
        )
    info = (
        normalise_phone(phone, default_region=default_region) if phone and phone.strip() else None
    )
    if info is not None:
        existing = get_contact_by_phone(session, phone=info.e164, default_region=default_region)
        if existing is not None:
            raise ConflictError(
                f"a contact with number {info.e164} already exists (id {existing.id})",
                field="phone",
            )
    elif address is not None:
        # Without a number the address is what names the person: one contact per address.
        existing = get_contact_by_email(session, email=address)
        if existing is not None:
            raise ConflictError(
                f"a contact with email {address} already exists (id {existing.id})",
                field="email",
            )
    contact = Contact(
        phone=info.e164 if info else None,
        phone_type=info.number_type if info else None,
        email=address,
        first_name=_name(first_name, "first_name"),
        last_name=_name(last_name, "last_name"),
        language=normalise_language(language),
        country=normalise_country(country) or (info.country if info else None),
        region=normalise_region(region),
        timezone=normalise_timezone(timezone),
        timezones=list(info.timezones) if info else [],
        attributes=_attributes(attributes or {}),
        is_customer=is_customer,
        tags=[ContactTag(tag=tag) for tag in normalise_tags(tags)],
    )
    session.add(contact)
    session.flush()
    return contact


def get_contact(session: Session, *, contact_id: int) -> Contact | None:
    """The contact with this id, or None (also for an erased contact)."""
    return session.scalars(_visible().where(Contact.id == contact_id)).one_or_none()


def get_contact_or_raise(session: Session, *, contact_id: int) -> Contact:
    """The contact with this id, or NotFoundError."""
    contact = get_contact(session, contact_id=contact_id)
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    return contact


def get_contact_by_phone(session: Session, *, phone: str, default_region: str) -> Contact | None:
    """The contact with this number written in any notation (national: `default_region`)."""
    e164 = normalise_phone(phone, default_region=default_region).e164
    return session.scalars(_visible().where(Contact.phone == e164)).one_or_none()


def get_contact_by_phone_or_raise(session: Session, *, phone: str, default_region: str) -> Contact:
    """The contact with this number, or NotFoundError."""
    contact = get_contact_by_phone(session, phone=phone, default_region=default_region)
    if contact is None:
        e164 = normalise_phone(phone, default_region=default_region).e164
        raise NotFoundError(f"no contact with number {e164}")
    return contact


def get_contact_by_email(session: Session, *, email: str) -> Contact | None:
    """The contact with this email address (case-insensitive; the oldest of several), or None."""
    address = normalise_email(email)
    if address is None:
        return None
    query = _visible().where(func.lower(Contact.email) == address.lower()).order_by(Contact.id)
    return session.scalars(query.limit(1)).one_or_none()


def get_contact_by_email_or_raise(session: Session, *, email: str) -> Contact:
    """The contact with this email address, or NotFoundError."""
    contact = get_contact_by_email(session, email=email)
    if contact is None:
        raise NotFoundError(f"no contact with email {email.strip()}")
    return contact


def get_contact_by_address_or_raise(
    session: Session, *, address: str, default_region: str
) -> Contact:
    """The contact with this email address (text with an `@`) or number, or NotFoundError."""
    if "@" in address:
        return get_contact_by_email_or_raise(session, email=address)
    return get_contact_by_phone_or_raise(session, phone=address, default_region=default_region)


def find_contact_or_raise(
    session: Session, *, default_region: str, phone: str | None = None, email: str | None = None
) -> Contact:
    """The contact named by a number or by an email address (exactly one of them)."""
    if bool((phone or "").strip()) == bool((email or "").strip()):
        raise ValidationError(
            "name the contact by a phone number or by an email address (one of them)",
            field="phone",
        )
    if phone:
        return get_contact_by_phone_or_raise(session, phone=phone, default_region=default_region)
    return get_contact_by_email_or_raise(session, email=email or "")


def update_contact(
    session: Session,
    *,
    contact_id: int,
    default_region: str,
    phone: str | _Unset = UNSET,
    email: str | _Unset | None = UNSET,
    first_name: str | _Unset | None = UNSET,
    last_name: str | _Unset | None = UNSET,
    language: str | _Unset | None = UNSET,
    country: str | _Unset | None = UNSET,
    region: str | _Unset | None = UNSET,
    timezone: str | _Unset | None = UNSET,
    attributes: Mapping[str, Any] | _Unset = UNSET,
    is_customer: bool | _Unset = UNSET,
) -> Contact:
    """Change the given fields (None clears one); a new number also renews country and zones."""
    contact = get_contact_or_raise(session, contact_id=contact_id)
    if not isinstance(phone, _Unset):
        info = normalise_phone(phone, default_region=default_region)
        if info.e164 != contact.phone:
            other = get_contact_by_phone(session, phone=info.e164, default_region=default_region)
            if other is not None:
                raise ConflictError(
                    f"number {info.e164} already belongs to contact {other.id}", field="phone"
                )
            contact.phone = info.e164
            contact.phone_type = info.number_type
            contact.timezones = list(info.timezones)
            if isinstance(country, _Unset):
                contact.country = info.country
    if not isinstance(email, _Unset):
        contact.email = normalise_email(email)
    if not isinstance(first_name, _Unset):
        contact.first_name = _name(first_name, "first_name")
    if not isinstance(last_name, _Unset):
        contact.last_name = _name(last_name, "last_name")
    if not isinstance(language, _Unset):
        contact.language = normalise_language(language)
    if not isinstance(country, _Unset):
        contact.country = normalise_country(country) or (
            normalise_phone(contact.phone, default_region=default_region).country
            if contact.phone
            else None
        )
    if not isinstance(region, _Unset):
        contact.region = normalise_region(region)
    if not isinstance(timezone, _Unset):
        contact.timezone = normalise_timezone(timezone)
    if not isinstance(attributes, _Unset):
        contact.attributes = _attributes(attributes)
    if not isinstance(is_customer, _Unset):
        contact.is_customer = is_customer
    session.flush()
    return contact


def list_contacts(
    session: Session,
    *,
    tag: str | None = None,
    country: str | None = None,
    search: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[Contact]:
    """Contacts by ascending id, filtered; pass the last id seen as `after_id` for the next page."""
    if not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {_MAX_LIMIT}", field="limit")
    query = _filtered(_visible(), tag=tag, country=country, search=search)
    if after_id is not None:
        query = query.where(Contact.id > after_id)
    return list(session.scalars(query.order_by(Contact.id).limit(limit)))


def count_contacts(
    session: Session,
    *,
    tag: str | None = None,
    country: str | None = None,
    search: str | None = None,
) -> int:
    """How many contacts match the same filters as `list_contacts`."""
    query = _filtered(
        select(func.count()).select_from(Contact).where(Contact.erased_at.is_(None)),
        tag=tag,
        country=country,
        search=search,
    )
    return int(session.scalar(query) or 0)


def _filtered(query: _Q, *, tag: str | None, country: str | None, search: str | None) -> _Q:
    if tag:
        query = query.where(
            exists().where(ContactTag.contact_id == Contact.id, ContactTag.tag == tag_key(tag))
        )
    if country:
        query = query.where(Contact.country == country.strip().upper())
    text = (search or "").strip()
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        conditions = [
            func.lower(Contact.first_name).like(pattern, escape="\\"),
            func.lower(Contact.last_name).like(pattern, escape="\\"),
            func.lower(Contact.email).like(pattern, escape="\\"),
        ]
        digits = re.sub(r"\D", "", text)
        if digits and re.fullmatch(r"[\d\s+().\-]+", text):
            conditions.append(Contact.phone.like(f"%{digits.lstrip('0') or digits}%"))
        query = query.where(or_(*conditions))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def tag_contacts(session: Session, *, contact_ids: Collection[int], tags: Iterable[str]) -> int:
    """Add tags to contacts (one bulk insert, existing pairs kept); returns the pairs added."""
    names = normalise_tags(tags)
    ids = _visible_ids(session, contact_ids)
    if not names or not ids:
        return 0
    rows = [{"contact_id": cid, "tag": name} for cid in sorted(ids) for name in names]
    before = _count_pairs(session, ids, names)
    session.execute(upsert_insert(session, ContactTag.__table__).on_conflict_do_nothing(), rows)
    _touch(session, ids)
    return _count_pairs(session, ids, names) - before


def untag_contacts(session: Session, *, contact_ids: Collection[int], tags: Iterable[str]) -> int:
    """Remove tags from contacts; returns the pairs removed."""
    names = normalise_tags(tags)
    ids = _visible_ids(session, contact_ids)
    if not names or not ids:
        return 0
    result = session.execute(
        delete(ContactTag).where(ContactTag.contact_id.in_(ids), ContactTag.tag.in_(names))
    )
    _touch(session, ids)
    return int(getattr(result, "rowcount", 0) or 0)


def _visible_ids(session: Session, contact_ids: Collection[int]) -> set[int]:
    wanted = set(contact_ids)
    found = set(
        session.scalars(
            select(Contact.id).where(Contact.id.in_(wanted), Contact.erased_at.is_(None))
        )
    )
    missing = wanted - found
    if missing:
        raise NotFoundError(f"no contact with id {', '.join(map(str, sorted(missing)))}")
    return found


def _count_pairs(session: Session, ids: Collection[int], names: Collection[str]) -> int:
    query = select(func.count()).where(ContactTag.contact_id.in_(ids), ContactTag.tag.in_(names))
    return int(session.scalar(query) or 0)


def _touch(session: Session, ids: Collection[int]) -> None:
    """Mark contacts updated and drop their loaded tags so the next read sees the change."""
    session.execute(
        update(Contact).where(Contact.id.in_(ids)).values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Contact) and obj.id in ids:
            session.expire(obj, ["tags", "updated_at"])


def delete_contact(session: Session, *, contact_id: int) -> None:
    """Delete a contact that has no consent history; otherwise the erasure path must be used."""
    contact = get_contact_or_raise(session, contact_id=contact_id)
    has_events = session.scalar(select(exists().where(ConsentEvent.contact_id == contact.id)))
    if has_events:
        raise ConflictError(
            f"contact {contact.id} has consent history, which is append-only and cannot be "
            f"deleted: use `textopt gdpr erase {contact.phone or contact.email}` to erase the "
            "person instead"
        )
    session.delete(contact)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"contact {contact.id} is referenced by other records (messages...): "
            f"use `textopt gdpr erase {contact.phone or contact.email}` instead"
        ) from exc
