"""The flow editor's form: a definition to fields and back unchanged, the step buttons, the
error paths turned into the field to mark; and every refusal of a definition in French."""

from __future__ import annotations

import re
from typing import Any

import pytest

from textopt.errors import ValidationError
from textopt.flows.definition import parse_definition
from textopt.web.error_sentences import translate_message
from textopt.web.flow_form import FlowForm, field_id, step_of
from textopt.web.i18n import translator

REMINDER: dict[str, Any] = {
    "name": "Rappel",
    "trigger": {"kind": "event", "event": "appointment_booked", "key": "appointment_id"},
    "steps": [
        {"kind": "wait", "until": "appointment_at - 24h", "at": "09:00"},
        {"kind": "condition", "segment": "tag:patient"},
        {
            "kind": "send",
            "channel": "sms",
            "purpose": "transactional",
            "template": "Rappel : {{ when | time }}.\nOUI pour confirmer.",
            "asks": "appointment",
            "validity": "12h",
        },
    ],
    "exit_on": ["appointment_cancelled"],
}
BIRTHDAY: dict[str, Any] = {
    "name": "Anniversaire",
    "trigger": {"kind": "date_attribute", "attribute": "birthday", "yearly": True, "at": "10:00"},
    "steps": [{"kind": "send", "purpose": "marketing", "template": "Bon anniversaire !"}],
}


def _posted(form: FlowForm) -> dict[str, str]:
    """The fields a browser posts for `form` (a checkbox unchecked is absent)."""
    fields = {f"trigger_{k}": v for k, v in form.trigger.items() if k != "yearly" or v}
    fields.update(name=form.name, description=form.description, exit_on=form.exit_on)
    fields["step_count"] = str(len(form.steps))
    for index, step in enumerate(form.steps):
        fields.update({f"s{index}_{name}": value for name, value in step.items()})
    return fields


@pytest.mark.parametrize("data", [REMINDER, BIRTHDAY], ids=["reminder", "birthday"])
def test_a_definition_goes_through_the_form_and_back_unchanged(data: dict[str, Any]) -> None:
    stored = parse_definition(data).to_data()
    form = FlowForm.from_fields(_posted(FlowForm.from_definition(stored)))
    assert parse_definition(form.to_data()).to_data() == stored


def test_only_the_chosen_triggers_fields_are_saved() -> None:
    form = FlowForm.from_fields(
        {"name": "Bienvenue", "trigger_kind": "optin_confirmed", "trigger_event": "left_over",
         "trigger_channel": "sms", "trigger_at": "10:00", "step_count": "1", "s0_kind": "send",
         "s0_purpose": "marketing", "s0_template": "Bienvenue !"}
    )  # fmt: skip
    assert form.to_data()["trigger"] == {"kind": "optin_confirmed", "channel": "sms"}


def test_the_step_buttons_add_move_and_remove_and_ignore_what_is_not_theirs() -> None:
    form = FlowForm.from_definition(parse_definition(REMINDER).to_data())
    kinds = lambda: [s["kind"] for s in form.steps]  # noqa: E731
    assert form.apply("add-wait")
    assert kinds() == ["wait", "condition", "send", "wait"]
    assert form.apply("up-3")
    assert kinds() == ["wait", "condition", "wait", "send"]
    assert form.apply("down-0")
    assert kinds() == ["condition", "wait", "wait", "send"]
    assert form.apply("up-0")  # the first step cannot go up: nothing moves
    assert form.apply("remove-1")
    assert kinds() == ["condition", "wait", "send"]
    assert form.steps[1]["until"] == ""  # the new wait, the typed one was removed
    assert form.apply("remove-9")  # no such step: nothing happens
    assert kinds() == ["condition", "wait", "send"]
    assert not form.apply("save")
    assert not form.apply("add-sms")


def test_a_forged_step_count_or_kind_reads_no_more_than_the_steps_allowed() -> None:
    form = FlowForm.from_fields({"step_count": "100000", "s0_kind": "send", "s1_kind": "script"})
    assert [s["kind"] for s in form.steps] == ["send"]
    assert FlowForm.from_fields({"step_count": "x"}).steps == []


@pytest.mark.parametrize(
    ("path", "field", "step"),
    [
        ("steps[1].until", "s1_until", 1),
        ("steps[0].kind", "s0_kind", 0),
        ("trigger.event", "trigger_event", None),
        ("trigger", "trigger_kind", None),
        ("exit_on[2]", "exit_on", None),
        ("name", "name", None),
        ("steps", "steps", None),
        ("file", "", None),
        (None, "", None),
    ],
)
def test_an_error_path_names_the_field_and_step_to_mark(
    path: str | None, field: str, step: int | None
) -> None:
    assert field_id(path) == field
    assert step_of(path) == step


def _with(path: str, value: Any) -> dict[str, Any]:
    data: Any = {**REMINDER, "trigger": dict(REMINDER["trigger"]), "steps": [
        dict(s) for s in REMINDER["steps"]
    ]}  # fmt: skip
    target, _, name = path.rpartition(".")
    holder = data
    for part in filter(None, re.split(r"[.\[\]]+", target)):
        holder = holder[int(part)] if part.isdigit() else holder[part]
    if value is None:
        holder.pop(name, None)
    else:
        holder[name] = value
    return dict(data)


# One definition for each refusal a marketer can cause in the editor.
_BAD = [
    _with("name", None),
    _with("name", "x" * 200),
    _with("trigger.kind", "webhook"),
    _with("trigger.event", "a b"),
    _with("trigger.event", None),
    _with("trigger.key", "a b"),
    _with("trigger.colour", "red"),
    {**BIRTHDAY, "trigger": {**BIRTHDAY["trigger"], "at": "25:00"}},
    {**BIRTHDAY, "trigger": {**BIRTHDAY["trigger"], "yearly": False}},
    {**BIRTHDAY, "trigger": {**BIRTHDAY["trigger"], "attribute": "birth day"}},
    {**BIRTHDAY, "trigger": {**BIRTHDAY["trigger"], "yearly": "yes"}},
    {**BIRTHDAY, "trigger": {"kind": "segment_entered", "segment": "tagg:vip"}},
    _with("steps[0].until", "appointment_at - 24x"),
    _with("steps[0].until", "1 + 2"),
    _with("steps[0].until", None),
    _with("steps[0].at", "9h"),
    _with("steps[0].until", "event.appointment_at - 24h") | {"trigger": BIRTHDAY["trigger"]},
    _with("steps[0].kind", "jump"),
    _with("steps[0].kind", None),
    _with("steps[1].segment", "tag:"),
    _with("steps[2].purpose", "promo"),
    _with("steps[2].purpose", None),
    _with("steps[2].template", None),
    _with("steps[2].subject", "Rappel"),
    _with("steps[2].validity", "1m"),
    _with("steps[2].validity", "soon"),
    _with("steps[2].asks", "birthday"),
    _with("steps[2].template", 12),
    _with("steps[2].channel", "email"),
    _with("steps[2].channel", "email")
    | {"steps": [{**REMINDER["steps"][2], "channel": "email", "subject": "Rappel"}]},
    {**REMINDER, "steps": []},
    {**REMINDER, "steps": [REMINDER["steps"][0]]},
    {**REMINDER, "steps": [REMINDER["steps"][2]] * 31},
    {**REMINDER, "steps": ["wait"]},
    {**REMINDER, "exit_on": ["a b"]},
    {**REMINDER, "exit_on": [3]},
    {**REMINDER, "exit_on": 3},
    {**REMINDER, "trigger": "event"},
    {key: value for key, value in REMINDER.items() if key != "trigger"},
]


def _english_left(english: str, french: str) -> str | None:
    """Three words of the English sentence still in a row in the French, quotes aside."""
    prose = re.sub(r"«[^»]*»|'[^']*'|\([^)]*\d[^)]*\)", " ", french)
    fixed = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\d[^)]*\)", " ", english)
    words = re.findall(r"[A-Za-z]+", fixed)
    for i in range(len(words) - 2):
        run = r"\s+".join(re.escape(w) for w in words[i : i + 3])
        if re.search(rf"\b{run}\b", prose):
            return " ".join(words[i : i + 3])
    return None


@pytest.mark.parametrize("data", _BAD, ids=range(len(_BAD)))
def test_every_refusal_of_a_definition_reads_in_french(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_definition(data)
    english = refused.value.message
    french = translate_message(translator("fr"), english)
    assert french != english
    assert _english_left(english, french) is None, (english, french)
    assert re.match(r"(step|trigger|flow)\b", french) is None, french  # where, in French too
    assert field_id(refused.value.field) or refused.value.field in ("file", None), english
