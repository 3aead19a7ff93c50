"""`textopt events import`: a CSV file of past events, all or nothing.

Columns: the contact (`contact_id`, `phone` or `email`; a row uses the first of them it
fills), `type`, `occurred_at` (ISO 8601 with an offset), an optional `key`, and any other
column as a property (empty cells left out). Every row is checked before anything is
written: one bad row and the file records nothing, with every error by line and column.
A row without a key gets one derived from its content (keyed by the workspace secret), so
importing the same file again records nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from textopt.accounts.service import Actor, record_audit
from textopt.contacts.csvfile import header_key, open_rows, sniff_format
from textopt.contacts.fields import normalise_email
from textopt.contacts.models import Contact
from textopt.contacts.phones import parse_phone
from textopt.errors import TextoptError, ValidationError
from textopt.events.models import ContactEvent, EventSource
from textopt.events.service import check_key, check_properties, event_fingerprint
from textopt.events.types import normalise_type
from textopt.instants import check_happened

__all__ = ["EventImportReport", "RowError", "import_events", "import_events_upload"]

_COLUMNS = {
    "contact_id": ("contact_id", "contact"),
    "phone": ("phone", "telephone", "mobile", "tel"),
    "email": ("email", "e_mail", "courriel", "mail"),
    "type": ("type", "event", "event_type"),
    "occurred_at": ("occurred_at", "date", "at"),
    "key": ("key", "idempotency_key"),
}
_CONTACT_COLUMNS = ("contact_id", "phone", "email")
_BATCH = 1_000
_EVENTS = cast(Table, ContactEvent.__table__)
_UNSAFE_NAME = re.compile(r"[^\w.\- ]")
_MAX_ERRORS = 1_000


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused row: its line in the file, the column at fault and why."""

    line: int
    column: str
    message: str


@dataclass(slots=True)
class EventImportReport:
    """What an import read, recorded, found already recorded, and refused."""

    file: str
    rows_read: int = 0
    recorded: int = 0
    already_recorded: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        """Whether the file's events were recorded (no row refused)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (`--json`)."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "recorded": self.recorded,
            "already_recorded": self.already_recorded,
            "rejected": len({e.line for e in self.errors}),
            "committed": self.committed,
            "errors": [
                {"line": e.line, "column": e.column, "message": e.message} for e in self.errors
            ],
        }


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    ref_column: str  # contact_id, phone or email
    ref: str  # the id, E.164 number or lower-case address
    type: str
    occurred_at: dt.datetime
    properties: dict[str, Any]
    key: str | None


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _map_header(header: Sequence[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    by_alias = {alias: name for name, aliases in _COLUMNS.items() for alias in aliases}
    known: dict[str, int] = {}
    properties: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        title = raw.replace("\ufeff", "").strip()
        name = by_alias.get(header_key(title))
        if name is not None and name not in known:
            known[name] = index
        elif title:
            properties.append((index, title))
    missing = [n for n in ("type", "occurred_at") if n not in known]
    if not any(n in known for n in _CONTACT_COLUMNS):
        missing.insert(0, "contact_id|phone|email")
    if missing:
        raise ValidationError(
            f"the file lacks the columns {', '.join(missing)} "
            "(columns: contact_id or phone or email, type, occurred_at, then properties)",
            field="file",
        )
    check_properties({title: "" for _, title in properties}, field="header")
    return known, properties


def _cell(cells: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _instant(text: str, *, now: dt.datetime) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f'"{text[:40]}" is not an ISO 8601 date-time such as 2026-11-25T09:30:00+01:00',
            field="occurred_at",
        ) from None
    return check_happened(value, now=now, field="occurred_at")


def _parse_row(
    line: int,
    cells: Sequence[str],
    known: dict[str, int],
    properties: list[tuple[int, str]],
    *,
    e164: Callable[[str], str],
    now: dt.datetime,
) -> _Row:
    column = next((n for n in _CONTACT_COLUMNS if _cell(cells, known.get(n))), None)
    if column is None:
        raise ValidationError("no contact_id, phone or email in this row", field="contact")
    text = _cell(cells, known[column])
    if column == "contact_id":
        if not text.isascii() or not text.isdecimal() or not 0 < int(text) < 2**31:
            raise ValidationError(f'"{text[:40]}" is not a contact id', field=column)
        ref = str(int(text))
    elif column == "phone":
        ref = e164(text)
    else:
        ref = (normalise_email(text) or "").lower()
    kind = normalise_type(_cell(cells, known["type"]))
    when_text = _cell(cells, known["occurred_at"])
    if not when_text:
        raise ValidationError("occurred_at is empty", field="occurred_at")
    occurred_at = _instant(when_text, now=now)
    props = check_properties(
        {title: cells[i].strip() for i, title in properties if _cell(cells, i)}
    )
    key_text = _cell(cells, known.get("key"))
    return _Row(
        line=line,
        ref_column=column,
        ref=ref,
        type=kind,
        occurred_at=occurred_at,
        properties=props,
        key=check_key(key_text, field="key") if key_text else None,
    )


def _contact_ids(session: Session, rows: Sequence[_Row]) -> dict[tuple[str, str], int]:
    """(column, reference) -> the id of the contact it names, for one batch, in three reads."""
    found: dict[tuple[str, str], int] = {}
    wanted = {c: sorted({r.ref for r in rows if r.ref_column == c}) for c in _CONTACT_COLUMNS}
    visible = Contact.erased_at.is_(None)
    if wanted["contact_id"]:
        ids = [int(i) for i in wanted["contact_id"]]
        for (contact_id,) in session.execute(
            select(Contact.id).where(Contact.id.in_(ids), visible)
        ):
            found["contact_id", str(contact_id)] = contact_id
    if wanted["phone"]:
        query = select(Contact.phone, Contact.id).where(Contact.phone.in_(wanted["phone"]), visible)
        for phone, contact_id in session.execute(query):
            found["phone", str(phone)] = contact_id
    if wanted["email"]:
        address = func.lower(Contact.email)
        query = (
            select(address, func.min(Contact.id))
            .where(address.in_(wanted["email"]), visible)
            .group_by(address)
        )
        for email, contact_id in session.execute(query):
            found["email", str(email)] = contact_id
    return found


def import_events(
    session: Session,
    *,
    path: Path,
    default_region: str,
    secret: bytes,
    actor: Actor,
    now: dt.datetime,
) -> EventImportReport:
    """Check every row of `path`, then record its events in the caller's transaction.

    With one refused row nothing is recorded and the report lists every error (up to a
    thousand). A row whose key was already recorded with the same content counts as
    `already_recorded`; with other content it is refused. The import is audited.
    """
    report = EventImportReport(file=path.name)
    layout = sniff_format(path)
    with path.open(encoding=layout.encoding, newline="") as handle:
        header, lines = open_rows(handle, delimiter=layout.delimiter)
        known, properties = _map_header(header)
        parsed: list[_Row] = []

        # a customer's number recurs on each of their orders: parsed once per import
        @lru_cache(maxsize=65_536)
        def e164(raw: str) -> str:
            return parse_phone(raw, default_region).e164

        for line, cells in lines:
            report.rows_read += 1
            try:
                parsed.append(_parse_row(line, cells, known, properties, e164=e164, now=now))
            except TextoptError as exc:
                if len(report.errors) < _MAX_ERRORS:
                    column = exc.field or "row"
                    # the report names the column already: "type: ..." would say it twice
                    message = exc.message.removeprefix(f"{column}: ")
                    report.errors.append(RowError(line, column, message))
    planned: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}  # key -> (line, fingerprint) within the file
    for batch in _batches(parsed, _BATCH):
        ids = _contact_ids(session, batch)
        keyed: list[tuple[_Row, int, str, str]] = []
        for row in batch:
            contact_id = ids.get((row.ref_column, row.ref))
            if contact_id is None:
                report.errors.append(
                    RowError(
                        row.line,
                        row.ref_column,
                        f"no contact with {row.ref_column} {row.ref}: events are recorded for "
                        "existing contacts only",
                    )
                )
                continue
            fingerprint = event_fingerprint(
                secret=secret,
                contact_id=contact_id,
                type=row.type,
                properties=row.properties,
                occurred_at=row.occurred_at,
            )
            key = row.key or f"import:{fingerprint}"
            keyed.append((row, contact_id, key, fingerprint))
        query = select(ContactEvent.idempotency_key, ContactEvent.fingerprint).where(
            ContactEvent.idempotency_key.in_([k for _, _, k, _ in keyed])
        )
        stored = {str(key): str(print_) for key, print_ in session.execute(query)}
        for row, contact_id, key, fingerprint in keyed:
            earlier = stored.get(key) or (seen[key][1] if key in seen else None)
            if earlier is not None:
                if not hmac.compare_digest(earlier, fingerprint):
                    where = f"line {seen[key][0]}" if key in seen else "an earlier event"
                    report.errors.append(
                        RowError(
                            row.line, "key", f"key {key!r} was used for another event ({where})"
                        )
                    )
                else:
                    report.already_recorded += 1
                continue
            seen[key] = (row.line, fingerprint)
            planned.append(
                {
                    "contact_id": contact_id,
                    "type": row.type,
                    "properties": row.properties,
                    "occurred_at": row.occurred_at,
                    "received_at": now,
                    "source": str(EventSource.IMPORT),
                    "recorded_by": f"{actor.label}: {path.name}"[:320],
                    "idempotency_key": key,
                    "fingerprint": fingerprint,
                }
            )
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        del report.errors[_MAX_ERRORS:]
        return report
    for batch in _batches(planned, _BATCH):
        session.connection().execute(insert(_EVENTS), list(batch))  # Core: no ORM per row
    report.recorded = len(planned)
    record_audit(
        session,
        actor=actor,
        action="events.imported",
        target_type="events",
        detail={
            "file": path.name,
            "recorded": report.recorded,
            "already_recorded": report.already_recorded,
        },
    )
    return report


def import_events_upload(
    session: Session,
    *,
    source: BinaryIO,
    filename: str | None,
    default_region: str,
    secret: bytes,
    actor: Actor,
    now: dt.datetime,
) -> EventImportReport:
    """`import_events` for a file uploaded through the API or the dashboard: copied to a
    private temporary folder under its own name (the report and the audit name it), read,
    then removed whatever happens."""
    base = Path((filename or "").replace("\\", "/")).name
    # the name as a file system takes it: letters, digits, dot, dash, underscore, space
    name = _UNSAFE_NAME.sub("_", base).strip(" .")[:120] or "events.csv"
    with tempfile.TemporaryDirectory(prefix="textopt-events-") as folder:
        path = Path(folder) / name
        with path.open("wb") as copy:
            shutil.copyfileobj(source, copy)
        return import_events(
            session,
            path=path,
            default_region=default_region,
            secret=secret,
            actor=actor,
            now=now,
        )
