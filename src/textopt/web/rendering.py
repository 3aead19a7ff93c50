"""Rendering pages: one Jinja2 environment (autoescaped), the page helpers, security headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from textopt.config import Settings
from textopt.web.i18n import choose_language, long_date, translator
from textopt.web.places import country_name, language_name
from textopt.web.reasons import reason_sentence

__all__ = ["SECURITY_HEADERS", "counted", "number_format", "render"]

_env = Environment(
    loader=PackageLoader("textopt.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# No external origin at all: scripts, styles and images come from this server only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _formatters(settings: Settings, lang: str) -> dict[str, Any]:
    zone = ZoneInfo(settings.workspace_timezone)
    separator = "\u202f" if lang == "fr" else ","

    def num(value: int | float | None) -> str:
        if value is None:
            return "—"
        return f"{int(value):,}".replace(",", separator)

    def pct(value: float) -> str:
        text = f"{value * 100:.1f}"
        return (text.replace(".", ",") if lang == "fr" else text) + "\u00a0%"

    def money(amount: Any, currency: str) -> str:
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return f"{amount} {currency}"
        # cents, unless the amount is a fraction of a cent (the price of one segment)
        text = f"{value:.2f}" if value >= Decimal("0.01") or value == 0 else f"{value:.4f}"
        return (text.replace(".", ",") if lang == "fr" else text) + f"\u00a0{currency}"

    def when(value: dt.datetime | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        local = value.astimezone(zone)
        return local.strftime("%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M")

    translate = translator(lang)

    def reason(code: str, error_code: str | None = None) -> str:
        return reason_sentence(translate, code, error_code=error_code)

    def day(value: dt.date | str) -> str:
        return long_date(translate, dt.date.fromisoformat(str(value)[:10]))

    def plural(count: int | float | None, one: str, many: str) -> str:
        # French counts 0 and 1 as singular ("0 contact"), English only 1
        singular = count is not None and (count == 1 or (lang == "fr" and 0 <= count < 2))
        return translate(one if singular else many)

    return {
        "num": num,
        "pct": pct,
        "money": money,
        "when": when,
        "reason": reason,
        "plural": plural,
        "day": day,
        "country": lambda code: country_name(code, lang),
        "language": lambda code: language_name(code, lang),
    }


def number_format(request: Request) -> Callable[[int | float | None], str]:
    """How the request's language writes a count: `3 019` in French, `3,019` in English."""
    settings: Settings = request.app.state.settings
    number: Callable[[int | float | None], str] = _formatters(
        settings, choose_language(request, settings=settings)
    )["num"]
    return number


def counted(request: Request, count: int, one: str, many: str) -> str:
    """`1 contact`, `2 976 contacts`: a count and its word in the request's language."""
    settings: Settings = request.app.state.settings
    helpers = _formatters(settings, choose_language(request, settings=settings))
    return f"{helpers['num'](count)} {helpers['plural'](count, one, many)}"


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template` in the request's language with the page helpers."""
    settings: Settings = request.app.state.settings
    viewer = getattr(request.state, "viewer", None)
    lang = choose_language(request, settings=settings)
    values: dict[str, Any] = {
        "lang": lang,
        "_": translator(lang),
        "viewer": viewer,
        "request_path": request.url.path,
        "notice": None,
        "section": None,
        **_formatters(settings, lang),
    }
    values.update(context)
    html = _env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
