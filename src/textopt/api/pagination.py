"""Cursor pagination: `?after=<cursor>&limit=<n>`; a page says where the next one starts.

The cursor is the id of the last item of a page, so a page is one keyset query
(`id > cursor ORDER BY id LIMIT n + 1`) however deep it is, and rows added meanwhile are
neither skipped nor repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.orm import Session

__all__ = ["Page", "page_from_list", "page_of"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next` is the cursor of the following page, or null at the end."""

    items: list[T]
    next: str | None = Field(description="Pass as `after` for the next page; null at the end")


def page_of(
    session: Session,
    query: Select[Any],
    *,
    id_column: Any,
    after: int | None,
    limit: int,
    convert: Callable[[Any], T],
) -> Page[T]:
    """Run a keyset page of `query` (ORM entities) ordered by `id_column`."""
    if after is not None:
        query = query.where(id_column > after)
    rows: Sequence[Any] = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = str(getattr(rows[-1], "id")) if more and rows else None  # noqa: B009
    return Page[T](items=[convert(r) for r in rows], next=cursor)


def page_from_list(items: Sequence[Any], *, limit: int, convert: Callable[[Any], T]) -> Page[T]:
    """A page from a service's list fetched with `limit + 1` items (the extra one: more)."""
    more = len(items) > limit
    kept = list(items[:limit])
    cursor = str(kept[-1].id) if more and kept else None
    return Page[T](items=[convert(i) for i in kept], next=cursor)
