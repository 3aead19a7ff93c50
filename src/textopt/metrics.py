"""Prometheus metrics: what the outbox holds, what the dispatcher does, how its tasks fare.

One `Metrics` per process (`textopt serve`, or a `textopt dispatch` process) holds its own
registry, exposed in the Prometheus text format by `serve`'s `GET /metrics` and by the
listener of `textopt dispatch --metrics-port`:

- the outbox (`OutboxCollector`): due, waiting and sending messages by reason and account,
  and how long the oldest due one has waited; one grouped read of the open messages,
  cached `ttl` seconds, so that several scrapers (or a short scrape interval) cost one read;
- the dispatcher's counters and histograms (`DispatchMetrics`), counted per batch where its
  running totals are (`dispatch.account_worker`, `dispatch.from_network`): messages
  claimed, answers by result, the claim's re-check, throttling, failovers, receipts and
  their lag, recoveries, the time a provider takes to answer a batch;
- the supervised tasks (`WorkersCollector`): running or not, and restarts since start.

The counters live as long as the process, across restarts of the dispatcher inside it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from textopt import __version__
from textopt.db.base import utcnow
from textopt.db.engine import SNAPSHOT
from textopt.dispatch.backlog import OpenMessages, open_messages
from textopt.errors import ConfigError
from textopt.supervisor import WorkerReport, WorkerState

__all__ = [
    "CONTENT_TYPE",
    "DispatchMetrics",
    "Metrics",
    "MetricsListener",
    "OutboxCollector",
    "WorkersCollector",
    "serve_metrics",
]

#: The media type of the text exposition format, in the version every scraper reads (our
#: names are plain ASCII: the output is the same in the newer one).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

#: A label value for "none": Prometheus reads an empty label as an absent one.
_NONE = "none"

#: Seconds a provider takes to answer a batch: from a local sandbox to a slow HTTP API.
_SUBMIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Seconds from the instant a receipt states to its commit: SMSCs send them late, in bursts.
_RECEIPT_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0)

ReportSource = Callable[[], Mapping[str, WorkerReport]]


class DispatchMetrics:
    """The dispatcher's counters and histograms, counted per batch (thread-safe)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self._claimed = Counter(
            "textopt_dispatch_claimed_messages",
            "Messages claimed (marked sending) by the dispatcher's workers.",
            ["account"],
            registry=reg,
        )
        self._rechecked = Counter(
            "textopt_dispatch_claim_rechecks",
            "Due messages the claim's policy re-check did not send: blocked, expired, deferred.",
            ["account", "outcome"],
            registry=reg,
        )
        self._answers = Counter(
            "textopt_dispatch_answers",
            "Provider answers as recorded: submitted, retried, failed, expired, unknown.",
            ["account", "result"],
            registry=reg,
        )
        self._throttled = Counter(
            "textopt_dispatch_throttled",
            "Messages a provider refused for throttling (retried later).",
            ["account"],
            registry=reg,
        )
        self._failed_over = Counter(
            "textopt_dispatch_failed_over_messages",
            "Due messages moved from an account in outage to its fallback.",
            ["account"],
            registry=reg,
        )
        self._submit_seconds = Histogram(
            "textopt_dispatch_submit_seconds",
            "Seconds from handing a batch to the provider to its answers.",
            ["account"],
            buckets=_SUBMIT_BUCKETS,
            registry=reg,
        )
        self._receipts = Counter(
            "textopt_dispatch_receipts",
            "Delivery receipts received, and those applied to a message.",
            ["applied"],
            registry=reg,
        )
        self._receipt_lag = Histogram(
            "textopt_dispatch_receipt_lag_seconds",
            "Seconds from the instant a receipt states to its commit.",
            buckets=_RECEIPT_BUCKETS,
            registry=reg,
        )
        self._recovered = Counter(
            "textopt_dispatch_recovered_messages",
            "Messages left in sending by a dead worker: unknown (promotions) or queued again.",
            ["outcome"],
            registry=reg,
        )

    def claimed(
        self, account: str, *, sending: int, blocked: int, expired: int, deferred: int
    ) -> None:
        """Count one claim: what it marked `sending` and what its re-check held back."""
        if sending:
            self._claimed.labels(account).inc(sending)
        for outcome, count in (("blocked", blocked), ("expired", expired), ("deferred", deferred)):
            if count:
                self._rechecked.labels(account, outcome).inc(count)

    def answered(self, account: str, results: Mapping[str, int], *, throttled: int) -> None:
        """Count one recorded batch of answers, by result."""
        for result, count in results.items():
            if count:
                self._answers.labels(account, result).inc(count)
        if throttled:
            self._throttled.labels(account).inc(throttled)

    def submit_took(self, account: str, seconds: float) -> None:
        """Observe how long the provider took to answer one batch."""
        self._submit_seconds.labels(account).observe(seconds)

    def failed_over(self, account: str, moved: int) -> None:
        """Count the due messages moved away from `account` in outage."""
        if moved:
            self._failed_over.labels(account).inc(moved)

    def received(self, stated: Sequence[dt.datetime], *, applied: int, now: dt.datetime) -> None:
        """Count receipts committed at `now`, observing each one's lag from its stated instant."""
        if not stated:
            return
        self._receipts.labels("true").inc(applied)
        self._receipts.labels("false").inc(len(stated) - applied)
        for at in stated:
            self._receipt_lag.observe(max((now - at).total_seconds(), 0.0))

    def recovered(self, *, unknown: int, requeued: int) -> None:
        """Count the messages lease recovery resolved."""
        if unknown:
            self._recovered.labels("unknown").inc(unknown)
        if requeued:
            self._recovered.labels("requeued").inc(requeued)


class OutboxCollector(Collector):
    """Gauges of the open messages, from one grouped read cached `ttl` seconds."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float = 5.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._read_at = -ttl
        self._now = clock()
        self._rows: list[OpenMessages] = []

    def _read(self) -> tuple[dt.datetime, list[OpenMessages]]:
        """The cached rows, read again when older than `ttl` (one reader at a time)."""
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                now = self.clock()
                # a plain read transaction: on SQLite it never queues for the write lock
                with (
                    self.engine.connect().execution_options(**{SNAPSHOT: True}) as connection,
                    Session(bind=connection) as session,
                ):
                    self._rows = open_messages(session, now=now)
                self._now = now
                self._read_at = time.monotonic()
            return self._now, self._rows

    def describe(self) -> Iterable[Metric]:
        """Nothing at registration: the database is read at scrape time only."""
        return []

    def collect(self) -> Iterable[Metric]:
        """The outbox gauges, by reason and account."""
        now, rows = self._read()
        due = GaugeMetricFamily(
            "textopt_outbox_due_messages",
            "Planned or queued messages whose send time has come, by why they wait.",
            labels=["reason", "account"],
        )
        waiting = GaugeMetricFamily(
            "textopt_outbox_waiting_messages",
            "Planned or queued messages whose send time is later, by why they wait.",
            labels=["reason", "account"],
        )
        sending = GaugeMetricFamily(
            "textopt_outbox_sending_messages",
            "Messages claimed by a worker and not answered yet.",
            labels=["account"],
        )
        oldest = GaugeMetricFamily(
            "textopt_outbox_oldest_due_seconds",
            "Seconds since the send time of the oldest due message (0 when none is due).",
        )
        sums: dict[tuple[str, str, str], int] = {}
        earliest: dt.datetime | None = None
        for row in rows:
            account = row.provider or _NONE
            if row.status == "sending":
                key = ("sending", _NONE, account)
            else:
                key = ("due" if row.due else "waiting", row.reason or _NONE, account)
                if row.due and row.oldest_send_at is not None:
                    earliest = min(earliest or row.oldest_send_at, row.oldest_send_at)
            sums[key] = sums.get(key, 0) + row.count
        for (kind, reason, account), count in sorted(sums.items()):
            if kind == "sending":
                sending.add_metric([account], count)
            else:
                (due if kind == "due" else waiting).add_metric([reason, account], count)
        lag = (now - earliest).total_seconds() if earliest is not None else 0.0
        oldest.add_metric([], max(lag, 0.0))
        return [due, waiting, sending, oldest]


class WorkersCollector(Collector):
    """The supervised tasks of the process: running or not, restarts since it started."""

    def __init__(self) -> None:
        self._sources: list[ReportSource] = []

    def watch(self, source: ReportSource) -> None:
        """Report the tasks `source` names (a supervisor's or the dispatcher's `report`)."""
        self._sources.append(source)

    def describe(self) -> Iterable[Metric]:
        """Nothing at registration (the tasks are read at scrape time)."""
        return []

    def collect(self) -> Iterable[Metric]:
        """One sample per task of every watched source."""
        running = GaugeMetricFamily(
            "textopt_worker_running",
            "1 while a supervised task runs, 0 while it waits to restart or is stopped.",
            labels=["task"],
        )
        restarts = CounterMetricFamily(
            "textopt_worker_restarts",
            "Times a supervised task was replaced after it died.",
            labels=["task"],
        )
        for name, report in sorted(self._reports().items()):
            running.add_metric([name], 1.0 if report.state is WorkerState.RUNNING else 0.0)
            restarts.add_metric([name], report.restarts)
        return [running, restarts]

    def _reports(self) -> dict[str, WorkerReport]:
        reports: dict[str, WorkerReport] = {}
        for source in self._sources:
            reports.update(source())
        return reports


class _BuildInfo(Collector):
    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "textopt_build_info", "The running textopt version (always 1).", labels=["version"]
        )
        info.add_metric([__version__], 1.0)
        yield info


@dataclass(slots=True)
class Metrics:
    """Everything one process exposes: outbox gauges, dispatcher counters, its tasks."""

    registry: CollectorRegistry
    dispatch: DispatchMetrics
    workers: WorkersCollector
    outbox: OutboxCollector

    @classmethod
    def for_engine(cls, engine: Engine, *, outbox_ttl: float = 5.0) -> Metrics:
        """A fresh registry reading the outbox of `engine`."""
        registry = CollectorRegistry()
        dispatch = DispatchMetrics(registry)
        workers = WorkersCollector()
        outbox = OutboxCollector(engine, ttl=outbox_ttl)
        for collector in (workers, outbox, _BuildInfo()):
            registry.register(collector)
        return cls(registry=registry, dispatch=dispatch, workers=workers, outbox=outbox)

    def exposition(self) -> bytes:
        """The whole registry in the Prometheus text format."""
        return _generate_latest(self.registry)


@dataclass(slots=True)
class MetricsListener:
    """A small HTTP server answering every GET with the metrics (`dispatch --metrics-port`)."""

    host: str
    port: int
    _close: Callable[[], None]

    def close(self) -> None:
        """Stop listening."""
        self._close()


def serve_metrics(metrics: Metrics, *, host: str, port: int) -> MetricsListener:
    """Listen on `host`:`port` in a thread of its own; ConfigError if the port is taken."""
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(
            f"metrics listener on {host}:{port}: {exc.strerror or exc}", field="metrics_port"
        ) from exc

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return MetricsListener(host=host, port=int(server.server_port), _close=close)
