"""Smart encoding: faithful look-alikes keep a message in GSM-7; accents drop only on request."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textopt.compose import Encoding, analyze, is_gsm, transliterate, transliteration_replacements
from textopt.compose.gsm import GSM_CHARS
from textopt.compose.smart import ACCENT_FOLDS, FAITHFUL

any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C’est l‘heure", "C'est l'heure"),
        ("«\u00a0Soldes\u00a0»", '" Soldes "'),
        ("“Top”", '"Top"'),
        ("10–12 h — vite", "10-12 h - vite"),
        ("Et…", "Et..."),
        ("12\u202f€", "12 €"),
        ("a\u200bb\u00adc\ufeff", "abc"),
        ("cœur Œuvre", "coeur OEuvre"),
        ("e\u0301te\u0301", "été"),  # combining acute composes to the GSM letter
        ("tab\there", "tab here"),
    ],
)
def test_faithful_replacements(text: str, expected: str) -> None:
    assert transliterate(text) == expected
    assert is_gsm(transliterate(text))


@pytest.mark.parametrize("text", ["Fête", "reçu", "Noël", "août", "ê\u0301"])
def test_accents_are_kept_unless_folding_is_asked(text: str) -> None:
    assert transliterate(text) == text
    assert not is_gsm(transliterate(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fête", "Fete"),
        ("reçu", "recu"),
        ("Noël", "Noel"),
        ("août", "aout"),
        ("Ça", "Ça"),
        ("È", "E"),
        ("e\u0302", "e"),
        ("łódź", "lodz"),
    ],
)
def test_accent_folding(text: str, expected: str) -> None:
    assert transliterate(text, fold_accents=True) == expected


def test_characters_without_look_alike_stay() -> None:
    assert transliterate("Merci 😀", fold_accents=True) == "Merci 😀"


def test_analysis_shows_the_apostrophe_doubles_the_cost() -> None:
    text = "Bonjour, c’est " + "x" * 140  # 155 characters
    result = analyze(text)
    assert (result.encoding, result.segments) == (Encoding.UCS2, 3)
    assert (result.smart.encoding, result.smart.segments) == (Encoding.GSM7, 1)
    [replacement] = result.smart.replacements
    assert (replacement.position, replacement.source, replacement.target) == (10, "’", "'")


def test_smart_report_respects_the_folding_choice() -> None:
    assert analyze("Fête").smart.encoding is Encoding.UCS2
    folded = analyze("Fête", fold_accents=True).smart
    assert (folded.encoding, folded.text, folded.replacements[0].accent_folding) == (
        Encoding.GSM7,
        "Fete",
        True,
    )


def test_gsm_text_is_unchanged_by_smart_encoding() -> None:
    assert analyze("Prix 10€").smart.replacements == ()


@given(any_text, st.booleans())
def test_replacements_rebuild_the_transliteration(text: str, fold: bool) -> None:
    rebuilt = list(text)
    for r in transliteration_replacements(text, fold_accents=fold):
        rebuilt[r.position : r.position + len(r.source)] = [r.target] + [""] * (len(r.source) - 1)
    assert "".join(rebuilt) == transliterate(text, fold_accents=fold)


@given(any_text, st.booleans())
def test_transliteration_never_costs_more(text: str, fold: bool) -> None:
    assert analyze(transliterate(text, fold_accents=fold)).segments <= analyze(text).segments


_MIXED = st.text(alphabet="ae’«\u00a0—…œç\u0301\u0327ëê€😀 ", max_size=30)


@given(_MIXED | any_text, st.booleans())
def test_transliteration_is_translation_unless_combining_marks_remain(
    text: str, fold: bool
) -> None:
    # what the search that skips translating a text with nothing to replace must keep
    table = str.maketrans({**ACCENT_FOLDS, **FAITHFUL} if fold else FAITHFUL)
    translated = text.translate(table)
    if any(unicodedata.combining(c) for c in set(translated) - GSM_CHARS):
        return  # the walk (test_replacements_rebuild_the_transliteration)
    assert transliterate(text, fold_accents=fold) == translated
