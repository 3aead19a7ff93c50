"""The compliance policy engine: jurisdiction packs and `decide()`.

Pure and deterministic: no clock, no database. Callers pass the time, the facts about the
recipient and the message, the history of sends and the workspace's own rules.
"""

from __future__ import annotations

from textopt.policy.caps import Cap, cap_allows, cap_next_allowed
from textopt.policy.decide import (
    DEFAULT_HORIZON,
    DEFAULT_WORKSPACE,
    Decision,
    Outcome,
    Reason,
    TraceEntry,
    Verdict,
    decide,
    describe_calendar,
    sending_calendar,
)
from textopt.policy.facts import (
    ContactFacts,
    MessageFacts,
    SendRecord,
    WorkspacePolicy,
    history_key,
)
from textopt.policy.packs import (
    Pack,
    customise_pack,
    ensure_not_looser,
    get_pack,
    load_packs,
    loosened_rules,
    pack_names,
)
from textopt.policy.selection import Selection, area_code_region, select_pack
from textopt.policy.windows import (
    Calendar,
    day_intervals,
    earliest_common,
    local_block,
    next_allowed,
    quiet_hours,
)

__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_WORKSPACE",
    "Calendar",
    "Cap",
    "ContactFacts",
    "Decision",
    "MessageFacts",
    "Outcome",
    "Pack",
    "Reason",
    "Selection",
    "SendRecord",
    "TraceEntry",
    "Verdict",
    "WorkspacePolicy",
    "area_code_region",
    "cap_allows",
    "cap_next_allowed",
    "customise_pack",
    "day_intervals",
    "decide",
    "describe_calendar",
    "earliest_common",
    "ensure_not_looser",
    "get_pack",
    "history_key",
    "load_packs",
    "local_block",
    "loosened_rules",
    "next_allowed",
    "pack_names",
    "quiet_hours",
    "select_pack",
    "sending_calendar",
]
