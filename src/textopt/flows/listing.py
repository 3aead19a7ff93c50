"""Flows as the dashboard lists them: each with its counts, in two grouped reads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.flows.models import Flow, FlowRun, FlowRunState, FlowStepLog, StepOutcome
from textopt.flows.service import list_flows

__all__ = ["FlowSummary", "flow_summaries"]


@dataclass(frozen=True, slots=True)
class FlowSummary:
    """One flow with its occurrences (all versions): started, still open, messages sent."""

    flow: Flow
    occurrences: int
    active: int
    sent: int


def flow_summaries(session: Session) -> list[FlowSummary]:
    """Every flow by name with its counts; whatever the number of occurrences, two reads."""
    flows = list_flows(session)
    active = (
        select(FlowRun.flow_id, func.count())
        .where(FlowRun.state == FlowRunState.ACTIVE)
        .group_by(FlowRun.flow_id)
    )
    runs: dict[int, int] = {row[0]: row[1] for row in session.execute(active)}
    logged: dict[tuple[int, str], int] = {
        (flow_id, outcome): count
        for flow_id, outcome, count in session.execute(
            select(FlowStepLog.flow_id, FlowStepLog.outcome, func.count())
            .where(FlowStepLog.outcome.in_([StepOutcome.ENTERED, StepOutcome.SENT]))
            .group_by(FlowStepLog.flow_id, FlowStepLog.outcome)
        )
    }
    return [
        FlowSummary(
            flow=flow,
            occurrences=logged.get((flow.id, StepOutcome.ENTERED), 0),
            active=runs.get(flow.id, 0),
            sent=logged.get((flow.id, StepOutcome.SENT), 0),
        )
        for flow in flows
    ]
