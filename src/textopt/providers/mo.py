"""Mobile-originated messages as a provider hands them over, before textopt stores them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["InboundSms"]


@dataclass(frozen=True, slots=True)
class InboundSms:
    """One message a person sent to one of our numbers (an MO)."""

    provider: str  # the account it arrived on
    provider_message_id: str  # the provider's id: a retried webhook carries the same
    # the address as the provider wrote it: a number in any notation, or a short code, an
    # operator's name, "" (stored as it came; only a valid number is acted upon)
    sender: str
    recipient: str  # our number or short code
    text: str
    received_at: dt.datetime
