"""Tables of the flows domain: flows, their versions, occurrences (`flow_runs`), the step log
and the triggers' cursors."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = [
    "FLOW_TRANSITIONS",
    "Flow",
    "FlowCursor",
    "FlowRun",
    "FlowRunState",
    "FlowSegmentMember",
    "FlowState",
    "FlowStepLog",
    "FlowVersion",
    "StepOutcome",
    "log_row",
]


class FlowState(StrEnum):
    """Where a flow stands."""

    DRAFT = "draft"  # being written: triggers nothing
    ACTIVE = "active"  # its trigger starts occurrences and its runner moves them
    PAUSED = "paused"  # nothing starts, nothing moves; waiting occurrences wait
    ARCHIVED = "archived"  # ended for good: its open occurrences are exited


#: The transitions a flow may take; every other one is refused.
FLOW_TRANSITIONS: dict[FlowState, frozenset[FlowState]] = {
    FlowState.DRAFT: frozenset({FlowState.ACTIVE, FlowState.ARCHIVED}),
    FlowState.ACTIVE: frozenset({FlowState.PAUSED, FlowState.ARCHIVED}),
    FlowState.PAUSED: frozenset({FlowState.ACTIVE, FlowState.ARCHIVED}),
    FlowState.ARCHIVED: frozenset(),
}


class FlowRunState(StrEnum):
    """Where one occurrence stands."""

    ACTIVE = "active"  # its next step runs at `due_at`
    COMPLETED = "completed"  # every step ran
    EXITED = "exited"  # left before the end: `exit_reason` says why


class StepOutcome(StrEnum):
    """What the step log records of a step."""

    ENTERED = "entered"  # the occurrence started (step 0) or reached a step
    WAITING = "waiting"  # a wait step set the time of the next one
    SENT = "sent"  # a send step wrote its message to the outbox (it may still be deferred)
    SKIPPED = "skipped"  # a send step's message was refused: the reason says why; the flow goes on
    EXITED = "exited"  # the occurrence ended here: the reason says why
    COMPLETED = "completed"  # the last step ran


class Flow(Base):
    """A flow: its name, state and the number of its latest version."""

    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=FlowState.DRAFT)
    latest_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))
    # when it was last activated: triggers start from there (nothing before it is replayed)
    activated_at: Mapped[dt.datetime | None] = mapped_column()


class FlowVersion(Base):
    """One version of a flow's definition, never changed once written (`definition`: the
    JSON of `FlowDefinition.to_data`)."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))


_OPEN = "state = 'active'"


class FlowRun(Base):
    """One occurrence of a flow for a contact: unique per (flow, contact, occurrence key).

    `step` is the index of the next step to run, at `due_at`. A runner that claims it holds
    its lease (`lease_owner` until `lease_until`); the step and its effect (the outbox row)
    are committed together, so a crash never runs a step twice nor skips one. `trigger`
    holds what started it (the event's id and properties, the date).
    """

    __tablename__ = "flow_runs"
    __table_args__ = (
        UniqueConstraint("flow_id", "contact_id", "occurrence_key"),
        # the runner's claim: open occurrences by due time
        Index("ix_flow_runs_due", "due_at", sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
        Index("ix_flow_runs_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("flow_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    occurrence_key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default=FlowRunState.ACTIVE)
    step: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    exit_reason: Mapped[str | None] = mapped_column(String(32))


class FlowStepLog(Base):
    """What happened at one step of one occurrence, with its reason and message."""

    __tablename__ = "flow_step_log"
    __table_args__ = (
        Index("ix_flow_step_log_flow", "flow_id", "version_id", "step"),
        Index("ix_flow_step_log_run", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"))
    flow_id: Mapped[int] = mapped_column()
    version_id: Mapped[int] = mapped_column()
    step: Mapped[int] = mapped_column()  # index of the step; the trigger's entry is step 0
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column()


def log_row(
    *,
    run_id: int,
    flow_id: int,
    version_id: int,
    step: int,
    outcome: StepOutcome,
    at: dt.datetime,
    reason: str | None = None,
    sentence: str | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """One step log entry as a row for a bulk insert (the one spelling of its columns)."""
    return {
        "run_id": run_id,
        "flow_id": flow_id,
        "version_id": version_id,
        "step": step,
        "outcome": outcome,
        "reason": reason,
        "reason_text": sentence,
        "message_id": message_id,
        "at": at,
    }


class FlowCursor(Base):
    """Where a flow's trigger has read up to: the last event or ledger row, or the last scan."""

    __tablename__ = "flow_cursors"

    flow_id: Mapped[int] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    scanned_at: Mapped[dt.datetime | None] = mapped_column()


class FlowSegmentMember(Base):
    """A contact inside a `segment_entered` flow's segment at its last scan (to see who enters)."""

    __tablename__ = "flow_segment_members"

    flow_id: Mapped[int] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
