"""The upload folder: CSV uploads waiting to be imported, rejects files, exports on their way out.

An upload is kept under a random token (`store_upload`), imported by that token with its
rejects file beside it and an audit entry (`import_upload`); the API does both in one
request, the dashboard shows the columns in between. Both call these same functions.

Every file in the folder holds personal data, so none stays for ever: uploads (and exports
a crash left behind) are deleted `upload_keep_hours` after they were written, rejects files
after `rejects_keep_days` (`purge_expired_files`, run by the retention worker of
`textopt serve` and by every upload, import and rejects download). A GDPR erasure deletes
at once every file with a row of the person (`purge_person_files`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tempfile
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor, record_audit
from textopt.config import Settings
from textopt.contacts.csvfile import open_rows, sniff_format
from textopt.contacts.importer import (
    BatchRecorder,
    ImportReport,
    ProgressCallback,
    import_contacts,
)
from textopt.db.engine import session_scope
from textopt.errors import ContentTooLarge, NotFoundError, ValidationError

__all__ = [
    "REJECTS_SUFFIX",
    "StoredUpload",
    "import_upload",
    "purge_expired_files",
    "purge_person_files",
    "rejects_file",
    "store_upload",
    "stored_upload",
    "upload_folder",
]

REJECTS_SUFFIX = ".rejects.csv"
_DIGITS = re.compile(r"\D+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what `secrets.token_urlsafe(18)` gives
_CHUNK = 1 << 20
_MAX_FILENAME = 200


def upload_folder(settings: Settings) -> Path:
    """The folder of uploads and rejects files (`upload_dir`, else the system's temp), 0700."""
    folder = Path(settings.upload_dir or Path(tempfile.gettempdir()) / "textopt-uploads")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def purge_expired_files(settings: Settings, *, now: float | None = None) -> int:
    """Delete uploads and rejects files past their keep time; returns how many."""
    folder = upload_folder(settings)
    at = time.time() if now is None else now
    uploads_before = at - dt.timedelta(hours=settings.upload_keep_hours).total_seconds()
    rejects_before = at - dt.timedelta(days=settings.rejects_keep_days).total_seconds()
    deleted = 0
    for path in folder.glob("*.csv"):
        before = rejects_before if path.name.endswith(REJECTS_SUFFIX) else uploads_before
        try:
            if path.stat().st_mtime < before:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another process purged it first
            continue
    return deleted


def _national_digits(phone: str) -> str:
    """The digits of an E.164 number without its `+` (what any notation of it ends with)."""
    return _DIGITS.sub("", phone)


def _holds(path: Path, *, numbers: Collection[str], emails: Collection[str]) -> bool:
    """Whether a row of this CSV has one of these numbers or addresses, in any column.

    Any column: a column the dashboard's mapping reads as the phone may have any header.
    A cell matches a number when its digits end with the number's last nine digits, so
    `06 12 34 56 78`, `0033612345678` and `+33612345678` all match `+33612345678` (a
    false match only deletes a file sooner than planned).
    """
    tails = {_national_digits(n)[-9:] for n in numbers if n}
    addresses = {e.strip().lower() for e in emails if e}
    try:
        fmt = sniff_format(path)
        with path.open(encoding=fmt.encoding, newline="") as handle:
            _, rows = open_rows(handle, delimiter=fmt.delimiter)
            for _, cells in rows:
                for cell in cells:
                    digits = _national_digits(cell)
                    if len(digits) >= 9 and any(digits.endswith(tail) for tail in tails):
                        return True
                    if cell.strip().lower() in addresses:
                        return True
    except (ValidationError, OSError, UnicodeDecodeError):
        return True  # unreadable: it may hold anyone, and nobody can import it anyway
    return False


def purge_person_files(
    settings: Settings, *, numbers: Collection[str], emails: Collection[str] = ()
) -> int:
    """Delete every upload and rejects file with a row of this person; returns how many."""
    deleted = 0
    for path in upload_folder(settings).glob("*.csv"):
        try:
            if _holds(path, numbers=numbers, emails=emails):
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """An upload kept in the folder: its token, where it lies, and the name it was sent under."""

    token: str
    path: Path
    filename: str


def _may_write(actor: Actor) -> None:
    # The faces check the permission before reading the body; this guards other callers.
    if not actor.operator:
        actor.require(Scope.WRITE)


def store_upload(
    settings: Settings, *, actor: Actor, source: BinaryIO, filename: str | None
) -> StoredUpload:
    """Copy an uploaded CSV into the folder under a new token, refusing it past `max_upload_mb`."""
    _may_write(actor)
    purge_expired_files(settings)
    max_bytes = int(settings.max_upload_mb * 2**20)
    token = secrets.token_urlsafe(18)
    path = upload_folder(settings) / f"{token}.csv"
    written = 0
    try:
        with path.open("wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise ContentTooLarge(f"the file is larger than {max_bytes // 2**20} MB")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)  # half a file of personal data is of no use to anyone
        raise
    return StoredUpload(token, path, (filename or "upload.csv")[:_MAX_FILENAME])


def stored_upload(settings: Settings, *, token: str) -> Path:
    """The upload kept under `token`, or NotFoundError once it is gone (imported or expired)."""
    path = upload_folder(settings) / f"{token}.csv"
    if not _TOKEN.fullmatch(token) or not path.is_file():
        raise NotFoundError("this upload is gone: upload the file again")
    return path


def import_upload(
    engine: Engine,
    settings: Settings,
    *,
    actor: Actor,
    token: str,
    filename: str,
    region: str | None,
    mapping: Mapping[str, str] | None = None,
    record: BatchRecorder | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the upload of `token` and delete it; its rejects file stays; audited.

    `mapping` (column → field, `attribute` or `ignore`) overrides the headers' names;
    `record` and `progress` follow the batches (see `import_contacts`). The import commits
    batch by batch in sessions of its own: the caller must hold no open transaction on
    SQLite (it would hold the write lock the import waits for).
    """
    _may_write(actor)
    purge_expired_files(settings)
    path = stored_upload(settings, token=token)
    try:
        report = import_contacts(
            engine,
            settings=settings,
            path=path,
            rejects_path=path.with_name(f"{token}{REJECTS_SUFFIX}"),
            default_region=region,
            source_name=filename[:_MAX_FILENAME],
            mapping=mapping,
            record=record,
            progress=progress,
        )
    finally:
        path.unlink(missing_ok=True)
    with session_scope(engine) as session:
        record_audit(
            session,
            actor=actor,
            action="contacts.imported",
            target_type="contacts",
            detail={
                "file": filename,
                "rows": report.rows_read,
                "created": report.created,
                **({"mapping": dict(mapping)} if mapping else {}),
            },
        )
    return report


def rejects_file(settings: Settings, *, token: str) -> Path:
    """The rejects file of the import of `token`, or NotFoundError (none, or expired)."""
    purge_expired_files(settings)
    path = upload_folder(settings) / f"{token}{REJECTS_SUFFIX}"
    if not _TOKEN.fullmatch(token) or not path.is_file():
        raise NotFoundError("no rejects file for this import (none, or expired)")
    return path
