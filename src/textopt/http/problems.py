"""Errors as RFC 9457 problem details (`application/problem+json`), translated in one place.

Every `TextoptError` maps to a status by its class; the body names the error `code` and,
when known, the `field` at fault. Request validation errors (FastAPI's) become 422 with the
field path of the first error and the full list under `errors`. A database that fails or
refuses the commit (`OperationalError`, a pool timeout) is 503 with `Retry-After`: the
request was not acknowledged, and a provider's callback is retried.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from textopt.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    ConsentError,
    ContentTooLarge,
    NotFoundError,
    PermissionDenied,
    ProviderError,
    RateLimited,
    SignatureError,
    TextoptError,
    ValidationError,
)

__all__ = ["PROBLEM_TYPE", "install_problem_handlers", "problem_response", "status_of"]

PROBLEM_TYPE = "application/problem+json"
_log = logging.getLogger("textopt.api")

# Most specific class first: the first match wins.
_STATUS: tuple[tuple[type[TextoptError], int], ...] = (
    (AuthenticationError, 401),
    (SignatureError, 401),  # a provider callback without a valid signature
    (PermissionDenied, 403),
    (NotFoundError, 404),
    (ConflictError, 409),  # InvalidTransition included
    (ConsentError, 409),  # the ledger's state forbids it (a suppressed number...)
    (ContentTooLarge, 413),
    (ValidationError, 422),
    (RateLimited, 429),
    # a provider account named in the request that is not configured: the request is wrong
    (ConfigError, 422),
    (ProviderError, 502),
)
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    502: "Provider error",
    503: "Service unavailable",
}
#: Seconds a client is asked to wait before retrying after the database failed.
_RETRY_AFTER_DATABASE = 5


def status_of(error: TextoptError) -> int:
    """The HTTP status of a domain error."""
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 500


def problem_response(
    status: int,
    detail: str,
    *,
    code: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://textopt.dev/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_TYPE)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TextoptError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="textopt"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if status >= 500:
        _log.error("%s %s: %s", request.method, request.url.path, exc.message)
    return problem_response(status, exc.message, code=exc.code, field=exc.field, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_path(e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    field = errors[0]["field"] if errors else None
    message = errors[0]["message"] if errors else "invalid request"
    detail = f"{field}: {message}" if field else message
    return problem_response(422, detail, code="invalid", field=field, extra={"errors": errors})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        exc.status_code, "invalid" if exc.status_code == 422 else "http_error"
    )
    return problem_response(
        exc.status_code,
        detail,
        code=code,
        field=getattr(exc, "field", None),  # a body's unfit JSON value names its field
        headers=dict(exc.headers or {}) or None,
    )


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the schema let through (a NUL character in text,
    # a number out of range): the request is at fault, not the server.
    assert isinstance(exc, DataError)
    _log.info("refused value on %s %s: %s", request.method, request.url.path, exc.orig)
    return problem_response(
        422, "a value of the request cannot be stored (e.g. a NUL character)", code="invalid"
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database failed mid-request or refused the commit (connection lost, lock
    # timeout, serialization failure, disk full...): the server's fault, and nothing was
    # acknowledged, so the caller (a provider's callback above all) must retry.
    assert isinstance(exc, OperationalError | PoolTimeout)
    cause = getattr(exc, "orig", None) or exc  # the driver's error, without SQL parameters
    _log.error("database unavailable on %s %s: %r", request.method, request.url.path, cause)
    return problem_response(
        503,
        "the database could not complete the request: retry later",
        code="database_unavailable",
        headers={"Retry-After": str(_RETRY_AFTER_DATABASE)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(500, "an unexpected error occurred", code="internal")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error of `app` through the problem+json translators."""
    app.add_exception_handler(TextoptError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
