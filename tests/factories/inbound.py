"""Inbound test helpers: a person texting one of our numbers through the sandbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.inbound.service import InboundResult, record_sms
from textopt.providers.sandbox import SandboxProvider

#: A Wednesday at 10:00 in Paris (09:00 UTC).
RECEIVED = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def text_in(
    session: Session,
    settings: Settings,
    *,
    sender: str,
    text: str,
    message_id: str | None = None,
    at: dt.datetime = RECEIVED,
) -> InboundResult:
    """A message from `sender` arriving on the sandbox account, stored and applied."""
    sandbox = SandboxProvider("sandbox", settings.providers["sandbox"])
    sms = sandbox.deliver_mo(
        sender=sender, text=text, provider_message_id=message_id, received_at=at
    )
    return record_sms(session, sms=sms, settings=settings, now=at)
