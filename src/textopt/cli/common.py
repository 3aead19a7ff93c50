"""What every command shares: consoles, the engine of the configured database, JSON output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from textopt.config import get_settings
from textopt.consent.suppression import Digester, address_digester
from textopt.db.engine import create_db_engine, display_url, session_scope
from textopt.db.migrate import ensure_schema
from textopt.errors import ValidationError
from textopt.instants import utc_instant

__all__ = [
    "console",
    "console_err",
    "digester",
    "engine",
    "parse_duration",
    "parse_instant",
    "print_json",
    "session",
]

console = Console()
console_err = Console(stderr=True)

_engines: dict[str, Engine] = {}


def engine(*, check_schema: bool = True) -> Engine:
    """The engine for the configured database (one per URL per process).

    On first use an empty database gets its schema; one behind the code is refused with
    the command that fixes it.
    """
    url = get_settings().database_url
    if url not in _engines:
        created = create_db_engine(url)
        if check_schema and ensure_schema(created):
            console_err.print(f"created the database schema at {display_url(created)}")
        _engines[url] = created
    return _engines[url]


def digester() -> Digester:
    """The keyed digest of addresses under the configured secret key (the suppression list's)."""
    return address_digester(get_settings().resolved_secret_key())


@contextmanager
def session() -> Iterator[Session]:
    """A committed-on-success session on the configured database."""
    with session_scope(engine()) as s:
        yield s


def print_json(data: Any) -> None:
    """Print `data` as JSON on stdout (dates as ISO 8601), nothing else."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def parse_instant(value: str, *, field: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (`Z` allowed); a bare date or local time is refused."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(
            f"{field}: {value!r} is not an ISO 8601 date-time", field=field
        ) from exc
    if parsed.tzinfo is None:
        raise ValidationError(
            f"{field}: {value!r} has no offset; write e.g. 2026-11-25T09:30:00+01:00",
            field=field,
        )
    utc_instant(parsed, field=field)  # refuses an instant that leaves the calendar in UTC
    return parsed


_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_duration(value: str, *, field: str) -> dt.timedelta:
    """A duration such as `90d`, `6w`, `18m` or `3y` (months of 30 days, years of 365)."""
    text = value.strip().lower()
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdecimal():
        raise ValidationError(
            f"{field}: {value!r} is not a duration like 90d, 6w, 18m or 3y", field=field
        )
    return dt.timedelta(days=int(text[:-1]) * _UNITS[text[-1]])
