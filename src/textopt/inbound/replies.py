"""The automatic replies to keywords, per language (data and pure functions).

Each reply names the brand and says how to undo what was just done; none carries marketing
(47 CFR 64.1200(a)(12): one confirmation, no promotion). The texts keep to the GSM-7
alphabet (no á, í, ó, ú, ê, ’) so a reply costs one segment: Spanish is written without
its acute accents, as Spanish SMS commonly are.
"""

from __future__ import annotations

from dataclasses import dataclass

from textopt.inbound.keywords import KeywordKind

__all__ = ["REPLIES", "ReplyContext", "country_language", "reply_language", "reply_text"]

#: language -> reply kind -> text; {brand}, {contact}, {frequency}, {rates} are filled in
#: ({rates} only for numbers where carriers require it).
REPLIES: dict[str, dict[str, str]] = {
    "fr": {
        "stop": "Vous ne recevrez plus de SMS de {brand}. START pour vous réabonner.",
        "start": "Votre abonnement aux SMS de {brand} est réactivé. STOP pour vous désabonner.",
        "confirm": "Merci ! Votre inscription aux SMS de {brand} est confirmée. "
        "STOP pour vous désabonner.",
        "help": "{brand} : {contact}{frequency}. {rates}STOP pour vous désabonner.",
        "frequency": "{count} SMS par mois au plus",
        "frequency_varies": "fréquence variable",
        "rates": "Le coût des SMS et des données peut s'appliquer. ",
    },
    "en": {
        "stop": "You will no longer receive texts from {brand}. Reply START to resubscribe.",
        "start": "You are subscribed again to texts from {brand}. Reply STOP to opt out.",
        "confirm": "Thanks! Your subscription to texts from {brand} is confirmed. "
        "Reply STOP to opt out.",
        "help": "{brand}: {contact}{frequency}. {rates}Reply STOP to opt out.",
        "frequency": "up to {count} msgs/month",
        "frequency_varies": "msg frequency varies",
        "rates": "Msg & data rates may apply. ",
    },
    "es": {
        "stop": "Ya no recibira SMS de {brand}. Envie ALTA para volver a suscribirse.",
        "start": "Vuelve a estar suscrito a los SMS de {brand}. Envie BAJA para darse de baja.",
        "confirm": "Gracias. Su suscripcion a los SMS de {brand} esta confirmada. "
        "Envie BAJA para darse de baja.",
        "help": "{brand}: {contact}{frequency}. {rates}Envie BAJA para darse de baja.",
        "frequency": "{count} SMS al mes como maximo",
        "frequency_varies": "frecuencia variable",
        "rates": "Pueden aplicarse tarifas de mensajes y datos. ",
    },
    "de": {
        "stop": "Sie erhalten keine SMS mehr von {brand}. START zum erneuten Anmelden.",
        "start": "Sie erhalten wieder SMS von {brand}. STOPP zum Abmelden.",
        "confirm": "Danke! Ihre Anmeldung zu den SMS von {brand} ist bestätigt. "
        "STOPP zum Abmelden.",
        "help": "{brand}: {contact}{frequency}. {rates}STOPP zum Abmelden.",
        "frequency": "höchstens {count} SMS pro Monat",
        "frequency_varies": "Häufigkeit variiert",
        "rates": "Es können Gebühren für SMS und Daten anfallen. ",
    },
}

# Countries whose carriers require "Msg & data rates may apply" in a HELP reply (CTIA).
_RATES_COUNTRIES = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})

# The language of a number's country when neither the keyword nor the contact tells.
_COUNTRY_LANGUAGES = {
    **dict.fromkeys(("FR", "BE", "LU", "MC", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF"), "fr"),
    **dict.fromkeys(("ES", "MX", "AR", "CL", "CO", "PE", "UY", "VE", "EC", "BO", "PY"), "es"),
    **dict.fromkeys(("DE", "AT", "LI"), "de"),
    **dict.fromkeys(("GB", "IE", "US", "AU", "NZ", "GG", "JE", "IM", "GI", "MT"), "en"),
}


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What a reply says about the sender: brand, support contact, frequency, country."""

    brand: str
    contact: str | None = None  # support contact: a web address, an email or a number
    per_30_days: int | None = None  # the workspace's marketing cap, None when uncapped
    country: str | None = None  # of the recipient's number
    help_text: str | None = None  # the workspace's own HELP text, used as it is


def reply_language(
    keyword_language: str | None, contact_language: str | None, country: str | None
) -> str:
    """The keyword's own language, else the contact's, else the country's, else English."""
    for candidate in (keyword_language, (contact_language or "").lower()[:2] or None):
        if candidate in REPLIES:
            return candidate
    return _COUNTRY_LANGUAGES.get(country or "", "en")


def country_language(country: str | None) -> str | None:
    """The language of a number's country (fr for FR, en for GB), None when unsure."""
    return _COUNTRY_LANGUAGES.get((country or "").upper())


def reply_text(kind: KeywordKind, language: str, context: ReplyContext) -> str:
    """The reply to a keyword of `kind` in `language`."""
    texts = REPLIES.get(language, REPLIES["en"])
    if kind == KeywordKind.HELP and context.help_text:
        return context.help_text
    if context.per_30_days is None:
        frequency = texts["frequency_varies"]
    else:
        frequency = texts["frequency"].format(count=context.per_30_days)
    rates = texts["rates"] if context.country in _RATES_COUNTRIES else ""
    return texts[str(kind)].format(
        brand=context.brand,
        contact=f"{context.contact}, " if context.contact else "",
        frequency=frequency,
        rates=rates,
    )
