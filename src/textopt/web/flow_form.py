"""The flow editor's form: a flow definition as flat form fields, and back.

The page is a plain HTML form (it works without JavaScript): the trigger's fields, then one
block of fields per step (`s0_kind`, `s0_duration`, `s1_template`…). Adding, removing or
moving a step is a submit button (`op`: `add-send`, `remove-2`, `up-1`…) that posts the whole
form back; the page comes back with the change and nothing typed lost. Saving turns the
fields into the definition's data, which `flows.definition.parse_definition` checks whole;
its error names a path (`steps[1].until`) that `field_id` turns into the field to mark.

Pure: no database, no request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from textopt.flows.definition import _STEP_FIELDS, MAX_STEPS, StepKind, TriggerKind

__all__ = [
    "STEP_FIELDS",
    "TRIGGER_FIELDS",
    "FlowForm",
    "field_id",
    "step_of",
]

#: The fields each trigger kind reads (the others are kept on the form, not saved).
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    TriggerKind.EVENT: ("event", "key"),
    TriggerKind.DATE_ATTRIBUTE: ("attribute", "yearly", "at"),
    TriggerKind.OPTIN_CONFIRMED: ("channel",),
    TriggerKind.SEGMENT_ENTERED: ("segment",),
}
_ALL_TRIGGER_FIELDS = ("event", "key", "attribute", "yearly", "at", "channel", "segment")
#: The fields of each kind of step, in the order the editor shows them (the definition's own
#: list, without the kind, which the editor keeps in a hidden field).
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    str(kind): tuple(name for name in names if name != "kind")
    for kind, names in _STEP_FIELDS.items()
}
_LIMIT = 4000  # the longest value kept from one field (a template)
_OP = re.compile(r"(add)-(wait|condition|send)|(remove|up|down)-(\d{1,2})")
_PATH = re.compile(r"steps\[(\d+)\](?:\.(\w+))?|trigger\.(\w+)|(exit_on)(?:\[\d+\])?|(\w+)")


def _clean(value: Any) -> str:
    return str(value if value is not None else "")[:_LIMIT].replace("\x00", "")


def _new_step(kind: str) -> dict[str, str]:
    step = dict.fromkeys(STEP_FIELDS[kind], "")
    step["kind"] = kind
    if kind == StepKind.SEND:
        step.update(channel="sms", purpose="transactional")
    return step


@dataclass(slots=True)
class FlowForm:
    """What the editor shows and posts: the flow's fields, as typed."""

    name: str = ""
    description: str = ""
    trigger: dict[str, str] = field(default_factory=lambda: {"kind": "event"})
    steps: list[dict[str, str]] = field(default_factory=lambda: [_new_step(StepKind.SEND)])
    exit_on: str = ""
    contact: str = ""  # the contact a preview is computed for (id, number or email)

    @classmethod
    def from_definition(cls, data: Mapping[str, Any]) -> FlowForm:
        """The form of a stored definition (`FlowDefinition.to_data`)."""
        trigger = {name: _clean(value) for name, value in dict(data.get("trigger", {})).items()}
        if "yearly" in trigger:
            trigger["yearly"] = "on" if data["trigger"]["yearly"] else ""
        steps = []
        for raw in data.get("steps", []):
            kind = str(raw.get("kind", ""))
            step = _new_step(kind) if kind in STEP_FIELDS else {"kind": kind}
            step.update({name: _clean(value) for name, value in raw.items()})
            steps.append(step)
        return cls(
            name=_clean(data.get("name")),
            description=_clean(data.get("description")),
            trigger=trigger,
            steps=steps,
            exit_on=", ".join(str(e) for e in data.get("exit_on", [])),
        )

    @classmethod
    def from_fields(cls, form: Mapping[str, Any]) -> FlowForm:
        """The form as posted: `step_count` steps, each `s<i>_<field>`."""
        try:
            count = min(max(int(str(form.get("step_count", "0"))), 0), MAX_STEPS + 1)
        except ValueError:
            count = 0
        steps = []
        for index in range(count):
            kind = _clean(form.get(f"s{index}_kind")).strip().lower()
            if kind not in STEP_FIELDS:
                continue
            step = {name: _clean(form.get(f"s{index}_{name}")) for name in STEP_FIELDS[kind]}
            step["kind"] = kind
            steps.append(step)
        trigger = {name: _clean(form.get(f"trigger_{name}")) for name in _ALL_TRIGGER_FIELDS}
        trigger["kind"] = _clean(form.get("trigger_kind")).strip().lower()
        return cls(
            name=_clean(form.get("name")),
            description=_clean(form.get("description")),
            trigger=trigger,
            steps=steps,
            exit_on=_clean(form.get("exit_on")),
            contact=_clean(form.get("contact")).strip()[:320],
        )

    def apply(self, op: str) -> bool:
        """Add, remove or move a step as `op` says; False when `op` is none of those."""
        found = _OP.fullmatch(op or "")
        if found is None:
            return False
        if found.group(1):
            if len(self.steps) < MAX_STEPS:
                self.steps.append(_new_step(found.group(2)))
            return True
        action, index = found.group(3), int(found.group(4))
        if not 0 <= index < len(self.steps):
            return True
        if action == "remove":
            del self.steps[index]
        else:
            other = index - 1 if action == "up" else index + 1
            if 0 <= other < len(self.steps):
                self.steps[index], self.steps[other] = self.steps[other], self.steps[index]
        return True

    def to_data(self) -> dict[str, Any]:
        """The definition's data for `parse_definition`: the fields of each kind, not empty."""
        kind = self.trigger.get("kind", "")
        names = TRIGGER_FIELDS.get(kind, _ALL_TRIGGER_FIELDS)
        trigger: dict[str, Any] = {"kind": kind} if kind else {}
        for name in names:
            value = self.trigger.get(name, "").strip()
            if name == "yearly":
                trigger[name] = bool(value)
            elif name == "at" and not self.trigger.get("yearly"):
                continue  # an hour is read only for yearly dates
            elif value:
                trigger[name] = value
        steps = []
        for step in self.steps:
            data: dict[str, Any] = {"kind": step["kind"]}
            for name in STEP_FIELDS.get(step["kind"], ()):
                value = step.get(name, "")
                if value.strip():
                    data[name] = value.strip() if name != "template" else value.strip("\r\n")
            steps.append(data)
        data = {"name": self.name.strip(), "trigger": trigger, "steps": steps}
        if self.description.strip():
            data["description"] = self.description.strip()
        exits = [e for e in re.split(r"[\s,;]+", self.exit_on) if e]
        if exits:
            data["exit_on"] = exits
        return data


def field_id(path: str | None) -> str:
    """The id of the form field an error's path names: `steps[1].until` → `s1_until`,
    `trigger.event` → `trigger_event`, `exit_on[0]` → `exit_on`; "" when none."""
    found = _PATH.fullmatch(path or "")
    if found is None:
        return ""
    step, step_field, trigger_field, exits, other = found.groups()
    if step is not None:
        return f"s{step}_{step_field}" if step_field else f"s{step}_kind"
    if trigger_field is not None:
        return f"trigger_{trigger_field}"
    if exits is not None:
        return "exit_on"
    if other == "trigger":
        return "trigger_kind"
    return other if other in ("name", "description", "steps") else ""


def step_of(path: str | None) -> int | None:
    """The index of the step an error's path names, None when it names no step."""
    found = _PATH.fullmatch(path or "")
    return int(found.group(1)) if found is not None and found.group(1) is not None else None
