"""Providers: one adapter per way out, behind one small protocol, registered by a code."""

from __future__ import annotations

from textopt.providers.base import (
    OutboundMessage,
    Provider,
    Receipt,
    ReceiptSink,
    ReceiptStatus,
    SubmitOutcome,
    SubmitResult,
    build_provider,
    provider_kinds,
    register_provider,
)

__all__ = [
    "OutboundMessage",
    "Provider",
    "Receipt",
    "ReceiptSink",
    "ReceiptStatus",
    "SubmitOutcome",
    "SubmitResult",
    "build_provider",
    "provider_kinds",
    "register_provider",
]
