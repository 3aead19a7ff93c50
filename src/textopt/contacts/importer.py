"""CSV import of contacts: streamed in batches, one transaction per batch, upsert on the
number (on the email address for a row without one).

Memory stays bounded by the batch size (plus one small int per distinct number, for the
duplicate-in-file check). Each batch costs a fixed number of bulk statements whatever its
size: one SELECT of the batch's known numbers, one of their tags, a bulk INSERT of the new
contacts, a bulk UPDATE of the changed ones, a bulk INSERT of tags and one append to the
consent ledger. A crash leaves whole committed batches only; re-running the same file
re-applies nothing that is already there (same contacts, tags and ledger).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from sqlalchemy import Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from textopt.config import Settings
from textopt.consent.models import ConsentText
from textopt.consent.suppression import Digester, address_digester
from textopt.contacts.csvfile import (
    CONSENT_CLAIMS,
    ColumnMap,
    map_columns,
    open_rows,
    sniff_format,
    spreadsheet_cell,
)
from textopt.contacts.importgrants import record_batch_consents
from textopt.contacts.importrows import ImportRow, IssueCode, RowIssue, RowValidator
from textopt.contacts.models import Contact, ContactTag
from textopt.db.base import utcnow
from textopt.db.engine import session_factory, upsert_insert
from textopt.errors import ValidationError

__all__ = [
    "BatchRecorder",
    "ImportProgress",
    "ImportReport",
    "import_contacts",
    "rejects_path_for",
]

_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_TAGS: Table = ContactTag.__table__  # type: ignore[assignment]
_LOOKUP_CHUNK = 1_000
_ATTEMPTS = 3
# Columns an import may change on an existing contact.
_MERGED = (
    "email", "first_name", "last_name", "language", "country", "region", "timezone",
    "timezones", "attributes", "is_customer", "phone_type",
)  # fmt: skip
_WANTED = (
    _CONTACTS.c.id,
    _CONTACTS.c.phone,
    *(_CONTACTS.c[name] for name in _MERGED),
)


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import stands after a committed batch."""

    rows_read: int
    total_rows: int  # estimated from the file's line count
    batches_committed: int


ProgressCallback = Callable[[ImportProgress], None]
#: Called inside each batch's transaction with the report as it stands once the batch is
#: committed: what it writes (a job's progress) is committed with the batch or not at all.
BatchRecorder = Callable[[Session, "ImportReport", ImportProgress], None]


@dataclass(slots=True)
class ImportReport:
    """What an import did; counts are rows of the file."""

    path: str
    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    consents_recorded: int = 0
    batches_committed: int = 0
    rejects_path: str | None = None

    @property
    def rejected_total(self) -> int:
        """Rows not imported."""
        return sum(self.rejected.values())

    @property
    def warnings_total(self) -> int:
        """Imported rows that carried a warning."""
        return sum(self.warnings.values())

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return {
            "path": self.path,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected_total,
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "warnings": self.warnings_total,
            "warnings_by_reason": dict(sorted(self.warnings.items())),
            "consents_recorded": self.consents_recorded,
            "batches_committed": self.batches_committed,
            "rejects_path": self.rejects_path,
        }


def rejects_path_for(path: Path) -> Path:
    """Where the rejects of `contacts.csv` go by default: `contacts.rejects.csv` beside it."""
    return path.with_name(f"{path.stem}.rejects.csv")


class _IssueFile:
    """The rejects-and-warnings CSV, created at the first issue, in the input's delimiter."""

    def __init__(self, path: Path, header: Sequence[str], delimiter: str) -> None:
        self.path = path
        self.header = list(header)
        self.delimiter = delimiter
        self._handle: TextIO | None = None
        self._writer: Any = None

    def __enter__(self) -> _IssueFile:
        self.path.unlink(missing_ok=True)  # a rejects file from an earlier run would mislead
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._handle is not None:
            self._handle.close()

    @property
    def written(self) -> bool:
        """Whether any issue was written."""
        return self._handle is not None

    def write(self, issues: Iterable[RowIssue]) -> None:
        """Append issues (in line order) and flush them to disk."""
        for issue in sorted(issues, key=lambda i: (i.line, i.kind)):
            if self._writer is None:
                self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
                self._writer = csv.writer(self._handle, delimiter=self.delimiter)
                self._writer.writerow(
                    ["line", "kind", "reason", *map(spreadsheet_cell, self.header)]
                )
            self._writer.writerow(
                [issue.line, issue.kind, *map(spreadsheet_cell, (issue.reason, *issue.cells))]
            )
        if self._handle is not None:
            self._handle.flush()


def import_contacts(
    engine: Engine,
    *,
    settings: Settings,
    path: Path | str,
    batch_size: int | None = None,
    default_region: str | None = None,
    rejects_path: Path | str | None = None,
    progress: ProgressCallback | None = None,
    source_name: str | None = None,
    workspace_timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    record: BatchRecorder | None = None,
) -> ImportReport:
    """Import a contacts CSV into the database behind `engine`; see the module docstring.

    File-level problems (missing file, neither a phone nor an email column) raise
    ValidationError before anything is written. Row problems are counted in the report and
    written to the rejects file, whose first columns (line, kind, reason) are skipped when it
    is imported in its turn; a consent-like column that is not read is a warning on line 1.
    `settings` give the defaults and the secret key of the suppression list; `mapping`
    (column → field, `attribute` or `ignore`) overrides what the headers' names say;
    `record` writes in each batch's transaction (see `BatchRecorder`); `progress` is told
    after each commit and may raise to stop the import between batches.
    """
    digest = address_digester(settings.resolved_secret_key())
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path} does not exist or is not a file", field="path")
    size = batch_size or settings.import_batch_size
    if size < 1:
        raise ValidationError("the batch size must be at least 1", field="batch_size")
    fmt = sniff_format(path)
    report = ImportReport(path=str(path), encoding=fmt.encoding, delimiter=fmt.delimiter)
    rejects = Path(rejects_path) if rejects_path else rejects_path_for(path)
    if rejects.resolve() == path.resolve():
        raise ValidationError("the rejects file cannot be the file imported", field="rejects")
    make_session = session_factory(engine)
    with make_session() as session:
        versions = set(session.scalars(select(ConsentText.version)))
    with path.open(encoding=fmt.encoding, newline="") as handle:
        header, rows = open_rows(handle, delimiter=fmt.delimiter)
        columns = map_columns(header, source=path.name, mapping=mapping)
        validator = RowValidator(
            columns,
            default_region=(default_region or settings.default_region).upper(),
            workspace_timezone=workspace_timezone or settings.workspace_timezone,
            now=utcnow(),
            text_versions=versions,
        )
        header_issues = validator.file_warnings()
        with _IssueFile(rejects, header, fmt.delimiter) as issue_file:
            for chunk in _chunks(rows, size):
                accepted: list[ImportRow] = []
                issues, header_issues = header_issues, []
                for line, cells in chunk:
                    checked = validator.validate(line, cells)
                    if isinstance(checked, RowIssue):
                        issues.append(checked)
                    else:
                        accepted.append(checked)
                        issues.extend(checked.warnings)
                batch = _Batch(
                    rows=len(chunk),
                    issues=issues,
                    total=max(fmt.lines - 1, report.rows_read + len(chunk)),
                )
                in_batch = partial(_record_batch, record, report, batch)
                counts, batch_issues = _BatchCounts(), list[RowIssue]()
                if accepted:
                    counts, batch_issues = _store_batch(
                        make_session,
                        accepted,
                        columns=columns,
                        source=source_name or path.name,
                        digest=digest,
                        in_batch=in_batch,
                    )
                elif record is not None:  # nothing to write but the progress
                    with make_session() as session, session.begin():
                        in_batch(session, counts, batch_issues)
                issue_file.write(batch.count_into(report, counts, batch_issues))
                if progress is not None:
                    progress(batch.progress(report))
            if header_issues:  # a file of headers only still hears about its columns
                _merge(report, _BatchCounts(), header_issues)
                issue_file.write(header_issues)
            report.rejects_path = str(rejects) if issue_file.written else None
    return report


def _chunks(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


@dataclass(frozen=True, slots=True)
class _Batch:
    """A chunk of the file on its way in: its rows, their issues, the file's estimated total."""

    rows: int
    issues: list[RowIssue]
    total: int

    def count_into(
        self, target: ImportReport, counts: _BatchCounts, batch_issues: list[RowIssue]
    ) -> list[RowIssue]:
        """Count the committed batch into `target`; returns its issues as finally kept."""
        # a row the batch rejected (it reached a contact another row updates) was not
        # imported: its warnings no longer apply
        dropped = {i.line for i in batch_issues if i.kind == "reject"}
        kept = [i for i in self.issues if i.kind == "reject" or i.line not in dropped]
        kept.extend(batch_issues)
        target.batches_committed += 1
        target.rows_read += self.rows
        _merge(target, counts, kept)
        return kept

    def progress(self, done: ImportReport) -> ImportProgress:
        """Where the import stands once `done` counts this batch."""
        return ImportProgress(done.rows_read, self.total, done.batches_committed)


def _record_batch(
    record: BatchRecorder | None,
    report: ImportReport,
    batch: _Batch,
    session: Session,
    counts: _BatchCounts,
    batch_issues: list[RowIssue],
) -> None:
    """Hand `record` the report as it will stand once this batch commits."""
    if record is not None:
        preview = copy.deepcopy(report)
        batch.count_into(preview, counts, batch_issues)
        record(session, preview, batch.progress(preview))


@dataclass(slots=True)
class _BatchCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    consents: int = 0


def _merge(report: ImportReport, counts: _BatchCounts, issues: Sequence[RowIssue]) -> None:
    report.created += counts.created
    report.updated += counts.updated
    report.unchanged += counts.unchanged
    report.consents_recorded += counts.consents
    for kind, tally in (("reject", report.rejected), ("warning", report.warnings)):
        for code, n in Counter(i.code for i in issues if i.kind == kind).items():
            tally[code] = tally.get(code, 0) + n


def _existing(session: Session, phones: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The current mergeable values of the contacts holding these numbers, by number."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(phones), _LOOKUP_CHUNK):
        query = select(*_WANTED).where(
            _CONTACTS.c.phone.in_(phones[start : start + _LOOKUP_CHUNK]),
            _CONTACTS.c.erased_at.is_(None),
        )
        for row in session.execute(query).mappings():
            found[row["phone"]] = dict(row)
    return found


def _existing_by_email(session: Session, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The contact (the oldest, when several) holding each lower-cased address."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(emails), _LOOKUP_CHUNK):
        query = (
            select(*_WANTED)
            .where(
                func.lower(_CONTACTS.c.email).in_(emails[start : start + _LOOKUP_CHUNK]),
                _CONTACTS.c.erased_at.is_(None),
            )
            .order_by(_CONTACTS.c.id)
        )
        for row in session.execute(query).mappings():
            found.setdefault(str(row["email"]).lower(), dict(row))
    return found


def _new_ids(session: Session, phones: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(phones), _LOOKUP_CHUNK):
        query = select(_CONTACTS.c.phone, _CONTACTS.c.id).where(
            _CONTACTS.c.phone.in_(phones[start : start + _LOOKUP_CHUNK])
        )
        ids.update((phone, cid) for phone, cid in session.execute(query))
    return ids


def _new_email_ids(session: Session, emails: Sequence[str]) -> dict[str, int]:
    """The ids of contacts just created without a number, by lower-cased address."""
    ids: dict[str, int] = {}
    lowered = func.lower(_CONTACTS.c.email)
    for start in range(0, len(emails), _LOOKUP_CHUNK):
        query = (
            select(lowered, func.max(_CONTACTS.c.id))
            .where(
                lowered.in_(emails[start : start + _LOOKUP_CHUNK]),
                _CONTACTS.c.phone.is_(None),
                _CONTACTS.c.erased_at.is_(None),
            )
            .group_by(lowered)
        )
        ids.update((email, cid) for email, cid in session.execute(query))
    return ids


def _existing_tags(session: Session, ids: Sequence[int]) -> set[tuple[int, str]]:
    pairs: set[tuple[int, str]] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        query = select(_TAGS.c.contact_id, _TAGS.c.tag).where(
            _TAGS.c.contact_id.in_(ids[start : start + _LOOKUP_CHUNK])
        )
        pairs.update((cid, tag) for cid, tag in session.execute(query))
    return pairs


def _new_values(row: ImportRow, now: dt.datetime) -> dict[str, Any]:
    values = row.values
    return {
        "phone": row.e164,
        "email": values.get("email"),
        "first_name": values.get("first_name"),
        "last_name": values.get("last_name"),
        "language": values.get("language"),
        "country": values.get("country") or row.number_country,
        "region": values.get("region"),
        "timezone": values.get("timezone"),
        "timezones": row.timezones,
        "phone_type": row.number_type,
        "attributes": row.attributes,
        "is_customer": bool(values.get("is_customer", False)),
        "created_at": now,
        "updated_at": now,
    }


def _merged_values(current: dict[str, Any], row: ImportRow) -> dict[str, Any]:
    """The contact after the row: non-empty cells win, attributes merge, zones follow the number.

    A row without a number leaves the contact's number, its type and zones as they are.
    """
    merged = {name: current[name] for name in _MERGED}
    merged.update(row.values)
    merged["attributes"] = {**(current["attributes"] or {}), **row.attributes}
    if row.e164 is not None:
        merged["timezones"] = row.timezones
        merged["phone_type"] = row.number_type  # also fills it for numbers stored before it
    if not merged["country"]:
        merged["country"] = row.number_country
    return merged


def _store_batch(
    make_session: sessionmaker[Session],
    rows: list[ImportRow],
    *,
    columns: ColumnMap,
    source: str,
    digest: Digester,
    in_batch: Callable[[Session, _BatchCounts, list[RowIssue]], None],
) -> tuple[_BatchCounts, list[RowIssue]]:
    """Write one batch in its own transaction, retried if another writer took a new number.

    `in_batch` is called last in that transaction, with the batch's counts and issues.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        counts, issues = _BatchCounts(), list[RowIssue]()
        try:
            with make_session() as session, session.begin():
                _write_batch(
                    session,
                    rows,
                    columns=columns,
                    counts=counts,
                    issues=issues,
                    source_name=source,
                    digest=digest,
                )
                in_batch(session, counts, issues)
        except IntegrityError:
            # A concurrent insert of one of our new numbers (PostgreSQL; SQLite serialises
            # writers): the next attempt sees it as existing and updates it instead.
            if attempt == _ATTEMPTS:
                raise
            continue
        return counts, issues
    raise AssertionError("unreachable")  # pragma: no cover


def _matches(
    session: Session, rows: list[ImportRow], issues: list[RowIssue]
) -> tuple[list[ImportRow], dict[int, dict[str, Any]]]:
    """The rows to write and, by line, the contact each one updates (absent: a new one).

    A row with a number matches on the number; a row without one on its email address. Two
    rows of a batch that reach one contact would overwrite each other: the later is rejected.
    """
    by_phone = _existing(session, [r.e164 for r in rows if r.e164])
    by_email = _existing_by_email(
        session, sorted({(r.email or "").lower() for r in rows if r.e164 is None})
    )
    kept: list[ImportRow] = []
    found: dict[int, dict[str, Any]] = {}
    claimed: dict[int, int] = {}  # contact id -> line of the row updating it
    for row in rows:
        current = by_phone.get(row.e164) if row.e164 else by_email.get((row.email or "").lower())
        if current is not None:
            first = claimed.setdefault(current["id"], row.line)
            if first != row.line:
                issues.append(
                    RowIssue(
                        row.line,
                        "reject",
                        IssueCode.DUPLICATE_IN_FILE,
                        f"duplicate in file: line {first} already updates the contact of "
                        f"{row.email or row.e164}",
                        row.cells,
                    )
                )
                continue
            found[row.line] = current
        kept.append(row)
    return kept, found


def _write_batch(
    session: Session,
    rows: list[ImportRow],
    *,
    columns: ColumnMap,
    counts: _BatchCounts,
    issues: list[RowIssue],
    source_name: str,
    digest: Digester,
) -> None:
    """Upsert one batch of valid rows, their tags and their consents, in bulk."""
    now = utcnow()
    rows, existing = _matches(session, rows, issues)
    fresh = [r for r in rows if r.line not in existing]
    ids: dict[int, int] = {}  # line -> contact id
    if fresh:
        # No RETURNING: on PostgreSQL it makes the multi-row insert three times slower than
        # this insert plus one SELECT of the new ids.
        session.execute(insert(_CONTACTS), [_new_values(r, now) for r in fresh])
        by_phone = _new_ids(session, [r.e164 for r in fresh if r.e164])
        by_email = _new_email_ids(
            session, [(r.email or "").lower() for r in fresh if r.e164 is None]
        )
        for row in fresh:
            ids[row.line] = by_phone[row.e164] if row.e164 else by_email[(row.email or "").lower()]
        counts.created += len(fresh)
    customers: dict[int, bool] = {}
    known_tags = _existing_tags(session, [c["id"] for c in existing.values()])
    changes: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for row in rows:
        if row.line not in existing:
            contact_id = ids[row.line]
            customers[row.line] = bool(row.values.get("is_customer", False))
            tag_rows.extend({"contact_id": contact_id, "tag": t} for t in row.tags)
            continue
        current = existing[row.line]
        contact_id = ids[row.line] = current["id"]
        merged = _merged_values(current, row)
        customers[row.line] = bool(merged["is_customer"])
        new_tags = [t for t in row.tags if (contact_id, t) not in known_tags]
        tag_rows.extend({"contact_id": contact_id, "tag": t} for t in new_tags)
        changed = any(merged[name] != current[name] for name in _MERGED)
        if changed:
            changes.append({"u_" + k: v for k, v in merged.items()} | {"u_id": contact_id})
        if changed or new_tags:
            counts.updated += 1
        else:
            counts.unchanged += 1
    if changes:
        session.execute(_update_statement(), [c | {"u_updated_at": now} for c in changes])
    fresh_ids = {ids[r.line] for r in fresh}
    touched_by_tags = {t["contact_id"] for t in tag_rows} - {c["u_id"] for c in changes} - fresh_ids
    if touched_by_tags:
        session.execute(
            update(_CONTACTS).where(_CONTACTS.c.id.in_(touched_by_tags)).values(updated_at=now)
        )
    if tag_rows:
        session.execute(upsert_insert(session, _TAGS).on_conflict_do_nothing(), tag_rows)
    if any(columns.has(name) for name in CONSENT_CLAIMS.values()):
        counts.consents += record_batch_consents(
            session,
            [r for r in rows if r.consents],
            ids=ids,
            customers=customers,
            issues=issues,
            source_name=source_name,
            digest=digest,
        )


def _update_statement() -> Any:
    values = {name: bindparam("u_" + name, type_=_CONTACTS.c[name].type) for name in _MERGED}
    values["updated_at"] = bindparam("u_updated_at", type_=_CONTACTS.c.updated_at.type)
    return update(_CONTACTS).where(_CONTACTS.c.id == bindparam("u_id")).values(values)
