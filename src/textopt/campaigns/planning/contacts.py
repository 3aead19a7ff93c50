"""The contact rows planning reads: their columns, the audience's pages, rows by id."""

from __future__ import annotations

import datetime as dt
import functools
from collections import namedtuple
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.consent.service import consent_summary
from textopt.contacts.models import Contact
from textopt.db.batching import id_conditions, keyset_pages

__all__ = ["CONTACT_ROW", "ContactRow", "contact_batches", "contact_columns", "contacts_by_id"]

#: The columns of the contact rows planning reads, in order (the hot loop unpacks them).
CONTACT_ROW = (
    "id",
    "phone",
    "email",
    "country",
    "region",
    "timezone",
    "is_customer",
    "first_name",
    "last_name",
    "language",
    "timezones_json",
    "attributes_json",
    "email_undeliverable_at",
    "phone_type",
    "consents",
)
#: A contact row: the driver's tuple, named (read by position in the hot loop).
ContactRow = namedtuple("ContactRow", CONTACT_ROW)  # type: ignore[misc]
#: Where a contact row's attributes (JSON text) sit.
ATTRIBUTES_AT = CONTACT_ROW.index("attributes_json")


@functools.cache
def contact_columns() -> tuple[Any, ...]:
    """The columns of `CONTACT_ROW`, JSON as its stored text, consent read with the contact
    (built once: a statement of the same columns is then compiled once)."""
    as_text = {
        "timezones_json": Contact.timezones,
        "attributes_json": Contact.attributes,
        "email_undeliverable_at": Contact.email_undeliverable_at,
    }
    columns = [
        type_coerce(as_text[name], Text).label(name) if name in as_text else getattr(Contact, name)
        for name in CONTACT_ROW[:-1]
    ]
    columns.append(consent_summary(Contact.id).label("consents"))
    return tuple(columns)


def contact_batches(
    session: Session, audience_filter: str, now: dt.datetime, batch_size: int
) -> Iterator[Sequence[Any]]:
    """The audience's contact rows in keyset pages (never the whole list in memory).

    JSON columns come back as text and are parsed once per distinct value: most contacts
    share their zones, and attributes are parsed only when the template uses them. Only
    the presence of a bounce date matters here.
    """
    condition = compile_filter(parse_filter(audience_filter), now=now)
    query = select(*contact_columns()).where(condition)
    # Core rows: no ORM bookkeeping on the hot path; the driver's tuples, named
    for rows in keyset_pages(session.connection(), query, Contact.id, batch_size):
        yield list(map(ContactRow._make, rows))


def contacts_by_id(session: Session, ids: Collection[int]) -> list[Any]:
    """Whole contact rows (as the pages give them) of these contacts."""
    found: list[Any] = []
    if not ids:
        return found
    connection = session.connection()
    wanted = set(ids)
    for condition in id_conditions(Contact.id, wanted):
        result = connection.execute(select(*contact_columns()).where(condition))
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        # a range may hold contacts that were not asked for
        found.extend(ContactRow._make(row) for row in rows if row[0] in wanted)
    return found
