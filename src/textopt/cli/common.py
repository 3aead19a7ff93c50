"""What every command shares: consoles, the engine of the configured database, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from textopt.config import get_settings
from textopt.db.engine import create_db_engine, session_scope

__all__ = ["console", "console_err", "engine", "print_json", "session"]

console = Console()
console_err = Console(stderr=True)

_engines: dict[str, Engine] = {}


def engine() -> Engine:
    """The engine for the configured database (one per URL per process)."""
    url = get_settings().database_url
    if url not in _engines:
        _engines[url] = create_db_engine(url)
    return _engines[url]


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
