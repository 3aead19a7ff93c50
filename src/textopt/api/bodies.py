"""Request bodies: a size limit enforced as the body streams, and JSON that is really JSON.

`BodyGuard` is the outermost ASGI middleware of the app. It refuses, with a problem+json
answer naming what is wrong:

- a body larger than its route's limit (`body_limit`): `413` as soon as the declared
  `Content-Length` says so, before a byte is read; otherwise the moment the count of the
  bytes received passes the limit, whoever is reading (a JSON parse, a multipart upload
  spooled to disk). Nothing past the limit is ever read.
- a JSON body (or a body without a content type, which FastAPI reads as JSON; checked when
  the route has read its last chunk) holding what
  JSON has no place for but Python's parser lets through: `NaN` and `±Infinity`, a lone
  UTF-16 surrogate (`"\\ud800"`, which no database stores and no export can write), a NUL
  character: `422` with the `field` path (`attributes.score`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from textopt.http.problems import problem_response

__all__ = ["BodyGuard", "BodyTooLarge", "UnfitJson", "body_limit", "unfit_json_field"]

KB = 1024
MB = 1024 * KB
#: Limits by path prefix, the first match wins; the import's own comes from the settings.
_LIMITS: tuple[tuple[str, int], ...] = (
    ("/u/", 16 * KB),  # an unsubscribe confirmation: one small form
    ("/hooks/", 1 * MB),  # a provider's callback: a batch of receipts at most
    ("/s/", 64 * KB),  # a public signup form
)
#: Any other route: JSON documents and dashboard forms.
DEFAULT_LIMIT = 1 * MB
#: The multipart envelope around an uploaded file.
_ENVELOPE = 64 * KB
_UPLOADS = ("/v1/contacts/import", "/app/import")


class BodyTooLarge(HTTPException):
    """A request body passed its route's limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {_size(limit)}")


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"


def body_limit(path: str, *, upload_bytes: int) -> int:
    """The most bytes a request body to `path` may have."""
    if path in _UPLOADS:
        return upload_bytes + _ENVELOPE
    for prefix, limit in _LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


class _Unfit:
    """What the parser made of a NaN or an Infinity: a marker to find its path."""

    def __init__(self, text: str) -> None:
        self.text = text


def _unfit_string(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone UTF-16 surrogate (not a character)"
    return None


def _walk(value: Any, path: list[str]) -> tuple[str, str] | None:
    if isinstance(value, _Unfit):
        return ".".join(path), f"{value.text} is not a JSON number"
    if isinstance(value, str):
        problem = _unfit_string(value)
        return (".".join(path), f"the text holds {problem}") if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unfit_string(key)
            if problem:
                return ".".join([*path, key.encode("utf-8", "replace").decode()]), (
                    f"a key holds {problem}"
                )
            found = _walk(item, [*path, key])
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, [*path, str(index)])
            if found:
                return found
    return None


def unfit_json_field(body: bytes) -> tuple[str, str] | None:
    """The path and the fault of the first value JSON cannot carry, or None.

    None too when `body` is not JSON at all: the route's own validation says so.
    """
    try:
        document = json.loads(body, parse_constant=_Unfit)
    except ValueError:
        return None
    return _walk(document, [])


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind.startswith(b"application/") and kind.endswith(b"json")
    return True  # no content type: FastAPI reads the body as JSON


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return None


class UnfitJson(HTTPException):
    """A JSON body holding a value JSON cannot carry (422 naming the field)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(422, f"{field}: {detail}")
        self.field = field


class BodyGuard:
    """ASGI middleware: body limits as the body streams, and JSON bodies checked.

    Nothing is read ahead of the route: the checks run on the chunks as the route reads
    them, so a route that refuses a caller first (a key, a signature header) reads nothing.
    """

    def __init__(self, app: ASGIApp, *, upload_bytes: Callable[[], int]) -> None:
        self.app = app
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request's body on its way in."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"], upload_bytes=self.upload_bytes())
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, BodyTooLarge(limit))
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _checked(receive, limit, json=_is_json(scope)), watch)
        except BodyTooLarge as exc:
            if started:
                raise
            await _refuse(scope, receive, send, exc)


def _checked(receive: Receive, limit: int, *, json: bool) -> Receive:
    """`receive`, counting the body's bytes and, for JSON, checking it at its last chunk."""
    seen = 0
    chunks: list[bytes] = []

    async def checked() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(limit)
        if json:
            chunks.append(chunk)
            if not message.get("more_body", False):
                fault = unfit_json_field(b"".join(chunks))
                chunks.clear()
                if fault is not None:
                    raise UnfitJson(fault[0] or "body", fault[1])
        return message

    return checked


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    response = problem_response(
        413, str(exc.detail), code="body_too_large", headers={"Connection": "close"}
    )
    await response(scope, receive, send)
