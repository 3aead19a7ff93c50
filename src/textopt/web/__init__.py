"""The web face: the marketer's dashboard (`/app/`), hosted signup pages (`/s/`), short links.

`mount_web(app)` adds the pages, the static files and the HTML error pages to the API app.
Pages are server-rendered Jinja2 with a little plain JavaScript (no CDN, no framework);
charts are inline SVG. Pages call domain services only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from textopt.errors import RateLimited, TextoptError
from textopt.http.problems import status_of
from textopt.links.service import is_link_code
from textopt.web import (
    pages_campaigns,
    pages_contacts,
    pages_drafts,
    pages_events_import,
    pages_flows,
    pages_home,
    pages_import,
    pages_inbox,
    pages_keywords,
    pages_public,
    pages_settings,
)
from textopt.web.auth import LoginRequired
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import request_translator
from textopt.web.rendering import render

__all__ = ["mount_web"]

_STATIC = Path(__file__).parent / "static"
_WEB_PREFIXES = ("/app/", "/s/", "/l/")
_TITLES = {
    401: "Sign in",
    403: "Not allowed",
    404: "Page not found",
    409: "Not possible now",
    422: "Check what you entered",
    429: "Too many requests",
}


#: Paths of the shape of a short link that the API owns (a scraper reads its errors as JSON).
_API_PATHS = frozenset({"/metrics"})


def _is_page(path: str) -> bool:
    if path in _API_PATHS:
        return False
    return path == "/app" or path.startswith(_WEB_PREFIXES) or is_link_code(path[1:])


def _html_error(request: Request, status: int, detail: str, *, fields: str = "") -> Response:
    _ = request_translator(request)
    headers = {}
    if status == 429:
        headers["Retry-After"] = "60"
    viewer = getattr(request.state, "viewer", None)
    # A short-link or signup 404 says nothing about what exists.
    shown = detail if viewer is not None or status != 404 else _("This address leads nowhere.")
    return render(
        request,
        "error.html",
        status_code=status,
        headers=headers,
        title=_(_TITLES.get(status, "Something went wrong")),
        detail=translate_message(_, shown) + (f" ({fields})" if fields else ""),
    )


def _install_error_pages(app: FastAPI) -> None:
    """Errors on page routes become HTML pages; the API keeps its problem+json handlers."""
    handlers: dict[Any, Any] = dict(app.exception_handlers)

    async def domain_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request.url.path):
            return await handlers[TextoptError](request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, TextoptError)
        response = _html_error(request, status_of(exc), exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response

    async def invalid_request(request: Request, exc: Exception) -> Response:
        if not _is_page(request.url.path):
            return await handlers[RequestValidationError](request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, RequestValidationError)
        names = dict.fromkeys(str(e.get("loc", ("",))[-1]) for e in exc.errors())
        _ = request_translator(request)  # a field's name in words where the catalogue has it
        fields = ", ".join(_(name) for name in names)
        return _html_error(request, 422, "Some fields are missing or invalid.", fields=fields)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request.url.path):
            return await handlers[StarletteHTTPException](request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, StarletteHTTPException)
        return _html_error(request, exc.status_code, str(exc.detail))

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = pages_home.safe_next(exc.next_path)
        return RedirectResponse(f"/app/login?next={quote(target)}", status_code=303)

    app.add_exception_handler(TextoptError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(LoginRequired, login_required)


def mount_web(app: FastAPI) -> None:
    """Add the dashboard, the signup pages, short links and static files to `app`."""
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    # drafts before campaigns: `/app/campaigns/{id}/{action}` would take `/edit`, `/launch`...
    for module in (
        pages_home,
        pages_contacts,
        pages_import,
        pages_events_import,
        pages_drafts,
        pages_campaigns,
        pages_flows,
        pages_keywords,
        pages_inbox,
        pages_settings,
        pages_public,
    ):
        app.include_router(module.router)
    # Last, so that every other single-segment path (/docs, /health...) is matched first.
    app.add_api_route(
        "/{code}",
        pages_public.root_short_link,
        methods=["GET"],
        dependencies=pages_public.LINK_LIMITS,
        include_in_schema=False,
    )
    _install_error_pages(app)
