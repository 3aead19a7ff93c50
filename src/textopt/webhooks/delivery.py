"""The webhook delivery loop: claim due deliveries, POST them signed, record each attempt.

asyncio like the dispatcher, which it runs beside (`textopt serve`, `textopt dispatch`);
database work is synchronous and runs in a thread. Deliveries are at least once: a receiver
dedupes on the event id (`X-Textopt-Event-Id`).

Each POST resolves the endpoint's host, checks every address (`targets.TargetGuard`) and
connects to the address it checked, with the URL's host in `Host` and in TLS (SNI and the
certificate check): a DNS answer that changed since registration cannot point it at an
internal service. The attempt log keeps the status code or a fixed summary, never the
body of an answer nor the kind of network error (which would map internal ports).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.errors import ValidationError
from textopt.webhooks import service
from textopt.webhooks.signing import SIGNATURE_HEADER, endpoint_secret, sign
from textopt.webhooks.targets import (
    ResolvedTarget,
    Resolver,
    TargetGuard,
    system_resolver,
)

__all__ = ["NO_ANSWER", "REFUSED", "WebhookDeliverer"]

_BATCH = 50
#: What the attempt log says when no HTTP answer came, whatever the network error was.
NO_ANSWER = "no answer (could not connect, TLS failed, or timed out)"
#: ... and when the host resolved to an address webhooks may not reach.
REFUSED = "not sent: the host resolves to an address webhooks may not reach"


def _sni(url: httpx.URL, target: ResolvedTarget) -> dict[str, str]:
    """TLS names the URL's host (SNI, certificate check), not the address connected to."""
    if url.scheme != "https" or target.host == target.address:
        return {}
    return {"sni_hostname": url.raw_host.decode("ascii")}


class WebhookDeliverer:
    """Delivers pending webhook events until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        poll_interval: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.poll_interval = poll_interval
        self.delivered = 0
        self.failed_attempts = 0
        self._transport = transport
        self._key = settings.resolved_secret_key()
        self._guard = TargetGuard.from_networks(
            settings.webhook_allowed_networks, resolver=resolver
        )
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Finish the current batch and return."""
        self._stop.set()

    async def run(self, *, once: bool = False) -> None:
        """Deliver until stopped; with `once`, until nothing is due."""
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        # No keep-alive: connections are pooled by address, and a TLS session verified for
        # one host name must not carry the request of another host on the same address.
        async with httpx.AsyncClient(
            timeout=timeout,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: connect where we checked
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client:
            while not self._stop.is_set():
                done = await self.deliver_due(client)
                if done:
                    continue
                if once:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.poll_interval)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Claim one batch of due deliveries and POST them concurrently; returns their count."""
        lease = dt.timedelta(seconds=self.settings.webhook_timeout_seconds * 2 + 30)

        def claim() -> list[service.DeliveryJob]:
            with session_scope(self.engine) as session:
                return service.claim_deliveries(
                    session, now=self.clock(), limit=_BATCH, lease=lease
                )

        jobs = await asyncio.to_thread(claim)
        if not jobs:
            return 0
        outcomes = await asyncio.gather(*(self._post(client, job) for job in jobs))

        def record() -> None:
            with session_scope(self.engine) as session:
                service.record_attempts(
                    session, outcomes=outcomes, max_attempts=self.settings.webhook_max_attempts
                )

        await asyncio.to_thread(record)
        ok = sum(1 for o in outcomes if o.ok)
        self.delivered += ok
        self.failed_attempts += len(outcomes) - ok
        return len(jobs)

    async def _post(
        self, client: httpx.AsyncClient, job: service.DeliveryJob
    ) -> service.AttemptOutcome:
        secret = endpoint_secret(workspace_key=self._key, salt=job.secret_salt)
        at = self.clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "textopt-webhooks/1",
            SIGNATURE_HEADER: sign(secret=secret, body=job.body, timestamp=int(at.timestamp())),
            "X-Textopt-Event": job.event,
            "X-Textopt-Event-Id": job.event_id,
            "X-Textopt-Delivery": str(job.delivery_id),
            "X-Textopt-Attempt": str(job.attempt),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        target: ResolvedTarget | None = None
        try:
            target = await asyncio.wait_for(
                asyncio.to_thread(self._guard.resolve, job.url),
                self.settings.webhook_timeout_seconds,
            )
        except ValidationError:
            error = REFUSED
        except TimeoutError:
            error = NO_ANSWER
        if target is not None:
            try:
                url = httpx.URL(job.url)
                headers["Host"] = url.netloc.decode("ascii")
                # streamed and never read: the answer's body is neither kept nor downloaded
                async with client.stream(
                    "POST",
                    url.copy_with(host=target.address),
                    content=job.body,
                    headers=headers,
                    extensions=_sni(url, target),
                ) as response:
                    status = response.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except (httpx.HTTPError, httpx.InvalidURL):
                error = NO_ANSWER
        duration = int((time.perf_counter() - started) * 1000)
        return service.AttemptOutcome(
            delivery_id=job.delivery_id,
            at=at,
            status_code=status,
            error=error,
            duration_ms=duration,
        )
