"""Planning: stream the audience, render, compose, decide, write the outbox in bulk.

`plan_campaign` and `preview_campaign` share one code path; the preview writes nothing.
The package's modules, in the order a run uses them:

- `context`: the frozen `RunContext` of a run (campaign, window, template, channels),
  passed to both planners;
- `contacts`: the contact rows planning reads (columns, audience pages, rows by id);
- `recipients`: planning one recipient at a time (the hot loops, compositions and
  decisions cached on what they depend on);
- `classes`: planning by class of recipient, the set-based path of SMS campaigns with
  plain templates;
- `tally` and `report`: the report, tallied once per distinct outcome;
- `snapshot`: the SQLite reading session beside the planning transaction;
- `run`: the pipeline (pages planned on the main thread, written in another).

The outbox rows themselves, their writers and the decision → columns mapping are the
outbox's (`textopt.outbox`).
"""

from __future__ import annotations

from textopt.campaigns.planning.context import RunContext, campaign_window, run_context
from textopt.campaigns.planning.report import ChannelPlan, PlanReport
from textopt.campaigns.planning.run import (
    CAP_WINDOW_DAY,
    plan_campaign,
    planned_elsewhere,
    preview_campaign,
)

__all__ = [
    "CAP_WINDOW_DAY",
    "ChannelPlan",
    "PlanReport",
    "RunContext",
    "campaign_window",
    "plan_campaign",
    "planned_elsewhere",
    "preview_campaign",
    "run_context",
]
