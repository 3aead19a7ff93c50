"""Keywords of inbound messages: STOP, START, HELP and double opt-in replies (pure).

The whole message counts, trimmed, case- and accent-insensitive, with surrounding
punctuation ignored (`Stop.`, `ARRÊT !`, `sí`). A clear free-text wish to stop counts as
STOP ("stop please", "Stop sending me the promo for shoes", "arrêtez de m'envoyer des
SMS"); a message that merely contains the word does not ("non-stop deals", "stop by the
shop"). Only the opt-out has a free-text form: granting consent again, asking for help or
confirming an opt-in must be the keyword itself, so nobody is subscribed by a sentence.

The table is COMPLIANCE.md's ("Keywords"). A word shared by several languages (STOP, START,
INFO) has no language of its own: the reply's language then comes from the contact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["KEYWORDS", "KeywordKind", "KeywordMatch", "classify", "normalise"]


class KeywordKind(StrEnum):
    """What an inbound message asks for."""

    STOP = "stop"  # withdraw marketing consent for the channel
    START = "start"  # opt in again after a STOP
    HELP = "help"  # who is writing and how to stop
    CONFIRM = "confirm"  # confirm a pending double opt-in
    NONE = "none"  # an ordinary message: stored, nothing else


_K = KeywordKind

#: (kind, language) -> the keywords, written as in COMPLIANCE.md (accents included).
KEYWORDS: dict[tuple[KeywordKind, str], tuple[str, ...]] = {
    (_K.STOP, "en"): (
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
    ),
    (_K.STOP, "fr"): ("STOP", "ARRET", "ARRÊT", "DESABONNER", "DÉSINSCRIPTION"),
    (_K.STOP, "es"): ("BAJA", "PARAR", "ALTO", "CANCELAR"),
    (_K.STOP, "de"): ("STOP", "STOPP", "ABMELDEN", "ENDE"),
    (_K.START, "en"): ("START", "UNSTOP"),
    (_K.START, "fr"): ("START",),
    (_K.START, "es"): ("ALTA",),
    (_K.START, "de"): ("START",),
    (_K.HELP, "en"): ("HELP", "INFO"),
    (_K.HELP, "fr"): ("AIDE", "INFO"),
    (_K.HELP, "es"): ("AYUDA",),
    (_K.HELP, "de"): ("HILFE",),
    (_K.CONFIRM, "en"): ("YES",),
    (_K.CONFIRM, "fr"): ("OUI",),
    (_K.CONFIRM, "es"): ("SI", "SÍ"),
    (_K.CONFIRM, "de"): ("JA",),
}


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """The kind of an inbound message and the keyword's language (None when shared)."""

    kind: KeywordKind
    language: str | None = None
    keyword: str | None = None  # the normalised keyword or stop word found
    free_text: bool = False  # a sentence read as a wish to stop, not the bare keyword


_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents removed, words separated by single spaces, punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(bare))


def _build_exact() -> dict[str, tuple[KeywordKind, str | None]]:
    found: dict[str, set[tuple[KeywordKind, str]]] = {}
    for (kind, language), words in KEYWORDS.items():
        for word in words:
            found.setdefault(normalise(word), set()).add((kind, language))
    exact: dict[str, tuple[KeywordKind, str | None]] = {}
    for word, pairs in found.items():
        kinds = {kind for kind, _ in pairs}
        if len(kinds) != 1:  # a word meaning two things would be a table error
            raise ValueError(f"keyword {word!r} has several meanings: {sorted(kinds)}")
        languages = {language for _, language in pairs}
        exact[word] = (kinds.pop(), languages.pop() if len(languages) == 1 else None)
    return exact


_EXACT = _build_exact()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that mean "stop" on their own inside a sentence, with their language (None: shared).
# The weak keywords (CANCEL, END, QUIT, ALTO, CANCELAR, ENDE, PARAR) count only alone:
# "cancel my appointment" or "end of the sale?" are not opt-outs.
_STRONG: dict[str, str | None] = {
    "stop": None,
    "stopall": "en",
    "unsubscribe": "en",
    "optout": "en",
    "revoke": "en",
    "arret": "fr",
    "arrete": "fr",
    "arretez": "fr",
    "arreter": "fr",
    "stoppez": "fr",
    "desabonner": "fr",
    "desabonnez": "fr",
    "desabonnement": "fr",
    "desinscription": "fr",
    "desinscrire": "fr",
    "desinscrivez": "fr",
    "baja": "es",
    "stopp": "de",
    "abmelden": "de",
    "abbestellen": "de",
}

# Politeness and filler around a stop word: "stop please", "STOP merci", "bitte stopp".
_FILLER = _words(
    """please pls plz plse thanks thank thx you ty now immediately asap it this that all
    me my i just ok okay right away the your these those to au d
    svp stp sil vous plait merci moi tout toutes tous de du des le la les mes vos ca
    svp maintenant immediatement vite oui
    por favor gracias ya todo todos me de mi los las
    bitte danke sofort alles mich mir jetzt"""
)

# What one stops receiving: "stop sending me", "stop the texts", "arrêtez les sms".
_MESSAGING = _words(
    """sending send texting text texts textos messaging message messages msg msgs sms
    smss contacting contact spamming spam spams emails email mails promos promo ads
    marketing notifications alerts
    envoyer envoyez envoi envois m mes messages pub pubs publicites publicite
    mensajes mensaje enviar envien enviarme
    nachrichten nachricht senden schicken werbung"""
)

# Words joining a stop word to what is stopped: "stop all texts", "arrêtez de m'envoyer".
_LINK = _words("all the your these those de d les vos des tous toutes me m mir mich los las sus")

# Sentences that say it without a stop word; each a run of normalised words.
_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (tuple(phrase.split()), language)
    for phrase, language in (
        ("remove me", "en"),
        ("unsubscribe me", "en"),
        ("opt me out", "en"),
        ("opt out", "en"),
        ("take me off", "en"),
        ("no more texts", "en"),
        ("no more messages", "en"),
        ("no more sms", "en"),
        ("dont text me", "en"),
        ("don t text me", "en"),
        ("do not text me", "en"),
        ("ne veux plus", "fr"),
        ("ne plus recevoir", "fr"),
        ("plus de sms", "fr"),
        ("plus de messages", "fr"),
        ("desabonnez moi", "fr"),
        ("desinscrivez moi", "fr"),
        ("retirez moi", "fr"),
        ("darme de baja", "es"),
        ("dar de baja", "es"),
        ("no mas mensajes", "es"),
        ("no quiero recibir", "es"),
        ("keine sms mehr", "de"),
        ("keine nachrichten mehr", "de"),
        ("keine werbung mehr", "de"),
    )
)

_MAX_WORDS = 16  # a longer message is a conversation, for a person to read


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def _stop_wish(words: list[str]) -> KeywordMatch | None:
    """A sentence read as a clear wish to stop, or None."""
    if not words or len(words) > _MAX_WORDS:
        return None
    strong = [w for w in words if w in _STRONG]
    allowed = _FILLER | _MESSAGING
    if strong and all(w in _STRONG or w in allowed or w.isdigit() for w in words):
        # only stop words, politeness and what to stop: "stop please", "arrêtez les sms"
        return _wish(strong[0])
    if words[0] in _STRONG and len(words) > 1 and words[1] in _MESSAGING:
        # "stop sending me the promo for shoes", "arretez d'envoyer" (de is filler below)
        return _wish(words[0])
    if len(words) > 2 and words[0] in _STRONG and words[1] in _LINK and words[2] in _MESSAGING:
        return _wish(words[0])  # "arrêtez de m'envoyer des promos", "stop all texts"
    for phrase, language in _PHRASES:
        if _contains(words, phrase):
            return KeywordMatch(_K.STOP, language, " ".join(phrase), free_text=True)
    return None


def _wish(word: str) -> KeywordMatch:
    return KeywordMatch(_K.STOP, _STRONG[word], word, free_text=True)


def classify(text: str) -> KeywordMatch:
    """What an inbound message asks for, and in which language (None: shared or unknown)."""
    plain = normalise(text)
    exact = _EXACT.get(plain)
    if exact is not None:
        return KeywordMatch(exact[0], exact[1], plain)
    wish = _stop_wish(plain.split())
    return wish if wish is not None else KeywordMatch(_K.NONE)
