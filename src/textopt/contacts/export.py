"""CSV export of contacts, streamed in batches, in the columns the import reads back.

Tags are joined with `|`, each attribute key is a column of its own, and the current SMS
marketing consent is given as `consent_sms_marketing`, `consent_at` and `consent_source`,
so exporting then importing the same file changes nothing. A cell a spreadsheet would
take for a formula is written with a leading `'` (`csvfile.spreadsheet_cell`), which the
import removes.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from textopt.consent import service as consent_service
from textopt.consent.models import ConsentAction
from textopt.contacts.csvfile import spreadsheet_cell
from textopt.contacts.fields import tag_key
from textopt.contacts.models import Contact, ContactTag
from textopt.errors import ValidationError
from textopt.vocab import Channel, Purpose

__all__ = ["EXPORT_COLUMNS", "ExportReport", "export_contacts"]

_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_TAGS: Table = ContactTag.__table__  # type: ignore[assignment]

EXPORT_COLUMNS = (
    "phone", "email", "first_name", "last_name", "language", "country", "region", "timezone",
    "tags", "customer", "consent_sms_marketing", "consent_at", "consent_source",
)  # fmt: skip
_FIELDS = ("email", "first_name", "last_name", "language", "country", "region", "timezone")
_GRANTED = (ConsentAction.GRANTED.value, ConsentAction.CONFIRMED.value)
_ATTRIBUTE_KEYS = {
    "sqlite": "SELECT DISTINCT j.key FROM contacts, json_each(contacts.attributes) AS j "
    "WHERE contacts.erased_at IS NULL",
    "postgresql": "SELECT DISTINCT jsonb_object_keys(attributes) FROM contacts "
    "WHERE erased_at IS NULL",
}


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    rows: int
    columns: tuple[str, ...]


def _attribute_keys(session: Session) -> list[str]:
    """Every attribute key in use, sorted, computed by the database."""
    dialect = session.get_bind().dialect.name
    keys = {str(k) for k in session.scalars(text(_ATTRIBUTE_KEYS[dialect]))}
    return sorted(keys - set(EXPORT_COLUMNS))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_cell(value)
    return spreadsheet_cell(json.dumps(value, ensure_ascii=False))


def export_contacts(
    session: Session,
    *,
    out: TextIO,
    batch_size: int = 5_000,
    delimiter: str = ",",
    tag: str | None = None,
) -> ExportReport:
    """Write every visible contact (or those with `tag`), with a number, an email address or
    both, to `out` as CSV, batch by batch."""
    if batch_size < 1:
        raise ValidationError("the batch size must be at least 1", field="batch_size")
    attribute_keys = _attribute_keys(session)
    columns = (*EXPORT_COLUMNS, *attribute_keys)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    base = select(
        _CONTACTS.c.id,
        _CONTACTS.c.phone,
        _CONTACTS.c.is_customer,
        _CONTACTS.c.attributes,
        *(_CONTACTS.c[name] for name in _FIELDS),
    ).where(_CONTACTS.c.erased_at.is_(None))
    if tag:
        base = base.where(
            _CONTACTS.c.id.in_(select(_TAGS.c.contact_id).where(_TAGS.c.tag == tag_key(tag)))
        )
    written, last_id = 0, 0
    while True:
        query = base.where(_CONTACTS.c.id > last_id).order_by(_CONTACTS.c.id).limit(batch_size)
        batch = session.execute(query).mappings().all()
        if not batch:
            break
        ids = [row["id"] for row in batch]
        tags: dict[int, list[str]] = defaultdict(list)
        tag_query = (
            select(_TAGS.c.contact_id, _TAGS.c.tag)
            .where(_TAGS.c.contact_id.in_(ids))
            .order_by(_TAGS.c.contact_id, _TAGS.c.tag)
        )
        for contact_id, name in session.execute(tag_query):
            tags[contact_id].append(name)
        states = consent_service.current_consent_bulk(session, contact_ids=ids)
        for row in batch:
            state = states.get(row["id"], {}).get((Channel.SMS.value, Purpose.MARKETING.value))
            granted = state is not None and state.status in _GRANTED
            attributes = row["attributes"] or {}
            writer.writerow(
                [
                    _cell(row["phone"]),
                    *(_cell(row[name]) for name in _FIELDS),
                    _cell("|".join(tags.get(row["id"], []))),
                    "yes" if row["is_customer"] else "no",
                    "yes" if granted else "no",
                    state.since.isoformat() if granted and state else "",
                    _cell(state.source) if granted and state else "",
                    *(_cell(attributes.get(key)) for key in attribute_keys),
                ]
            )
        written += len(batch)
        last_id = ids[-1]
        session.expunge_all()
    return ExportReport(rows=written, columns=columns)
