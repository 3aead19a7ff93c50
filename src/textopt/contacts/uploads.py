"""The upload folder: CSV uploads waiting to be imported, rejects files, exports on their way out.

Every file in it holds personal data, so none stays for ever: uploads (and exports a crash
left behind) are deleted `upload_keep_hours` after they were written, rejects files after
`rejects_keep_days` (`purge_expired_files`, run by the housekeeping worker of `textopt
serve` and by every upload, import and rejects download of the API and the dashboard). A
GDPR erasure deletes at once every file with a row of the person (`purge_person_files`).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

from textopt.config import Settings
from textopt.contacts.csvfile import map_columns, open_rows, sniff_format
from textopt.errors import ValidationError

__all__ = [
    "REJECTS_SUFFIX",
    "purge_expired_files",
    "purge_person_files",
    "upload_folder",
]

REJECTS_SUFFIX = ".rejects.csv"
_DIGITS = re.compile(r"\D+")


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
    """Whether a row of this CSV has one of these numbers or addresses.

    A phone cell matches when its digits end with the last nine digits of the number, so
    `06 12 34 56 78`, `0033612345678` and `+33612345678` all match `+33612345678` (a
    false match only deletes a file sooner than planned).
    """
    tails = {_national_digits(n)[-9:] for n in numbers if n}
    addresses = {e.strip().lower() for e in emails if e}
    try:
        fmt = sniff_format(path)
        with path.open(encoding=fmt.encoding, newline="") as handle:
            header, rows = open_rows(handle, delimiter=fmt.delimiter)
            columns = map_columns(header, source=path.name)
            phone = columns.fields["phone"]
            email = columns.fields.get("email")
            for _, cells in rows:
                digits = _national_digits(cells[phone]) if phone < len(cells) else ""
                if digits and any(digits.endswith(tail) for tail in tails):
                    return True
                if (
                    email is not None
                    and email < len(cells)
                    and (cells[email].strip().lower() in addresses)
                ):
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
