"""What a flow is, as data: a trigger, ordered steps and exit conditions; read from TOML (the
CLI) or the same structure as JSON (the API, the dashboard), checked whole, written back.

Pure: no database, no clock. Every error is a `ValidationError` whose message names the
step and the field (`step 2 (wait): 'appointment_at - 24x' is not a duration`) and whose
`field` is the path (`steps[1].until`), so each face can point at it.

    name = "Appointment reminder"
    exit_on = ["appointment_cancelled"]       # matched on the occurrence key when there is one

    [trigger]
    kind = "event"                            # event | date_attribute | optin_confirmed |
    event = "appointment_booked"              #   segment_entered
    key = "appointment_id"                    # the occurrence key, a property of the event

    [[steps]]
    kind = "wait"
    until = "appointment_at - 24h"            # or: duration = "2h"; optional at = "10:00"

    [[steps]]
    kind = "send"
    channel = "sms"
    purpose = "transactional"
    template = "Rappel : rendez-vous demain a {{ when | time }}. OUI pour confirmer."
    asks = "appointment"

The trigger kinds: `event` (an event type; `keyword.<word>` for a workspace keyword),
`date_attribute` (a contact attribute holding a date or date-time: one occurrence per value;
with `yearly = true`, one per year on its anniversary at `at` local time), `optin_confirmed`
(consent granted or confirmed on `channel`, for marketing), `segment_entered` (a contact who
enters a segment expression).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from textopt.campaigns.audience import parse_filter
from textopt.compose import compile_template
from textopt.compose.email import EmailTemplate
from textopt.errors import TemplateError, ValidationError
from textopt.events.types import normalise_type
from textopt.flows.timing import (
    DURATION_RULE,
    LocalHour,
    format_duration,
    parse_duration,
    parse_local_hour,
)
from textopt.questions.kinds import KINDS
from textopt.vocab import Channel, Purpose

__all__ = [
    "ASKS",
    "MAX_STEPS",
    "Condition",
    "FlowDefinition",
    "Send",
    "Step",
    "StepKind",
    "Trigger",
    "TriggerKind",
    "Until",
    "Wait",
    "definition_from_toml",
    "parse_definition",
]

#: Steps in one flow: a journey, not a program.
MAX_STEPS = 30
#: What a send step may ask its recipient to answer (replies that act read it).
ASKS = tuple(KINDS)  # the questions a message can ask (`questions/kinds.py`)
_NAME_MAX = 120
_E = TypeVar("_E", bound=StrEnum)
_TEMPLATE_MAX = 4000
_SUBJECT_MAX = 300
_SENDER_MAX = 32
_REFERENCE = re.compile(r"(event\.)?([A-Za-z_][A-Za-z0-9_]{0,63})")
_PROPERTY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class TriggerKind(StrEnum):
    """What starts an occurrence of a flow."""

    EVENT = "event"  # an event of a type was recorded for the contact
    DATE_ATTRIBUTE = "date_attribute"  # a date attribute of the contact (a reminder, a birthday)
    OPTIN_CONFIRMED = "optin_confirmed"  # marketing consent granted or confirmed (a welcome)
    SEGMENT_ENTERED = "segment_entered"  # the contact entered a segment expression


class StepKind(StrEnum):
    """What one step does."""

    WAIT = "wait"  # wait a duration, or until a time relative to a date
    CONDITION = "condition"  # go on only if the contact matches a segment expression
    SEND = "send"  # write an SMS or an email to the outbox, through the policy


@dataclass(frozen=True, slots=True)
class Trigger:
    """When an occurrence starts, and what makes two occurrences one (`key`)."""

    kind: TriggerKind
    event: str | None = None  # EVENT: the event type
    key: str | None = None  # EVENT: the property naming the occurrence (`appointment_id`)
    attribute: str | None = None  # DATE_ATTRIBUTE: the contact attribute
    yearly: bool = False  # DATE_ATTRIBUTE: every year on the anniversary
    at: LocalHour | None = None  # DATE_ATTRIBUTE with yearly: the local hour
    channel: Channel = Channel.SMS  # OPTIN_CONFIRMED: the channel consented to
    segment: str | None = None  # SEGMENT_ENTERED: the segment expression


@dataclass(frozen=True, slots=True)
class Until:
    """A time relative to a date: `appointment_at - 24h` (`offset` negative before it)."""

    reference: str  # an event property (`event.x`) or a contact attribute / trigger date
    from_event: bool  # `event.x`: only the trigger event's properties are read
    offset: dt.timedelta

    def text(self) -> str:
        """As written in a definition."""
        name = f"event.{self.reference}" if self.from_event else self.reference
        if not self.offset:
            return name
        sign = "-" if self.offset < dt.timedelta(0) else "+"
        return f"{name} {sign} {format_duration(abs(self.offset))}"


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait a duration, or until a time; `at` moves the instant to that local hour."""

    duration: dt.timedelta | None = None
    until: Until | None = None
    at: LocalHour | None = None
    kind: StepKind = StepKind.WAIT


@dataclass(frozen=True, slots=True)
class Condition:
    """Go on only if the contact matches `segment`; otherwise exit with the reason."""

    segment: str
    kind: StepKind = StepKind.CONDITION


@dataclass(frozen=True, slots=True)
class Send:
    """One message through the outbox and the policy, as a one-off send."""

    channel: Channel
    purpose: Purpose
    template: str  # the SMS text, or the email's HTML
    subject: str | None = None  # email only
    text: str | None = None  # email only: its text part (else derived from the HTML)
    sender: str | None = None  # SMS sender ID, or the email's From address
    validity: dt.timedelta = dt.timedelta(hours=24)  # after that, expired rather than late
    asks: str | None = None  # what the recipient is asked to answer (`appointment`)
    kind: StepKind = StepKind.SEND


Step = Wait | Condition | Send


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    """A checked flow: name, trigger, steps and exit events."""

    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    exit_on: tuple[str, ...] = ()
    description: str | None = None

    def has_marketing(self) -> bool:
        """Whether a step sends marketing (which a STOP or a withdrawn consent ends)."""
        return any(isinstance(s, Send) and s.purpose == Purpose.MARKETING for s in self.steps)

    def to_data(self) -> dict[str, Any]:
        """The definition as JSON-ready data; `parse_definition` reads it back the same."""
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["trigger"] = _trigger_data(self.trigger)
        data["steps"] = [_step_data(step) for step in self.steps]
        if self.exit_on:
            data["exit_on"] = list(self.exit_on)
        return data


def _hour_text(hour: LocalHour) -> str:
    return f"{hour[0]:02d}:{hour[1]:02d}"


def _trigger_data(trigger: Trigger) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": str(trigger.kind)}
    if trigger.kind == TriggerKind.EVENT:
        data["event"] = trigger.event
        if trigger.key:
            data["key"] = trigger.key
    elif trigger.kind == TriggerKind.DATE_ATTRIBUTE:
        data["attribute"] = trigger.attribute
        if trigger.yearly:
            data["yearly"] = True
            data["at"] = _hour_text(trigger.at or (10, 0))
    elif trigger.kind == TriggerKind.OPTIN_CONFIRMED:
        data["channel"] = str(trigger.channel)
    else:
        data["segment"] = trigger.segment
    return data


def _step_data(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": str(step.kind)}
    if isinstance(step, Wait):
        if step.duration is not None:
            data["duration"] = format_duration(step.duration)
        if step.until is not None:
            data["until"] = step.until.text()
        if step.at is not None:
            data["at"] = _hour_text(step.at)
    elif isinstance(step, Condition):
        data["segment"] = step.segment
    else:
        data.update(channel=str(step.channel), purpose=str(step.purpose), template=step.template)
        for name in ("subject", "text", "sender", "asks"):
            if getattr(step, name) is not None:
                data[name] = getattr(step, name)
        data["validity"] = format_duration(step.validity)
    return data


class _Reader:
    """Reads one table of the definition, naming `where` (`step 2 (wait)`) in its errors."""

    def __init__(self, raw: Any, *, where: str, path: str, known: Sequence[str]) -> None:
        if not isinstance(raw, Mapping):
            raise ValidationError(f"{where}: expected a table of fields", field=path)
        self.raw = raw
        self.where = where
        self.path = path
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            raise ValidationError(
                f"{where}: unknown field {unknown[0]!r} (known: {', '.join(known)})",
                field=self.field(unknown[0]),
            )

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> ValidationError:
        return ValidationError(f"{self.where}: {message}", field=self.field(name))

    def text(self, name: str, *, required: bool = True, limit: int = 200) -> str | None:
        value = self.raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, f"'{name}' is required")
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"'{name}' must be text")
        if "\x00" in value:
            raise self.fail(name, f"'{name}' contains a NUL character")
        if len(value) > limit:
            raise self.fail(name, f"'{name}' has {len(value)} characters; at most {limit}")
        return value.strip()

    def flag(self, name: str) -> bool:
        value = self.raw.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(name, f"'{name}' must be true or false")
        return value

    def choice(self, name: str, kind: type[_E], default: _E | None = None) -> _E:
        value = self.text(name, required=default is None, limit=40)
        if value is None:
            assert default is not None
            return default
        try:
            return kind(value.lower())
        except ValueError:
            known = ", ".join(str(k) for k in kind)
            raise self.fail(name, f"'{value}' is not a {name} (one of {known})") from None

    def duration(self, name: str) -> dt.timedelta | None:
        value = self.text(name, required=False, limit=40)
        if value is None:
            return None
        span = parse_duration(value)
        if span is None:
            raise self.fail(name, f"'{value}' is not a duration: {DURATION_RULE}, at most 2 years")
        return span

    def hour(self, name: str) -> LocalHour | None:
        value = self.text(name, required=False, limit=20)
        if value is None:
            return None
        try:
            return parse_local_hour(value, field=self.field(name))
        except ValidationError as exc:
            raise self.fail(name, exc.message.split(": ", 1)[1]) from None

    def segment(self, name: str) -> str:
        value = self.text(name, limit=2000)
        assert value is not None
        try:
            parse_filter(value)
        except ValidationError as exc:
            raise self.fail(name, f"the segment expression does not read: {exc.message}") from None
        return value


def _trigger(raw: Any) -> Trigger:
    reader = _Reader(
        raw,
        where="trigger",
        path="trigger",
        known=("kind", "event", "key", "attribute", "yearly", "at", "channel", "segment"),
    )
    kind = reader.choice("kind", TriggerKind)
    if kind == TriggerKind.EVENT:
        event = reader.text("event", limit=80)
        assert event is not None
        try:
            event = normalise_type(event, field="event")
        except ValidationError as exc:
            raise reader.fail("event", exc.message.split(": ", 1)[1]) from None
        key = reader.text("key", required=False, limit=64)
        if key is not None and not _PROPERTY.fullmatch(key):
            raise reader.fail("key", f"'{key}' is not a property name")
        return Trigger(kind=kind, event=event, key=key)
    if kind == TriggerKind.DATE_ATTRIBUTE:
        attribute = reader.text("attribute", limit=64)
        assert attribute is not None
        if not _ATTRIBUTE.fullmatch(attribute):
            raise reader.fail("attribute", f"'{attribute}' is not an attribute name")
        yearly = reader.flag("yearly")
        at = reader.hour("at")
        if at is not None and not yearly:
            raise reader.fail("at", "'at' applies to yearly dates (set the hour on a wait step)")
        return Trigger(kind=kind, attribute=attribute, yearly=yearly, at=at or (10, 0))
    if kind == TriggerKind.OPTIN_CONFIRMED:
        return Trigger(kind=kind, channel=reader.choice("channel", Channel, Channel.SMS))
    return Trigger(kind=kind, segment=reader.segment("segment"))


def _until(reader: _Reader, value: str) -> Until:
    text = " ".join(value.split())
    name, sign, rest = text, "", ""
    for symbol in ("-", "+"):
        if symbol in text:
            name, _, rest = text.partition(symbol)
            sign = symbol
            break
    match = _REFERENCE.fullmatch(name.strip())
    if match is None:
        raise reader.fail(
            "until",
            f"'{value}' does not name a date: an attribute or event property "
            "(appointment_at, event.delivery_at), optionally +/- a duration",
        )
    offset = dt.timedelta(0)
    if sign:
        span = parse_duration(rest)
        if span is None:
            raise reader.fail(
                "until", f"'{value}' is not a duration after '{sign}': {DURATION_RULE}"
            )
        offset = -span if sign == "-" else span
    return Until(reference=match.group(2), from_event=bool(match.group(1)), offset=offset)


def _wait(reader: _Reader) -> Wait:
    duration = reader.duration("duration")
    until_text = reader.text("until", required=False, limit=120)
    at = reader.hour("at")
    if (duration is None) == (until_text is None):
        raise reader.fail("duration", "give either 'duration' (2h, 3d) or 'until' (a date - 24h)")
    until = _until(reader, until_text) if until_text is not None else None
    return Wait(duration=duration, until=until, at=at)


def _send(reader: _Reader) -> Send:
    channel = reader.choice("channel", Channel, Channel.SMS)
    purpose = reader.choice("purpose", Purpose)
    template = reader.text("template", limit=_TEMPLATE_MAX)
    assert template is not None
    subject = reader.text("subject", required=channel == Channel.EMAIL, limit=_SUBJECT_MAX)
    text = reader.text("text", required=False, limit=_TEMPLATE_MAX)
    if channel == Channel.SMS and (subject is not None or text is not None):
        field = "subject" if subject is not None else "text"
        raise reader.fail(field, f"'{field}' applies to emails only")
    sender = reader.text(
        "sender", required=False, limit=320 if channel == Channel.EMAIL else _SENDER_MAX
    )
    validity = reader.duration("validity") or dt.timedelta(hours=24)
    if validity < dt.timedelta(minutes=5):
        raise reader.fail("validity", "a message stays valid at least 5m")
    try:
        if channel == Channel.EMAIL:
            EmailTemplate(subject=subject or "", html=template, text=text)
        else:
            compile_template(template)
    except TemplateError as exc:
        raise reader.fail("template", f"the template does not read: {exc.message}") from None
    asks = reader.text("asks", required=False, limit=40)
    if asks is not None and asks not in ASKS:
        raise reader.fail(
            "asks", f"'{asks}' is not a question a message asks (one of {', '.join(ASKS)})"
        )
    if asks is not None and channel != Channel.SMS:
        raise reader.fail("asks", "only an SMS asks a question: the answers come back by SMS")
    return Send(
        channel=channel,
        purpose=purpose,
        template=template,
        subject=subject,
        text=text,
        sender=sender,
        validity=validity,
        asks=asks,
    )


_STEP_FIELDS: dict[StepKind, tuple[str, ...]] = {
    StepKind.WAIT: ("kind", "duration", "until", "at"),
    StepKind.CONDITION: ("kind", "segment"),
    StepKind.SEND: (
        "kind",
        "channel",
        "purpose",
        "template",
        "subject",
        "text",
        "sender",
        "validity",
        "asks",
    ),
}


def _step(raw: Any, number: int) -> Step:
    path = f"steps[{number - 1}]"
    kind_text = raw.get("kind") if isinstance(raw, Mapping) else None
    try:
        kind = StepKind(str(kind_text).strip().lower())
    except ValueError:
        known = ", ".join(str(k) for k in StepKind)
        raise ValidationError(
            f"step {number}: {str(kind_text)[:40]!r} is not a kind of step (one of {known})"
            if kind_text is not None
            else f"step {number}: 'kind' is required (one of {known})",
            field=f"{path}.kind",
        ) from None
    reader = _Reader(raw, where=f"step {number} ({kind})", path=path, known=_STEP_FIELDS[kind])
    if kind == StepKind.WAIT:
        return _wait(reader)
    if kind == StepKind.CONDITION:
        return Condition(segment=reader.segment("segment"))
    return _send(reader)


def _check_references(trigger: Trigger, steps: Sequence[Step]) -> None:
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, Wait) or step.until is None:
            continue
        if step.until.from_event and trigger.kind != TriggerKind.EVENT:
            raise ValidationError(
                f"step {number} (wait): 'event.{step.until.reference}' needs an event trigger",
                field=f"steps[{number - 1}].until",
            )


def parse_definition(raw: Any) -> FlowDefinition:
    """A flow definition from JSON-like data (a TOML file read, an API body); checked whole."""
    reader = _Reader(
        raw, where="flow", path="", known=("name", "description", "trigger", "steps", "exit_on")
    )
    name = reader.text("name", limit=_NAME_MAX)
    assert name is not None
    if name.isdigit():  # a number alone names a flow by its id
        raise reader.fail("name", f"'{name}' is not a name: a flow's name has a letter")
    description = reader.text("description", required=False, limit=1000)
    if "trigger" not in raw:
        raise reader.fail("trigger", "'trigger' is required")
    trigger = _trigger(raw["trigger"])
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise reader.fail("steps", "'steps' is a list of at least one step")
    if len(raw_steps) > MAX_STEPS:
        raise reader.fail("steps", f"{len(raw_steps)} steps; at most {MAX_STEPS}")
    steps = tuple(_step(item, number) for number, item in enumerate(raw_steps, start=1))
    if not any(isinstance(step, Send) for step in steps):
        raise reader.fail("steps", "a flow needs at least one send step")
    _check_references(trigger, steps)
    exit_raw = raw.get("exit_on", [])
    if isinstance(exit_raw, str):
        exit_raw = [exit_raw]
    if not isinstance(exit_raw, list):
        raise reader.fail("exit_on", "'exit_on' is a list of event types")
    exits: list[str] = []
    for index, item in enumerate(exit_raw):
        if not isinstance(item, str):
            raise ValidationError(
                "flow: 'exit_on' is a list of event types", field=f"exit_on[{index}]"
            )
        try:
            kind = normalise_type(item, field=f"exit_on[{index}]")
        except ValidationError as exc:
            raise ValidationError(f"flow: {exc.message}", field=exc.field) from None
        if kind not in exits:
            exits.append(kind)
    return FlowDefinition(
        name=name, trigger=trigger, steps=steps, exit_on=tuple(exits), description=description
    )


def definition_from_toml(text: str) -> FlowDefinition:
    """A flow definition from a TOML document (`textopt flows apply`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"the flow file is not valid TOML: {exc}", field="file") from None
    return parse_definition(raw)
