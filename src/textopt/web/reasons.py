"""Why a message was not sent or not confirmed, as a sentence in the viewer's language.

Every message that is not delivered carries a stable reason code: the policy's (`Reason`)
when it was decided, the dispatcher's when the wire or the network ended it. Pages show
the code's sentence from the catalogue, never the code itself nor the English sentence
stored beside it.
"""

from __future__ import annotations

from textopt.policy.decide import Reason
from textopt.web.catalogue import EN
from textopt.web.i18n import Translate

__all__ = ["MESSAGE_REASONS", "reason_sentence"]

# The codes the dispatcher, receipts and campaign lifecycle write on a message.
_ENDINGS = (
    "ambiguous_submit",
    "worker_lost",
    "provider_error",
    "provider_refused",
    "receipt_failed",
    "receipt_expired",
    "receipt_unknown",
    "no_receipt",
    "campaign_cancelled",
)
MESSAGE_REASONS: tuple[str, ...] = (*(str(r) for r in Reason), *_ENDINGS)


def reason_sentence(_: Translate, code: str, *, error_code: str | None = None) -> str:
    """The sentence of a message's reason code, with the provider's error code when known."""
    # A code that is also a status ("expired") has its sentence under `reason.`.
    key = f"reason.{code}" if f"reason.{code}" in EN else code
    words = _(key)
    if error_code and code in ("provider_refused", "provider_error", "receipt_failed"):
        words += _(" (error code %(code)s)") % {"code": error_code}
    return words[:1].upper() + words[1:]
