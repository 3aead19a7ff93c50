"""The contact page's preferences form: what a marketer records when the person asks them.

One block of fields per channel the contact has an address for: `sms_promotions` (`keep` or
`stop`), `sms_reminders` (`keep` or `stop`), `sms_frequency` (`default`, `2-a-month`,
`1-a-week`). A field left out keeps its value (`consent.preferences.merge_choices`). Promotions
stopped (or never given) are not resumed here: that is a consent grant, with its proof; a
request that asks for it is refused on its field. After saving, the page says what changed as
codes (`sms.frequency.1-a-week`) carried by the redirect and read back against a closed list.

Pure: no database, no request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from textopt.consent.models import FrequencyLimit
from textopt.consent.preferences import ChannelPreferences
from textopt.vocab import Channel

__all__ = [
    "CHANGE_CODES",
    "FIELDS",
    "RESUME_REFUSED",
    "WRONG_CHOICE",
    "PreferenceForm",
    "changes_made",
    "changes_shown",
    "read_preference_form",
]

#: The fields of one channel, each with the values it takes.
FIELDS: dict[str, tuple[str, ...]] = {
    "promotions": ("keep", "stop"),
    "frequency": ("default", *(f.value for f in FrequencyLimit)),
    "reminders": ("keep", "stop"),
}
#: What may change on one channel, as the notice after saving names it.
CHANGE_CODES = (
    "promotions.stopped",
    "reminders.kept",
    "reminders.stopped",
    *(f"frequency.{value}" for value in FIELDS["frequency"]),
)
_KNOWN_CHANGES = frozenset(f"{c}.{code}" for c in Channel for code in CHANGE_CODES)
# The errors, as catalogue keys (the page words them in the viewer's language).
RESUME_REFUSED = (
    "Refused: promotions are not resumed from this form. They start again only with the "
    "person's consent and its proof."
)
WRONG_CHOICE = "Choose one of the values of the list."


@dataclass(slots=True)
class PreferenceForm:
    """A posted form read against the preferences it was shown with."""

    changes: dict[Channel, dict[str, Any]] = field(default_factory=dict)  # for merge_choices
    errors: dict[str, str] = field(default_factory=dict)  # field name -> catalogue key
    values: dict[str, str] = field(default_factory=dict)  # as chosen, to show the form again


def read_preference_form(
    form: Mapping[str, str], held: Sequence[ChannelPreferences]
) -> PreferenceForm:
    """The changes the form asks for on each channel with an address, or its errors."""
    read = PreferenceForm()
    for preferences in held:
        if not preferences.has_address:
            continue  # the page offers no field for it
        channel = preferences.channel
        fields: dict[str, Any] = {}
        for name, allowed in FIELDS.items():
            posted = f"{channel}_{name}"
            value = form.get(posted)
            if value is None:
                continue
            read.values[posted] = value
            if value not in allowed:
                read.errors[posted] = WRONG_CHOICE
            elif name == "promotions":
                if value == "keep" and not preferences.receiving:
                    read.errors[posted] = RESUME_REFUSED
                fields[name] = value == "keep"
            elif name == "reminders":
                fields[name] = value == "keep"
            else:
                fields[name] = None if value == "default" else FrequencyLimit(value)
        if fields:
            read.changes[channel] = fields
    return read


def changes_made(
    before: Sequence[ChannelPreferences], after: Sequence[ChannelPreferences]
) -> list[str]:
    """What saving changed, as codes (`sms.reminders.stopped`), in the page's order."""
    was = {p.channel: p for p in before}
    codes: list[str] = []
    for now in after:
        old = was.get(now.channel)
        if old is None:
            continue
        if old.receiving and not now.receiving:
            codes.append(f"{now.channel}.promotions.stopped")
        if old.reminders != now.reminders:
            codes.append(f"{now.channel}.reminders.{'kept' if now.reminders else 'stopped'}")
        if now.receiving and old.frequency != now.frequency:
            codes.append(f"{now.channel}.frequency.{now.frequency or 'default'}")
    return codes


def changes_shown(carried: str) -> list[tuple[str, str]]:
    """The (channel, change code) pairs of a redirect's `changed`; anything else is dropped."""
    shown = []
    for code in carried.split(",")[: len(_KNOWN_CHANGES)]:
        if code in _KNOWN_CHANGES:
            channel, _, change = code.partition(".")
            shown.append((channel, change))
    return shown
