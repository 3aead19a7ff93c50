"""Country and language codes as words in the viewer's language.

Contacts store ISO codes (`FR`, `fr-ca`); a marketer reads "France", "français (Canada)".
Country names come from the `phonenumbers` geocoder data (already a dependency, one name
per region and language); a few of its French spellings drop accents, so the countries the
policy packs cover are spelled here. Language names are a small table of the languages
shop audiences speak; a code outside both is shown as it is stored rather than guessed.
"""

from __future__ import annotations

from phonenumbers.geodata.locale import LOCALE_DATA

__all__ = ["country_name", "language_name"]

# The packs' countries and their neighbours, where the geocoder's spelling falls short.
_COUNTRIES: dict[str, dict[str, str]] = {
    "fr": {
        "FR": "France",
        "US": "États-Unis",
        "CA": "Canada",
        "LU": "Luxembourg",
        "PT": "Portugal",
        "MC": "Monaco",
        "RE": "La Réunion",
        "PF": "Polynésie française",
        "GB": "Royaume-Uni",
        "UK": "Royaume-Uni",
    },
    "en": {"UK": "United Kingdom"},
}

_LANGUAGES: dict[str, dict[str, str]] = {
    "fr": {
        "fr": "français",
        "en": "anglais",
        "es": "espagnol",
        "de": "allemand",
        "it": "italien",
        "pt": "portugais",
        "nl": "néerlandais",
        "ca": "catalan",
        "eu": "basque",
        "br": "breton",
        "oc": "occitan",
        "co": "corse",
        "ar": "arabe",
        "tr": "turc",
        "pl": "polonais",
        "ro": "roumain",
        "ru": "russe",
        "uk": "ukrainien",
        "zh": "chinois",
        "ja": "japonais",
        "vi": "vietnamien",
        "wo": "wolof",
        "ht": "créole haïtien",
    },
    "en": {
        "fr": "French",
        "en": "English",
        "es": "Spanish",
        "de": "German",
        "it": "Italian",
        "pt": "Portuguese",
        "nl": "Dutch",
        "ca": "Catalan",
        "eu": "Basque",
        "br": "Breton",
        "oc": "Occitan",
        "co": "Corsican",
        "ar": "Arabic",
        "tr": "Turkish",
        "pl": "Polish",
        "ro": "Romanian",
        "ru": "Russian",
        "uk": "Ukrainian",
        "zh": "Chinese",
        "ja": "Japanese",
        "vi": "Vietnamese",
        "wo": "Wolof",
        "ht": "Haitian Creole",
    },
}


def _geocoder_name(code: str, lang: str) -> str | None:
    names = LOCALE_DATA.get(code)
    if not names:
        return None
    name = names.get(lang, "*aa")
    # the data points to another language's entry (`*aa` is the default, English)
    for _ in range(3):
        if not name.startswith("*"):
            return name
        name = names.get(name[1:], "")
    return name or None


def country_name(code: str | None, lang: str) -> str:
    """The name of an ISO country code in `lang` (`FR` → "France"), the code when unknown."""
    if not code:
        return ""
    upper = code.strip().upper()
    return (
        _COUNTRIES.get(lang, {}).get(upper)
        or _geocoder_name(upper, lang)
        or _geocoder_name(upper, "aa")
        or upper
    )


def language_name(code: str | None, lang: str) -> str:
    """The name of a language tag in `lang` (`fr-ca` → "French (Canada)"), the tag when
    unknown."""
    if not code:
        return ""
    base, _, region = code.strip().lower().replace("_", "-").partition("-")
    name = _LANGUAGES.get(lang, _LANGUAGES["en"]).get(base)
    if name is None:
        return code
    if region and len(region) == 2:
        return f"{name} ({country_name(region, lang)})"
    return f"{name} ({region})" if region else name
