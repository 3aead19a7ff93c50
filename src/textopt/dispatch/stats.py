"""The running totals of one dispatcher run (what `textopt dispatch` prints as it goes)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DispatchStats"]


@dataclass(slots=True)
class DispatchStats:
    """Running totals of one dispatcher run."""

    submitted: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    blocked: int = 0
    deferred: int = 0
    receipts: int = 0
    inbound: int = 0  # MOs (STOP, START, HELP, OUI...) stored and applied
    recovered_unknown: int = 0
    recovered_requeued: int = 0
    throttled: int = 0
    failed_over: int = 0  # due messages moved to a fallback account during an outage
    by_provider: dict[str, int] = field(default_factory=dict)
