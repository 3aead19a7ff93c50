"""The outbox: messages, their states, the one row planning writes, and its writers.

Campaigns (planning, one-off sends) and dispatch (claims, answers, receipts) both use it;
neither owns it. Modules:

- `models`: the `messages` and `message_events` tables;
- `states`: `MessageStatus` and the table of allowed transitions;
- `rows`: THE planned row (`OutboxRow`: column names and types) and `decision_columns`,
  the one mapping from a policy decision to a message's status and reason;
- `writers`: planning's bulk writers (multi-row and set-based inserts);
- `writes`: bulk updates by id and event inserts (the dispatcher's).
"""

from __future__ import annotations

from textopt.outbox.models import Message, MessageEvent, status_in
from textopt.outbox.rows import DecisionColumns, OutboxRow, decision_columns
from textopt.outbox.states import FINAL_STATES, TRANSITIONS, MessageStatus, check_transition

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "DecisionColumns",
    "Message",
    "MessageEvent",
    "MessageStatus",
    "OutboxRow",
    "check_transition",
    "decision_columns",
    "status_in",
]
