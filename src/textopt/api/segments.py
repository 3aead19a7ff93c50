"""`/v1/segments`: saved audiences; create, list, change, delete, count."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.campaigns import segments as service
from textopt.campaigns.audience import describe, parse_filter
from textopt.campaigns.segment_models import Segment
from textopt.db.base import utcnow
from textopt.http.deps import CurrentActor, DbSession, require

router = APIRouter(prefix="/v1/segments", tags=["segments"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]


class SegmentCreate(BaseModel):
    """A named filter (see the audience filter language)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    filter: str = Field(max_length=10_000)
    description: str | None = Field(default=None, max_length=1000)


class SegmentUpdate(BaseModel):
    """Fields to change; a field left out is kept."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    filter: str | None = Field(default=None, max_length=10_000)
    description: str | None = Field(default=None, max_length=1000)


class SegmentRead(BaseModel):
    """A segment with its filter as written and in canonical form."""

    id: int
    name: str
    filter: str
    canonical: str
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SegmentCount(BaseModel):
    """How many contacts a segment matches now."""

    id: int
    name: str
    count: int


def _read(segment: Segment) -> SegmentRead:
    return SegmentRead(
        id=segment.id,
        name=segment.name,
        filter=segment.filter,
        canonical=describe(parse_filter(segment.filter)),
        description=segment.description,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )


@router.get("", response_model=list[SegmentRead])
def list_segments(actor: CurrentActor, session: DbSession) -> list[SegmentRead]:
    """Every segment, by name."""
    return [_read(s) for s in service.list_segments(session)]


@router.post("", response_model=SegmentRead, status_code=201)
def create_segment(body: SegmentCreate, actor: Writer, session: DbSession) -> SegmentRead:
    """Save a filter under a name (the filter is checked; errors name the column)."""
    return _read(service.create_segment(session, **body.model_dump()))


@router.get("/{name_or_id}", response_model=SegmentRead)
def get_segment(name_or_id: str, actor: CurrentActor, session: DbSession) -> SegmentRead:
    """One segment, by name or id."""
    return _read(service.get_segment_or_raise(session, name_or_id=name_or_id))


@router.patch("/{name_or_id}", response_model=SegmentRead)
def update_segment(
    name_or_id: str, body: SegmentUpdate, actor: Writer, session: DbSession
) -> SegmentRead:
    """Rename a segment, change its filter or description."""
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "filter"):
        if required in changes and changes[required] is None:
            del changes[required]
    return _read(service.update_segment(session, name_or_id=name_or_id, **changes))


@router.delete("/{name_or_id}", status_code=204)
def delete_segment(name_or_id: str, actor: Writer, session: DbSession) -> Response:
    """Delete a segment; campaigns keep their copy of its filter."""
    service.delete_segment(session, name_or_id=name_or_id)
    return Response(status_code=204)


@router.get("/{name_or_id}/count", response_model=SegmentCount)
def count_segment(name_or_id: str, actor: CurrentActor, session: DbSession) -> SegmentCount:
    """How many contacts the segment matches now."""
    segment = service.get_segment_or_raise(session, name_or_id=name_or_id)
    count = service.count_audience(session, filter=segment.filter, now=utcnow())
    return SegmentCount(id=segment.id, name=segment.name, count=count)
