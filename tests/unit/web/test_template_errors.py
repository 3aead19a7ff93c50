"""Template errors read in French and English, their line, name and contact kept."""

from __future__ import annotations

import pytest

from textopt.compose import compile_template
from textopt.errors import TemplateError
from textopt.web.i18n import translator
from textopt.web.template_errors import describe_template_error


def _message(source: str) -> str:
    with pytest.raises(TemplateError) as info:
        compile_template(source).render({"attributes": {}})
    return info.value.message


@pytest.mark.parametrize(
    ("source", "french", "english"),
    [
        ("{{ prenom }}", "La variable « prenom » manque", "The variable “prenom” is missing"),
        (
            "a\n{{ x | nope }}",
            "Ligne 2 : il n’existe pas de filtre nommé « nope ».",
            "Line 2: there is no filter named “nope”.",
        ),
        ("{{ a }", "« } » n’est pas attendu ici", "“}” is not expected here"),
        ("{{ a b }}", "« b » là où « end of print statement »", "“b” where “end of print"),
        ("{% for x in y %}", "un bloc n’est jamais fermé", "a block is never closed"),
        ("{% frobnicate %}", "pas de balise nommée « frobnicate »", "no tag named “frobnicate”"),
        ("{{ 1 / 0 }}", "Le modèle échoue à l’exécution", "The template fails when it runs"),
    ],
)
def test_each_kind_of_template_error_reads_in_both_languages(
    source: str, french: str, english: str
) -> None:
    message = _message(source)
    assert french in describe_template_error(translator("fr"), message)
    assert english in describe_template_error(translator("en"), message)


def test_the_contact_an_error_was_met_for_is_named_and_a_brace_in_a_value_stays() -> None:
    message = "template variable 'prenom' is missing (for Alice %(x)s)"
    french = describe_template_error(translator("fr"), message)
    assert french.endswith(" (pour Alice %(x)s)")
    assert '{{ prenom | default("") }}' in french
