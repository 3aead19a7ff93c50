"""Saved audiences (segments): create, find, change, delete; count and stream their contacts.

A segment stores the filter text as written (validated by parsing it); `describe` gives its
canonical form. Audiences are evaluated at an instant `now` given by the caller, so a count and
the batches of a campaign plan agree on relative terms such as `active_within:90d`.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import Filter, audience_select, compile_filter, parse_filter
from textopt.campaigns.segment_models import Segment
from textopt.contacts.models import Contact
from textopt.db.ids import MAX_ID, parse_id
from textopt.errors import ConflictError, NotFoundError, ValidationError

__all__ = [
    "UNSET",
    "audience_ids",
    "count_audience",
    "create_segment",
    "delete_segment",
    "get_segment",
    "get_segment_or_raise",
    "list_segments",
    "resolve_audience",
    "update_segment",
]

_NAME = re.compile(r"\w[\w .-]*")
_MAX_NAME = 100


class _Unset(enum.Enum):
    """Marks an argument that was not given (None means "clear it")."""

    UNSET = enum.auto()


UNSET = _Unset.UNSET


def _segment_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        raise ValidationError(
            f'segment name "{raw}" must be 1 to {_MAX_NAME} letters, digits, spaces, _ . or -, '
            "starting with a letter or digit",
            field="name",
        )
    if name.isdecimal():  # any digits, ASCII or not: never a name
        raise ValidationError(
            f'segment name "{name}" cannot be only digits (it would read as an id)', field="name"
        )
    return name


def _filter_text(raw: str) -> str:
    text = raw.strip()
    parse_filter(text)  # raises ValidationError with the column of the mistake
    return text


def _description(raw: str | None) -> str | None:
    text = (raw or "").strip()
    return text or None


def get_segment(session: Session, *, name_or_id: str | int) -> Segment | None:
    """The segment with this name (exact) or id, or None."""
    if isinstance(name_or_id, int):
        return session.get(Segment, name_or_id) if 1 <= name_or_id <= MAX_ID else None
    name = " ".join(name_or_id.split())
    found = session.scalars(select(Segment).where(Segment.name == name)).one_or_none()
    segment_id = parse_id(name)
    if found is None and segment_id is not None:
        return session.get(Segment, segment_id)
    return found


def get_segment_or_raise(session: Session, *, name_or_id: str | int) -> Segment:
    """The segment with this name or id, or NotFoundError."""
    segment = get_segment(session, name_or_id=name_or_id)
    if segment is None:
        raise NotFoundError(f'no segment "{name_or_id}"')
    return segment


def _refuse_taken(session: Session, *, name: str, own_id: int | None = None) -> None:
    other = session.scalars(select(Segment).where(Segment.name == name)).one_or_none()
    if other is not None and other.id != own_id:
        raise ConflictError(f'a segment named "{name}" already exists', field="name")


def create_segment(
    session: Session, *, name: str, filter: str, description: str | None = None
) -> Segment:
    """Save a named filter after checking that it parses; the name must be free."""
    segment_name = _segment_name(name)
    _refuse_taken(session, name=segment_name)
    segment = Segment(
        name=segment_name, filter=_filter_text(filter), description=_description(description)
    )
    session.add(segment)
    session.flush()
    return segment


def update_segment(
    session: Session,
    *,
    name_or_id: str | int,
    name: str | _Unset = UNSET,
    filter: str | _Unset = UNSET,
    description: str | _Unset | None = UNSET,
) -> Segment:
    """Rename a segment, change its filter (checked) or its description (None clears it)."""
    segment = get_segment_or_raise(session, name_or_id=name_or_id)
    if not isinstance(name, _Unset):
        new_name = _segment_name(name)
        _refuse_taken(session, name=new_name, own_id=segment.id)
        segment.name = new_name
    if not isinstance(filter, _Unset):
        segment.filter = _filter_text(filter)
    if not isinstance(description, _Unset):
        segment.description = _description(description)
    session.flush()
    return segment


def list_segments(session: Session) -> list[Segment]:
    """Every segment, by name."""
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def delete_segment(session: Session, *, name_or_id: str | int) -> None:
    """Delete a segment; campaigns keep the copy of the filter they were created with."""
    session.delete(get_segment_or_raise(session, name_or_id=name_or_id))
    session.flush()


def resolve_audience(session: Session, *, name_or_filter: str) -> tuple[Segment | None, Filter]:
    """A saved segment's filter when the text names one, else the text parsed as a filter."""
    segment = get_segment(session, name_or_id=name_or_filter) if name_or_filter.strip() else None
    if segment is not None:
        return segment, parse_filter(segment.filter)
    return None, parse_filter(name_or_filter)


def _tree(filter: str | Filter) -> Filter:
    return parse_filter(filter) if isinstance(filter, str) else filter


def count_audience(session: Session, *, filter: str | Filter, now: dt.datetime) -> int:
    """How many contacts the filter matches at `now` (one COUNT query)."""
    condition = compile_filter(_tree(filter), now=now)
    return int(session.scalar(select(func.count()).select_from(Contact).where(condition)) or 0)


def audience_ids(
    session: Session, *, filter: str | Filter, now: dt.datetime, batch_size: int = 10_000
) -> Iterator[list[int]]:
    """The matching contact ids in ascending batches, one keyset-paginated query per batch."""
    if batch_size < 1:
        raise ValidationError("batch_size must be at least 1", field="batch_size")
    query = audience_select(_tree(filter), now=now).limit(batch_size)
    last_id = 0
    while True:
        ids = list(session.scalars(query.where(Contact.id > last_id)))
        if ids:
            yield ids
        if len(ids) < batch_size:
            return
        last_id = ids[-1]
