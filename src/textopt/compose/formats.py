"""Dates, times and money written the way a contact's language writes them (fr, en, es, de).

babel is not a dependency, so these follow CLDR's patterns for the four languages textopt
serves, with one deliberate change: CLDR puts a narrow no-break space (U+202F) or a no-break
space (U+00A0) in French and German amounts, and either would force the whole SMS into UCS-2.
A plain space is used instead (see "Message composition" in docs/decisions.md).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from textopt.errors import ValidationError

__all__ = [
    "DATE_STYLES",
    "LANGUAGES",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_time",
    "parse_language",
]

LANGUAGES = ("fr", "en", "es", "de")
DATE_STYLES = ("short", "long", "full")

_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
    "es": (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
MONTHS = {lang: tuple(names.split()) for lang, names in _MONTHS.items()}
_WEEKDAYS = {
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
}
WEEKDAYS = {lang: tuple(names.split()) for lang, names in _WEEKDAYS.items()}

# (group separator, decimal separator, minimum digits before grouping starts)
_NUMBER_SYMBOLS = {
    "fr": (" ", ",", 4),
    "en": (",", ".", 4),
    "es": (".", ",", 5),  # CLDR es: 1234,50 but 12.345,50
    "de": (".", ",", 4),
}
_DATETIME_JOIN = {
    "fr": "{date} à {time}",
    "en": "{date} at {time}",
    "es": "{date}, {time}",
    "de": "{date} um {time}",
}
_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "ISK", "XOF", "XAF", "XPF"})


def parse_language(tag: str) -> tuple[str, str]:
    """(language, region) from a tag such as "fr", "fr-FR" or "en_GB"; region may be ""."""
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else ""
    if language not in LANGUAGES:
        raise ValidationError(
            f"language {tag!r} is not supported: use one of {', '.join(LANGUAGES)}",
            field="language",
        )
    return language, region


def _as_date(value: object) -> date:
    if isinstance(value, date):  # datetime is a date too
        return value
    if isinstance(value, str):
        try:
            return (
                datetime.fromisoformat(value)
                if "T" in value or " " in value.strip()
                else (date.fromisoformat(value))
            )
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not a date (expected a date or ISO 8601 text)")


def _as_time(value: object) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return (
                datetime.fromisoformat(value).time()
                if "T" in value
                else (time.fromisoformat(value))
            )
        except ValueError:
            pass
    raise ValidationError(f"{value!r} is not a time (expected a time, datetime or ISO 8601 text)")


def format_date(value: object, *, language: str, style: str = "long") -> str:
    """A date in `language`: short (05/03/2026), long (5 mars 2026) or full (jeudi 5 mars 2026)."""
    lang, region = parse_language(language)
    day = _as_date(value)
    if style not in DATE_STYLES:
        raise ValidationError(f"date style {style!r} is not one of {', '.join(DATE_STYLES)}")
    d, m, y = day.day, day.month, day.year
    us = lang == "en" and region in ("", "US")
    if style == "short":
        if lang == "de":
            return f"{d:02d}.{m:02d}.{y}"
        if us:
            return f"{m}/{d}/{y}"
        return f"{d:02d}/{m:02d}/{y}"
    month = MONTHS[lang][m - 1]
    weekday = WEEKDAYS[lang][day.weekday()]
    if lang == "fr":
        text = f"{'1er' if d == 1 else d} {month} {y}"
        return f"{weekday} {text}" if style == "full" else text
    if lang == "es":
        text = f"{d} de {month} de {y}"
        return f"{weekday}, {text}" if style == "full" else text
    if lang == "de":
        text = f"{d}. {month} {y}"
        return f"{weekday}, {text}" if style == "full" else text
    if us:
        text = f"{month} {d}, {y}"
        return f"{weekday}, {text}" if style == "full" else text
    text = f"{d} {month} {y}"
    return f"{weekday} {text}" if style == "full" else text


def format_time(value: object, *, language: str) -> str:
    """A time of day in `language`: 14:30, or 2:30 PM in American English."""
    lang, region = parse_language(language)
    moment = _as_time(value)
    if lang == "en" and region in ("", "US", "CA"):
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_datetime(value: object, *, language: str, style: str = "long") -> str:
    """A date and time in `language`, e.g. "5 mars 2026 à 14:30"."""
    lang, _ = parse_language(language)
    text = _DATETIME_JOIN[lang]
    return text.format(
        date=format_date(value, language=language, style=style),
        time=format_time(value, language=language),
    )


def _as_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(f"{value!r} is not an amount")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float | str):
        try:
            # str() first: Decimal(0.1) would carry the float's binary error.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(f"{value!r} is not an amount") from None
    else:
        raise ValidationError(f"{value!r} is not an amount")
    if not number.is_finite():
        raise ValidationError(f"{value!r} is not a finite amount")
    return number


def format_number(value: object, *, language: str, decimals: int | None = None) -> str:
    """A number with the grouping and decimal separators of `language` (1 234,5 / 1,234.5)."""
    lang, _ = parse_language(language)
    number = _as_decimal(value)
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return _group(number, lang)


def _group(number: Decimal, lang: str) -> str:
    group, point, minimum = _NUMBER_SYMBOLS[lang]
    sign = "-" if number < 0 else ""
    digits = f"{abs(number):f}"
    whole, _, fraction = digits.partition(".")
    if len(whole) >= minimum:
        head = len(whole) % 3 or 3
        whole = whole[:head] + "".join(group + whole[i : i + 3] for i in range(head, len(whole), 3))
    return sign + whole + (point + fraction if fraction else "")


def _symbol(currency: str, lang: str, region: str) -> str:
    if currency == "EUR":
        return "€"
    if currency == "GBP":
        return "£"
    if currency == "JPY":
        return "¥"
    if currency == "USD":
        return "$" if lang == "en" and region in ("", "US") else "$US" if lang == "fr" else "US$"
    if currency == "CAD":
        return "$" if region == "CA" else "$CA" if lang == "fr" else "CA$"
    return currency


def format_money(value: object, *, currency: str, language: str) -> str:
    """An amount of money in `language`: 12,50 € (fr, es, de) or €12.50 (en)."""
    lang, region = parse_language(language)
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(f"currency {currency!r} is not an ISO 4217 code")
    decimals = 0 if code in _ZERO_DECIMAL_CURRENCIES else 2
    amount = _as_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    number = _group(abs(amount), lang)
    sign = "-" if amount < 0 else ""
    symbol = _symbol(code, lang, region)
    if lang == "en":
        glue = " " if len(symbol) == 3 and symbol.isalpha() else ""
        return f"{sign}{symbol}{glue}{number}"
    return f"{sign}{number} {symbol}"
