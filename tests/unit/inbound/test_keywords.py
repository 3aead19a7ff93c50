"""Keywords of inbound messages: the COMPLIANCE.md table, accents, free-text wishes to stop."""

from __future__ import annotations

import pytest

from textopt.inbound.keywords import KEYWORDS, KeywordKind, classify, normalise

STOP, START, HELP, CONFIRM, NONE = (
    KeywordKind.STOP,
    KeywordKind.START,
    KeywordKind.HELP,
    KeywordKind.CONFIRM,
    KeywordKind.NONE,
)

# (text, kind, language of the keyword: None when shared by several languages or unknown)
CASES = [
    # the table, whole message, any case, with or without accents
    ("STOP", STOP, None),
    ("stop", STOP, None),
    ("  Stop  ", STOP, None),
    ("Stop.", STOP, None),
    ("STOP!!!", STOP, None),
    ("STOPALL", STOP, "en"),
    ("unsubscribe", STOP, "en"),
    ("Cancel", STOP, "en"),
    ("END", STOP, "en"),
    ("quit", STOP, "en"),
    ("REVOKE", STOP, "en"),
    ("OPTOUT", STOP, "en"),
    ("opt out", STOP, "en"),
    ("Opt-Out", STOP, "en"),
    ("ARRET", STOP, "fr"),
    ("ARRÊT", STOP, "fr"),
    ("arrêt", STOP, "fr"),
    ("Désabonner", STOP, "fr"),
    ("DESINSCRIPTION", STOP, "fr"),
    ("DÉSINSCRIPTION", STOP, "fr"),
    ("désinscription", STOP, "fr"),
    ("BAJA", STOP, "es"),
    ("parar", STOP, "es"),
    ("Alto", STOP, "es"),
    ("CANCELAR", STOP, "es"),
    ("STOPP", STOP, "de"),
    ("abmelden", STOP, "de"),
    ("Ende", STOP, "de"),
    ("START", START, None),
    ("start", START, None),
    ("UNSTOP", START, "en"),
    ("Alta", START, "es"),
    ("HELP", HELP, "en"),
    ("help?", HELP, "en"),
    ("INFO", HELP, None),
    ("aide", HELP, "fr"),
    ("AYUDA", HELP, "es"),
    ("Hilfe", HELP, "de"),
    ("YES", CONFIRM, "en"),
    ("yes!", CONFIRM, "en"),
    ("OUI", CONFIRM, "fr"),
    ("Oui.", CONFIRM, "fr"),
    ("SI", CONFIRM, "es"),
    ("SÍ", CONFIRM, "es"),
    ("sí", CONFIRM, "es"),
    ("JA", CONFIRM, "de"),
    # free-text wishes to stop
    ("stop please", STOP, None),
    ("Please stop", STOP, None),
    ("STOP merci", STOP, None),
    ("stop svp", STOP, None),
    ("Stop it", STOP, None),
    ("stop stop stop", STOP, None),
    ("STOP SMS", STOP, None),
    ("STOP au 36111", STOP, None),
    ("Stop sending me the promo for shoes", STOP, None),
    ("stop texting me", STOP, None),
    ("stop all texts from this shop", STOP, None),
    ("unsubscribe me please", STOP, "en"),
    ("Please remove me from your list", STOP, "en"),
    ("no more texts thanks", STOP, "en"),
    ("Arrêtez de m'envoyer des SMS", STOP, "fr"),
    ("arrêtez de m’envoyer vos promos pour les chaussures", STOP, "fr"),
    ("Arrêt SVP", STOP, "fr"),
    ("Je ne veux plus recevoir de messages", STOP, "fr"),
    ("désinscrivez-moi", STOP, "fr"),
    ("baja por favor", STOP, "es"),
    ("quiero darme de baja", STOP, "es"),
    ("bitte stopp", STOP, "de"),
    ("Keine SMS mehr bitte", STOP, "de"),
    # messages that only contain a stop word, or nothing at all
    ("non-stop deals", NONE, None),
    ("Non stop", NONE, None),
    ("Stop by the shop tomorrow?", NONE, None),
    ("I can't stop smiling, thank you!", NONE, None),
    ("Don't stop the sale", NONE, None),
    ("When does the sale stop?", NONE, None),
    ("Stop, my message was wrong: I meant Tuesday", NONE, None),
    ("cancel my appointment", NONE, None),
    ("Can I cancel my order?", NONE, None),
    ("The end of the sale is when?", NONE, None),
    ("start time?", NONE, None),
    ("yes please", NONE, None),
    ("Oui, à demain", NONE, None),
    ("El precio baja mañana?", NONE, None),
    ("Ich will keine Pizza", NONE, None),
    ("helpful, thanks", NONE, None),
    ("Bonjour, avez-vous la taille 38 ?", NONE, None),
    ("", NONE, None),
    ("   ", NONE, None),
    ("😀", NONE, None),
]


@pytest.mark.parametrize(("text", "kind", "language"), CASES)
def test_keyword_table_and_free_text(text: str, kind: KeywordKind, language: str | None) -> None:
    match = classify(text)
    assert (match.kind, match.language) == (kind, language)


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


def test_every_keyword_of_the_compliance_table_is_recognised_with_its_kind() -> None:
    for (kind, _language), words in KEYWORDS.items():
        for word in words:
            assert classify(word).kind == kind, word
            assert classify(f"  {word.lower()} ").kind == kind, word


def test_a_bare_keyword_is_not_free_text_but_a_sentence_is() -> None:
    assert not classify("STOP").free_text
    assert classify("stop please").free_text


def test_a_long_message_is_a_conversation_not_a_keyword() -> None:
    text = "stop " + " ".join(["please"] * 20)
    assert classify(text).kind == NONE


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  DÉSINSCRIPTION !! ") == "desinscription"
    assert normalise("Opt-Out") == "opt out"
    assert normalise("m’envoyer") == "m envoyer"
