"""Structured log lines: an event name, then `key=value` fields, also set on the record.

Stdlib `logging` only: a line reads well in a terminal (`claimed account=sandbox count=500`)
and a JSON formatter finds the same fields as attributes of the record (`record.account`),
with the event's name in `record.event`. Field names must not be those of a `LogRecord`
(`name`, `message`, `args`...): `log_event` refuses them rather than lose them.
"""

from __future__ import annotations

import logging

__all__ = ["configure_logging", "log_event"]

#: The attributes every LogRecord has: a field by one of these names would overwrite it.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "event",
}


def _text(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def log_event(
    logger: logging.Logger,
    level: int,
    event: str,
    /,
    *,
    exc_info: BaseException | None = None,
    **fields: object,
) -> None:
    """Log `event` with its fields as `key=value` text and as attributes of the record."""
    if not logger.isEnabledFor(level):
        return
    clash = _RESERVED.intersection(fields)
    if clash:
        raise ValueError(f"log field names taken by logging itself: {', '.join(sorted(clash))}")
    text = " ".join([event, *(f"{key}={_text(value)}" for key, value in fields.items())])
    logger.log(level, "%s", text, extra={"event": event, **fields}, exc_info=exc_info, stacklevel=2)


def configure_logging(level: int = logging.INFO) -> None:
    """Send textopt's log lines to standard error with their time and level (once)."""
    logger = logging.getLogger("textopt")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
