"""The dashboard in French and English: a small catalogue keyed by the English text.

The language is the user's choice (a cookie set by the switch in the header), else the
browser's `Accept-Language`, else `web_language`. A text missing from the French catalogue
shows in English (a unit test lists the templates' texts that lack a translation). Codes
shown to users (statuses, reasons, sources) are keys too, so both languages read them as
words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import Request

from textopt.config import Settings
from textopt.web.catalogue import EN, FR

__all__ = [
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "Translate",
    "choose_language",
    "long_date",
    "request_translator",
    "translator",
    "weekdays",
]

LANGUAGES = ("fr", "en")
LANGUAGE_COOKIE = "textopt_lang"
Translate = Callable[[str], str]
_CATALOGUES = {"fr": FR, "en": EN}


def _from_header(header: str) -> str | None:
    """The first supported language of an Accept-Language header, by its q weights."""
    choices: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and weight > 0:
            choices.append((-weight, position, language))
    return min(choices)[2] if choices else None


def choose_language(request: Request, *, settings: Settings) -> str:
    """The page's language: the user's choice, else the browser's, else the workspace's."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return _from_header(request.headers.get("accept-language", "")) or settings.web_language


def translator(lang: str) -> Translate:
    """The function that turns an English text (or a code) into `lang`."""
    catalogue = _CATALOGUES.get(lang, EN)

    def translate(text: str) -> str:
        return catalogue.get(text) or EN.get(text) or text

    return translate


def request_translator(request: Request) -> Translate:
    """The translation function of the request's language."""
    return translator(choose_language(request, settings=request.app.state.settings))


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(_: Translate, day: dt.date) -> str:
    """`Wednesday 25 November 2026`, `mercredi 25 novembre 2026`: a day as people say it."""
    return _("%(weekday)s %(day)s %(month)s %(year)s") % {
        "weekday": _(_WEEKDAYS[day.weekday()]),
        "day": day.day,
        "month": _(_MONTHS[day.month - 1]),
        "year": day.year,
    }


_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekdays(_: Translate, days: frozenset[int]) -> str:
    """`Mon–Sat`, `lun.–sam.`, `every day`, or a list such as `Mon, Wed` (0 is Monday)."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return _("every day")
    if not ordered:
        return _("no day")
    names = [_(_SHORT_DAYS[d]) for d in ordered]
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{names[0]}–{names[-1]}"
    return ", ".join(names)
