"""The words every domain shares: channels and purposes of a message."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Channel", "Purpose"]


class Channel(StrEnum):
    """A way a message reaches a person."""

    SMS = "sms"  # a text message to a mobile number
    EMAIL = "email"  # an email to an address


class Purpose(StrEnum):
    """Why a message is sent: the law treats the two very differently."""

    MARKETING = "marketing"  # promotions and news: needs consent, quiet hours, caps, STOP
    TRANSACTIONAL = "transactional"  # confirmations, reminders, OTP: exempt from caps and hours
