"""What both HTTP adapters share: a pooled `httpx` client, timeouts, retries with backoff.

A request is retried, with exponential backoff (and the server's `Retry-After` when it
gives one), on 429, on 5xx and when no connection could be made: in each case the provider
did not take the message. It is not retried when the request was written and no answer
came (a read timeout, a connection cut mid-answer): the provider may hold the message, so
the answer is `no_answer` and the dispatcher decides. Other 4xx answers are final.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from textopt.errors import ConfigError
from textopt.providers.base import OutboundMessage, ReceiptSink, SubmitOutcome, SubmitResult
from textopt.providers.codes import CONNECT_FAILED, NO_ANSWER

__all__ = [
    "HttpAnswer",
    "HttpOptions",
    "HttpProvider",
    "HttpRequest",
    "http_options",
    "new_client",
    "post_with_retries",
]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Transport options of an HTTP provider account."""

    timeout: float = 10.0  # seconds for a whole request
    connect_timeout: float = 5.0
    max_retries: int = 3  # retries after the first attempt, on 429, 5xx and connect errors
    backoff: float = 0.5  # first pause in seconds, doubled at each retry
    max_backoff: float = 30.0  # no pause is longer, whatever Retry-After says
    concurrency: int = 10  # requests in flight (and pooled connections) per account


def http_options(name: str, options: Mapping[str, Any]) -> HttpOptions:
    """The transport options of account `name`, checked."""
    try:
        values = HttpOptions(
            timeout=float(options.get("timeout", 10.0)),
            connect_timeout=float(options.get("connect_timeout", 5.0)),
            max_retries=int(options.get("max_retries", 3)),
            backoff=float(options.get("backoff", 0.5)),
            max_backoff=float(options.get("max_backoff", 30.0)),
            concurrency=int(options.get("concurrency", 10)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"provider account {name!r}: {exc}") from exc
    if values.timeout <= 0 or values.concurrency < 1 or values.max_retries < 0:
        raise ConfigError(
            f"provider account {name!r}: timeout must be positive, concurrency at least 1 "
            "and max_retries not negative"
        )
    return values


def new_client(
    options: HttpOptions, *, auth: httpx.Auth | None = None, headers: Mapping[str, str] = {}
) -> httpx.AsyncClient:
    """A client whose pool keeps `concurrency` connections alive to the provider."""
    limits = httpx.Limits(
        max_connections=options.concurrency, max_keepalive_connections=options.concurrency
    )
    timeout = httpx.Timeout(options.timeout, connect=min(options.connect_timeout, options.timeout))
    return httpx.AsyncClient(
        auth=auth, headers=dict(headers), limits=limits, timeout=timeout, trust_env=False
    )


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """The last response after retries, or the transport failure that ended them."""

    response: httpx.Response | None
    attempts: int
    failure: str | None = None  # CONNECT_FAILED or NO_ANSWER when there is no response
    detail: str | None = None

    def result(
        self,
        message_id: int,
        *,
        accepted_id: Callable[[httpx.Response], str | None],
        error: Callable[[httpx.Response], tuple[str, str]],
    ) -> SubmitResult:
        """The dispatcher's view: accepted, temporary (retry later) or permanent."""
        if self.response is None:
            return SubmitResult(
                message_id,
                SubmitOutcome.TEMPORARY,
                error_code=self.failure,
                error_text=self.detail,
            )
        status = self.response.status_code
        if 200 <= status < 300:
            provider_id = accepted_id(self.response)
            if provider_id:
                return SubmitResult(message_id, SubmitOutcome.ACCEPTED, provider_id)
            return SubmitResult(
                message_id,
                SubmitOutcome.TEMPORARY,
                error_code=NO_ANSWER,
                error_text=f"HTTP {status} without a message id",
            )
        code, text = error(self.response)
        if _retryable(status):
            return SubmitResult(
                message_id,
                SubmitOutcome.TEMPORARY,
                error_code=code,
                error_text=text,
                throttled=status == 429,
            )
        return SubmitResult(message_id, SubmitOutcome.PERMANENT, error_code=code, error_text=text)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (`Retry-After`: seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdecimal():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


async def post_with_retries(
    client: httpx.AsyncClient,
    url: str,
    *,
    options: HttpOptions,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    content: bytes | None = None,
    sleep: Sleep = asyncio.sleep,
) -> HttpAnswer:
    """POST, retrying on 429, 5xx and connection failures with exponential backoff."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await client.post(url, headers=headers, data=data, content=content)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # nothing reached the provider: safe to try again
            if attempt > options.max_retries:
                return HttpAnswer(None, attempt, CONNECT_FAILED, f"{type(exc).__name__}: {exc}")
            await sleep(_pause(options, attempt, None))
            continue
        except httpx.TransportError as exc:
            # written, then no answer: the provider may hold it; retrying could duplicate
            return HttpAnswer(None, attempt, NO_ANSWER, f"{type(exc).__name__}: {exc}")
        if not _retryable(response.status_code) or attempt > options.max_retries:
            return HttpAnswer(response, attempt)
        await sleep(_pause(options, attempt, _retry_after(response)))


def _pause(options: HttpOptions, attempt: int, asked: float | None) -> float:
    pause = options.backoff * 2 ** (attempt - 1) if asked is None else asked
    return min(pause, options.max_backoff)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What one message becomes on the wire: headers and a form or a raw body."""

    headers: Mapping[str, str]
    data: Mapping[str, str] | None = None
    content: bytes | None = None


class HttpProvider:
    """The part both HTTP adapters share: one pool per account, one POST per message.

    A subclass sets `url` and says how a message is written (`request`), where the
    provider's id is in an answer (`accepted_id`) and what a refusal says (`error`).
    """

    url: str
    pipelined = False  # one POST per message: a second batch would only open more connections

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.channel = str(options.get("channel", "sms"))
        self.rate = float(options.get("rate", 10))
        self.options = http_options(name, options)
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(1)

    def client(self) -> httpx.AsyncClient:
        """A new pooled client with the account's credentials."""
        return new_client(self.options)

    def request(self, message: OutboundMessage) -> HttpRequest:
        """The request that sends `message`."""
        raise NotImplementedError

    def accepted_id(self, response: httpx.Response, message: OutboundMessage) -> str | None:
        """The provider's id of an accepted message."""
        raise NotImplementedError

    def error(self, response: httpx.Response) -> tuple[str, str]:
        """The provider's error code and text of a refusal."""
        raise NotImplementedError

    async def start(self, on_receipt: ReceiptSink | None = None) -> None:
        """Open the connection pool; receipts arrive on the status callback, not here."""
        self._client = self.client()
        self._slots = asyncio.Semaphore(self.options.concurrency)  # of this event loop

    async def stop(self) -> None:
        """Close the pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Send each message (up to `concurrency` at a time); results in order."""
        if self._client is None:
            await self.start()
        return list(await asyncio.gather(*(self._submit_one(m) for m in messages)))

    async def _submit_one(self, message: OutboundMessage) -> SubmitResult:
        assert self._client is not None
        request = self.request(message)
        async with self._slots:
            answer = await post_with_retries(
                self._client,
                self.url,
                options=self.options,
                headers=request.headers,
                data=request.data,
                content=request.content,
            )
        return answer.result(
            message.message_id,
            accepted_id=lambda response: self.accepted_id(response, message),
            error=self.error,
        )
