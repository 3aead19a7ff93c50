"""`/v1/contacts/{id}/questions`: what messages asked a contact and how the contact answered."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from textopt.contacts import service as contacts
from textopt.db.base import utcnow
from textopt.db.ids import MAX_ID
from textopt.http.deps import CurrentActor, DbSession
from textopt.http.params import Limit, RowId
from textopt.questions.service import list_questions, question_fields

router = APIRouter(tags=["questions"])


class QuestionRead(BaseModel):
    """A question a message asked (an appointment to confirm or cancel by reply)."""

    id: int
    contact_id: int
    kind: str = Field(description="appointment")
    reference: str | None = Field(description="The sender's reference: the appointment's id")
    message_id: int = Field(description="The message that asked it")
    message_status: str = Field(description="That message's status")
    state: str = Field(
        description="waiting (its message not sent yet), open, answered, expired (its time "
        "passed) or undelivered (its message failed, expired, was blocked or cancelled)"
    )
    asked_at: dt.datetime
    expires_at: dt.datetime = Field(description="Answers after it do not count")
    answered_at: dt.datetime | None
    answer: str | None = Field(description="confirmed or cancelled")
    inbound_message_id: int | None = Field(description="The reply that answered it")
    event_id: int | None = Field(description="The event the answer recorded")


class QuestionPage(BaseModel):
    """One page of a contact's questions, the latest first."""

    items: list[QuestionRead]
    next: str | None = Field(description="Pass as `before` for the next page; null at the end")


@router.get("/v1/contacts/{contact_id}/questions", response_model=QuestionPage)
def contact_questions(
    contact_id: RowId,
    actor: CurrentActor,
    session: DbSession,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="The `next` of the previous page")
    ] = None,
    limit: Limit = 50,
) -> QuestionPage:
    """One contact's questions, the latest first (404 for an unknown or erased contact)."""
    contacts.get_contact_or_raise(session, contact_id=contact_id)
    views = list_questions(
        session, contact_id=contact_id, now=utcnow(), before_id=before, limit=limit + 1
    )
    more = len(views) > limit
    items = [QuestionRead.model_validate(question_fields(v)) for v in views[:limit]]
    return QuestionPage(items=items, next=str(items[-1].id) if more else None)
