"""`/v1/keywords`: words the workspace answers automatically (HORAIRES); list, create, change,
delete. Reading needs `read`, changing needs `write` (as segments)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts.models import Scope
from textopt.accounts.service import Actor
from textopt.db.base import utcnow
from textopt.http.deps import CurrentActor, DbSession, require
from textopt.inbound import workspace_keywords as service
from textopt.inbound.models import WorkspaceKeyword

router = APIRouter(prefix="/v1/keywords", tags=["keywords"])
Writer = Annotated[Actor, Depends(require(Scope.WRITE))]
_TEXTS = (
    "The answer per language (fr, en, es, de): at least one, each 1 to 612 characters. "
    "It goes in the language of the contact, else of the number's country, else of the "
    "workspace."
)


class KeywordCreate(BaseModel):
    """A keyword and its answers."""

    model_config = ConfigDict(extra="forbid")

    word: str = Field(
        min_length=1,
        max_length=64,
        description="One word of letters or digits (HORAIRES); matched whole, in any case, "
        "with or without accents; STOP, START, HELP, YES and their translations are reserved",
    )
    texts: dict[str, str] = Field(description=_TEXTS)
    enabled: bool = Field(default=True, description="False: matched but not answered")


class KeywordUpdate(BaseModel):
    """Fields to change; a field left out is kept (`texts` replaces every answer)."""

    model_config = ConfigDict(extra="forbid")

    word: str | None = Field(default=None, min_length=1, max_length=64)
    texts: dict[str, str] | None = Field(default=None, description=_TEXTS)
    enabled: bool | None = None


class KeywordRead(BaseModel):
    """A keyword of the workspace."""

    id: int
    word: str = Field(description="As written, in capitals")
    texts: dict[str, str]
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def _read(keyword: WorkspaceKeyword) -> KeywordRead:
    return KeywordRead(
        id=keyword.id,
        word=keyword.label,
        texts=dict(keyword.texts),
        enabled=keyword.enabled,
        created_at=keyword.created_at,
        updated_at=keyword.updated_at,
    )


@router.get("", response_model=list[KeywordRead])
def list_keywords(actor: CurrentActor, session: DbSession) -> list[KeywordRead]:
    """Every keyword, by word."""
    return [_read(k) for k in service.list_keywords(session)]


@router.post("", response_model=KeywordRead, status_code=201)
def create_keyword(body: KeywordCreate, actor: Writer, session: DbSession) -> KeywordRead:
    """Define a keyword (409 if the word exists; 422 for a reserved or malformed word)."""
    keyword = service.create_keyword(
        session,
        actor=actor,
        word=body.word,
        texts=body.texts,
        enabled=body.enabled,
        now=utcnow(),
    )
    return _read(keyword)


@router.get("/{word_or_id}", response_model=KeywordRead)
def get_keyword(word_or_id: str, actor: CurrentActor, session: DbSession) -> KeywordRead:
    """One keyword, by word or id."""
    return _read(service.get_keyword_or_raise(session, word_or_id=word_or_id))


@router.patch("/{word_or_id}", response_model=KeywordRead)
def update_keyword(
    word_or_id: str, body: KeywordUpdate, actor: Writer, session: DbSession
) -> KeywordRead:
    """Change a keyword's word, answers or switch."""
    keyword = service.update_keyword(
        session,
        actor=actor,
        word_or_id=word_or_id,
        word=body.word,
        texts=body.texts,
        enabled=body.enabled,
        now=utcnow(),
    )
    return _read(keyword)


@router.delete("/{word_or_id}", status_code=204)
def delete_keyword(word_or_id: str, actor: Writer, session: DbSession) -> Response:
    """Delete a keyword; messages that asked for it keep the word they matched."""
    service.delete_keyword(session, actor=actor, word_or_id=word_or_id)
    return Response(status_code=204)
