"""What keywords did and why a keyword is refused read in both languages of the dashboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from textopt.errors import ValidationError
from textopt.inbound.models import InboundAction
from textopt.inbound.workspace_keywords import check_texts, check_word
from textopt.web.catalogue import EN, FR
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import translator


def test_every_inbound_action_has_words_in_both_languages() -> None:
    codes = [f"inbound.{action}" for action in InboundAction]
    assert [c for c in codes if c not in EN or c not in FR] == []


@pytest.mark.parametrize(
    ("refused", "french"),
    [
        (
            lambda: check_word("Arrêt"),
            "mot : ARRÊT est réservé : c’est le mot-clé intégré STOP (STOP, START, AIDE et "
            "les confirmations d’inscription ne peuvent pas être redéfinis)",
        ),
        (
            lambda: check_word("opening hours"),
            "mot : « opening hours » n’est pas un mot-clé : un seul mot de 1 à 32 lettres ou "
            "chiffres (par exemple HORAIRES)",
        ),
        (
            lambda: check_texts({}),
            "réponses : donnez la réponse dans au moins une langue (français, anglais, "
            "espagnol ou allemand)",
        ),
        (
            lambda: check_texts({"fr": "x" * 700}),
            "réponse (fr) : 700 caractères ; 612 au plus",
        ),
    ],
)
def test_a_refused_keyword_is_explained_in_french(
    refused: Callable[[], object], french: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        refused()
    assert translate_message(translator("fr"), raised.value.message) == french
    assert translate_message(translator("en"), raised.value.message) == raised.value.message
