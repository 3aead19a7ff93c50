"""What a step computes, pure: the time a wait ends, the date it refers to, the variables a
send's template sees. The runner and the preview both use these (one definition each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from textopt.flows.definition import FlowDefinition, Until, Wait
from textopt.flows.timing import at_local_hour, parse_date_value
from textopt.outbox.states import MessageStatus

#: A message written in these states at its decision is not going out: the step is refused.
REFUSED_STATES = frozenset({MessageStatus.BLOCKED, MessageStatus.EXPIRED})

__all__ = ["REFUSED_STATES", "WaitEnd", "reference_instant", "send_variables", "wait_end"]


@dataclass(frozen=True, slots=True)
class WaitEnd:
    """When a wait ends, or why the occurrence ends there (`reason`, `sentence`)."""

    at: dt.datetime | None
    reason: str | None = None
    sentence: str | None = None


def reference_instant(
    until: Until, *, trigger: Mapping[str, Any], attributes: Mapping[str, Any], where: ZoneInfo
) -> dt.datetime | None:
    """The date `until` names: the trigger event's property (`event.x`, or `x` when the event
    has it), the trigger's date attribute, else the contact's attribute; None if absent."""
    properties = trigger.get("properties") or {}
    if until.from_event:
        return parse_date_value(properties.get(until.reference), where)
    if until.reference in properties:
        return parse_date_value(properties[until.reference], where)
    if trigger.get("attribute") == until.reference and trigger.get("date"):
        return parse_date_value(trigger["date"], where)
    return parse_date_value(attributes.get(until.reference), where)


def wait_end(
    step: Wait,
    *,
    number: int,
    start: dt.datetime,
    trigger: Mapping[str, Any],
    attributes: Mapping[str, Any],
    where: ZoneInfo,
    now: dt.datetime,
) -> WaitEnd:
    """When the wait numbered `number` (from 1) ends, reached at `start`.

    A duration counts from `start`; `until` from its date (a time already past ends the
    wait at once, unless the date itself has passed before a reminder: the occurrence ends,
    `date_passed`). `at` moves the end to that local hour of its day in `where`.
    """
    if step.duration is not None:
        end = start + step.duration
    else:
        assert step.until is not None
        reference = reference_instant(
            step.until, trigger=trigger, attributes=attributes, where=where
        )
        if reference is None:
            return WaitEnd(
                None,
                "no_date",
                f"step {number} (wait): no date in '{step.until.text().split(' ')[0]}'",
            )
        end = reference + step.until.offset
        if step.until.offset < dt.timedelta(0) and reference <= now:
            return WaitEnd(
                None,
                "date_passed",
                f"step {number} (wait): {step.until.reference} has passed "
                f"({reference.astimezone(where):%Y-%m-%d %H:%M %Z})",
            )
    if step.at is not None:
        end = at_local_hour(end, step.at, where)
    return WaitEnd(end)


def send_variables(
    definition: FlowDefinition,
    *,
    trigger: Mapping[str, Any],
    attributes: Mapping[str, Any],
    where: ZoneInfo,
) -> dict[str, Any]:
    """The variables a send's template sees besides the contact's own: `event` (the trigger
    event's properties), `when` (the date the flow's first `until` or its date trigger
    names, in the recipient's zone: `{{ when | time }}`) and `flow` (its name)."""
    variables: dict[str, Any] = {
        "event": dict(trigger.get("properties") or {}),
        "flow": definition.name,
    }
    when: dt.datetime | None = None
    for step in definition.steps:
        if isinstance(step, Wait) and step.until is not None:
            when = reference_instant(
                step.until, trigger=trigger, attributes=attributes, where=where
            )
            break
    if when is None and trigger.get("date"):
        when = parse_date_value(trigger["date"], where)
    if when is not None:
        variables["when"] = when.astimezone(where)
    return variables
