"""Answers to a question a message asked: confirm or cancel, per language (pure).

The whole message counts, trimmed, case- and accent-insensitive, with surrounding
punctuation ignored, as for the keywords (`Oui !`, `annuler.`, `Sí`). Confirming uses the
double opt-in's words (YES, OUI, SI/SÍ, JA: one table, `keywords.KEYWORDS`); cancelling has
its own. An opt-out word is never a cancel word: CANCEL (English) and CANCELAR (Spanish)
are STOP by law, and a message read as STOP is never an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from textopt.inbound.keywords import KeywordKind, classify, normalise
from textopt.questions.models import Answer

__all__ = ["CANCEL_WORDS", "AnswerMatch", "classify_answer"]

#: language -> the words that cancel (decline) what a question asked, accents included.
CANCEL_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("ANNULER", "NON"),
    "en": ("NO",),
    "es": ("NO", "ANULAR"),
    "de": ("NEIN", "ABSAGEN"),
}


def _cancel_table() -> dict[str, str | None]:
    found: dict[str, set[str]] = {}
    for language, words in CANCEL_WORDS.items():
        for word in words:
            normal = normalise(word)
            if classify(normal).kind != KeywordKind.NONE:  # STOP, START, HELP or YES
                raise ValueError(f"cancel word {word!r} is a keyword already")
            found.setdefault(normal, set()).add(language)
    return {word: langs.pop() if len(langs) == 1 else None for word, langs in found.items()}


_CANCEL = _cancel_table()


@dataclass(frozen=True, slots=True)
class AnswerMatch:
    """An answer and its language (None when the word is shared: NO is English and Spanish)."""

    answer: Answer
    language: str | None


def classify_answer(text: str) -> AnswerMatch | None:
    """The answer a whole message gives, or None (STOP and every other text are none)."""
    match = classify(text)
    if match.kind == KeywordKind.CONFIRM:
        return AnswerMatch(Answer.CONFIRMED, match.language)
    if match.kind != KeywordKind.NONE:
        return None
    plain = normalise(text)
    if plain in _CANCEL:
        return AnswerMatch(Answer.CANCELLED, _CANCEL[plain])
    return None
