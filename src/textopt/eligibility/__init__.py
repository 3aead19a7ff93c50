"""Who may receive what: the policy's inputs read from the database, for many recipients at once.

"Facts" are the policy's inputs (`policy.ContactFacts`, a history of `SendRecord`s); this
package reads them, in bulk, for the three paths that ask the policy: campaign planning (a
page of contacts: `read_eligibility`, `SuppressionLookup`), the dispatcher's re-check at
claim (`claim_columns`, `Rechecker`) and one-off sends and explanations (`read_policy_inputs`,
`find_suppressed`, `recipient_facts`). They share one cap-history query (`cap_history`,
`recent_marketing`), one suppression lookup by keyed digest (`find_suppressed`), one
contact's facts (`contact_facts`) and one recipient without a contact (`recipient_facts`),
so the three reach the same verdict for the same recipient. The digester of addresses is
given by the caller, who holds the workspace's secret key.

Modules: `history` (cap window, counted states, the query), `suppression` (the lookup),
`inputs` (facts from plain values), `batch` (planning's bulk read), `recheck` (the claim's),
`workspace` (the workspace's rules from the settings).
"""

from __future__ import annotations

from textopt.eligibility.batch import (
    EligibilityBatch,
    PolicyInputs,
    read_eligibility,
    read_policy_inputs,
)
from textopt.eligibility.history import (
    CAP_WINDOW,
    COUNTED_PLANNED,
    COUNTED_SENT,
    cap_history,
    recent_marketing,
)
from textopt.eligibility.inputs import (
    ContactRow,
    contact_facts,
    number_kind,
    recipient_facts,
    usable_email,
)
from textopt.eligibility.recheck import FIRST, Rechecker, claim_columns
from textopt.eligibility.suppression import UNDELIVERABLE, SuppressionLookup, find_suppressed
from textopt.eligibility.workspace import workspace_policy

__all__ = [
    "CAP_WINDOW",
    "COUNTED_PLANNED",
    "COUNTED_SENT",
    "FIRST",
    "UNDELIVERABLE",
    "ContactRow",
    "EligibilityBatch",
    "PolicyInputs",
    "Rechecker",
    "SuppressionLookup",
    "cap_history",
    "claim_columns",
    "contact_facts",
    "find_suppressed",
    "number_kind",
    "read_eligibility",
    "read_policy_inputs",
    "recent_marketing",
    "recipient_facts",
    "usable_email",
    "workspace_policy",
]
