"""Error codes of transport failures, shared by every adapter and read by the dispatcher.

The dispatcher's failover needs to tell a submission that surely did not reach the
provider (safe to send elsewhere) from one that may have (the provider may hold it).
"""

from __future__ import annotations

__all__ = ["AMBIGUOUS_CODES", "CONNECT_FAILED", "NO_ANSWER"]

#: No connection could be made: nothing was sent, the message may go elsewhere.
CONNECT_FAILED = "connect_failed"
#: The request was written but no answer came (timeout, connection cut): the provider may
#: have the message, so a marketing message is never sent through another provider.
NO_ANSWER = "no_answer"

AMBIGUOUS_CODES = frozenset({NO_ANSWER})
