"""The kinds of questions a message can ask, each with its events and acknowledgements (pure).

A kind names what the reference is (`appointment_id`), the event each answer records
(`appointment_confirmed`, `appointment_cancelled`) and the short acknowledgement sent back,
per language. The texts keep to the GSM-7 alphabet (Spanish without its acute accents, as in
the keyword replies) so an acknowledgement costs one segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textopt.errors import ValidationError
from textopt.questions.models import Answer

__all__ = ["KINDS", "QuestionKind", "acknowledgement", "question_kind"]


@dataclass(frozen=True, slots=True)
class QuestionKind:
    """What one kind of question is about and what its answers do."""

    name: str
    reference_property: str  # the event property holding the question's reference
    events: Mapping[Answer, str]  # answer -> the event type it records
    acknowledgements: Mapping[str, Mapping[Answer, str]]  # language -> answer -> text


_A = Answer

KINDS: dict[str, QuestionKind] = {
    "appointment": QuestionKind(
        name="appointment",
        reference_property="appointment_id",
        events={_A.CONFIRMED: "appointment_confirmed", _A.CANCELLED: "appointment_cancelled"},
        acknowledgements={
            "fr": {
                _A.CONFIRMED: "Merci, votre rendez-vous est confirmé.",
                _A.CANCELLED: "Votre rendez-vous est annulé. Merci de nous avoir prévenus.",
            },
            "en": {
                _A.CONFIRMED: "Thank you, your appointment is confirmed.",
                _A.CANCELLED: "Your appointment is cancelled. Thank you for letting us know.",
            },
            "es": {
                _A.CONFIRMED: "Gracias, su cita esta confirmada.",
                _A.CANCELLED: "Su cita esta cancelada. Gracias por avisarnos.",
            },
            "de": {
                _A.CONFIRMED: "Danke, Ihr Termin ist bestätigt.",
                _A.CANCELLED: "Ihr Termin ist abgesagt. Danke für Ihre Nachricht.",
            },
        },
    ),
}


def question_kind(raw: str, *, field: str = "asks") -> QuestionKind:
    """The kind named `raw` (any case), or a ValidationError naming the kinds there are."""
    kind = KINDS.get(raw.strip().lower())
    if kind is None:
        raise ValidationError(
            f"{field}: {raw.strip()[:40]!r} is not a kind of question "
            f"(one of {', '.join(sorted(KINDS))})",
            field=field,
        )
    return kind


def acknowledgement(kind: QuestionKind, answer: Answer, language: str) -> str:
    """The acknowledgement of `answer` in `language` (English when it has none)."""
    texts = kind.acknowledgements.get(language) or kind.acknowledgements["en"]
    return texts[answer]
