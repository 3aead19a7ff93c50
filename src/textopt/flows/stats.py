"""Stats per step of a flow, per version: entered, waiting, sent, skipped and exited by reason.

Step 0 is the trigger (occurrences that entered); steps 1… are the definition's. An
occurrence waiting is counted at the wait step it waits on (or at step 0 before its first
step ran). Two grouped reads, whatever the number of occurrences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.flows.models import Flow, FlowRun, FlowRunState, FlowStepLog, FlowVersion, StepOutcome
from textopt.flows.service import definition_of

__all__ = ["StepStats", "VersionStats", "flow_stats", "stats_fields"]


@dataclass(slots=True)
class StepStats:
    """The counts of one step of one version."""

    step: int  # 0: the trigger
    kind: str  # trigger, wait, condition or send
    entered: int = 0
    waiting: int = 0
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # by reason
    exited: dict[str, int] = field(default_factory=dict)  # by reason
    completed: int = 0


@dataclass(slots=True)
class VersionStats:
    """The steps of one version of a flow and the occurrences it holds."""

    version: int
    occurrences: int
    active: int
    steps: list[StepStats]


def flow_stats(session: Session, *, flow: Flow) -> list[VersionStats]:
    """Each version's steps with their counts, the latest version first."""
    versions = list(
        session.scalars(
            select(FlowVersion)
            .where(FlowVersion.flow_id == flow.id)
            .order_by(FlowVersion.number.desc())
        )
    )
    tables: dict[int, VersionStats] = {}
    for version in versions:
        definition = definition_of(version)
        steps = [StepStats(step=0, kind="trigger")] + [
            StepStats(step=n, kind=str(s.kind)) for n, s in enumerate(definition.steps, start=1)
        ]
        tables[version.id] = VersionStats(
            version=version.number, occurrences=0, active=0, steps=steps
        )
    logged = session.execute(
        select(
            FlowStepLog.version_id,
            FlowStepLog.step,
            FlowStepLog.outcome,
            FlowStepLog.reason,
            func.count(),
        )
        .where(FlowStepLog.flow_id == flow.id)
        .group_by(FlowStepLog.version_id, FlowStepLog.step, FlowStepLog.outcome, FlowStepLog.reason)
    ).all()
    for version_id, step, outcome, reason, count in logged:
        table = tables.get(version_id)
        if table is None or not 0 <= step < len(table.steps):
            continue
        counts = table.steps[step]
        if outcome == StepOutcome.ENTERED:
            table.occurrences += count
        elif outcome == StepOutcome.SENT:
            counts.sent += count
        elif outcome == StepOutcome.SKIPPED:
            counts.skipped[reason or "blocked"] = counts.skipped.get(reason or "blocked", 0) + count
        elif outcome == StepOutcome.EXITED:
            counts.exited[reason or "exited"] = counts.exited.get(reason or "exited", 0) + count
        elif outcome == StepOutcome.COMPLETED:
            counts.completed += count
    # an occurrence enters a step once, whatever it logged there (a refusal: skipped, exited)
    reached = session.execute(
        select(
            FlowStepLog.version_id, FlowStepLog.step, func.count(func.distinct(FlowStepLog.run_id))
        )
        .where(FlowStepLog.flow_id == flow.id, FlowStepLog.outcome != StepOutcome.COMPLETED)
        .group_by(FlowStepLog.version_id, FlowStepLog.step)
    ).all()
    for version_id, step, count in reached:
        table = tables.get(version_id)
        if table is not None and 0 <= step < len(table.steps):
            table.steps[step].entered = count
    waiting = session.execute(
        select(FlowRun.version_id, FlowRun.step, func.count())
        .where(FlowRun.flow_id == flow.id, FlowRun.state == FlowRunState.ACTIVE)
        .group_by(FlowRun.version_id, FlowRun.step)
    ).all()
    for version_id, step, count in waiting:
        table = tables.get(version_id)
        if table is None:
            continue
        table.active += count
        table.steps[min(step, len(table.steps) - 1)].waiting += count
    return [tables[v.id] for v in versions]


def stats_fields(stats: list[VersionStats]) -> list[dict[str, Any]]:
    """The stats as JSON-ready data."""
    return [
        {
            "version": table.version,
            "occurrences": table.occurrences,
            "active": table.active,
            "steps": [
                {
                    "step": s.step,
                    "kind": s.kind,
                    "entered": s.entered,
                    "waiting": s.waiting,
                    "sent": s.sent,
                    "skipped": dict(s.skipped),
                    "exited": dict(s.exited),
                    "completed": s.completed,
                }
                for s in table.steps
            ],
        }
        for table in stats
    ]
