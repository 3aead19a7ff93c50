"""Answer words (pure): confirm and cancel per language, never an opt-out word."""

from __future__ import annotations

import pytest

from textopt.inbound.answers import CANCEL_WORDS, classify_answer
from textopt.inbound.keywords import KeywordKind, classify
from textopt.questions.kinds import KINDS, acknowledgement
from textopt.questions.models import Answer


@pytest.mark.parametrize(
    ("text", "answer", "language"),
    [
        ("OUI", Answer.CONFIRMED, "fr"),
        (" oui ! ", Answer.CONFIRMED, "fr"),
        ("Yes.", Answer.CONFIRMED, "en"),
        ("sí", Answer.CONFIRMED, "es"),
        ("Ja", Answer.CONFIRMED, "de"),
        ("ANNULER", Answer.CANCELLED, "fr"),
        ("annulér", Answer.CANCELLED, "fr"),
        ("Non", Answer.CANCELLED, "fr"),
        ("no", Answer.CANCELLED, None),  # English and Spanish: the contact's language decides
        ("anular", Answer.CANCELLED, "es"),
        ("NEIN", Answer.CANCELLED, "de"),
        ("absagen", Answer.CANCELLED, "de"),
    ],
)
def test_whole_messages_answer_in_their_language(
    text: str, answer: Answer, language: str | None
) -> None:
    match = classify_answer(text)
    assert match is not None
    assert (match.answer, match.language) == (answer, language)


@pytest.mark.parametrize(
    "text", ["STOP", "CANCEL", "cancelar", "stop please", "oui merci", "non merci", "AIDE", ""]
)
def test_opt_outs_help_and_sentences_are_no_answer(text: str) -> None:
    assert classify_answer(text) is None


def test_no_cancel_word_is_a_keyword_of_the_law() -> None:
    for words in CANCEL_WORDS.values():
        for word in words:
            assert classify(word).kind == KeywordKind.NONE, word


def test_every_kind_acknowledges_both_answers_in_every_reply_language() -> None:
    for kind in KINDS.values():
        for language in ("fr", "en", "es", "de"):
            for answer in Answer:
                assert acknowledgement(kind, answer, language)
        assert acknowledgement(kind, Answer.CONFIRMED, "it") == acknowledgement(
            kind, Answer.CONFIRMED, "en"
        )


def test_the_api_offers_every_kind_of_question_and_no_other() -> None:
    from typing import get_args

    from textopt.api.messages import MessageCreate

    annotation = MessageCreate.model_fields["asks"].annotation
    offered = {arg for option in get_args(annotation) for arg in get_args(option)}
    assert offered == set(KINDS)
