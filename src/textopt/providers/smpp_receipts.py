"""Delivery receipts in `deliver_sm`: the TLV form and the text form, parsed leniently.

SMSCs differ: some send only the text (`id:… stat:DELIVRD err:000`), some only the TLVs
(`receipted_message_id`, `message_state`), many both, often with vendor TLVs as well. The TLVs
win when present; unknown TLVs are kept in the raw record and otherwise ignored. Anything that
does not parse is reported as None, never raised: one bad receipt must not stop a session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textopt.providers.base import ReceiptStatus
from textopt.providers.smpp_pdu import Tag

__all__ = ["PartReceipt", "parse_receipt", "receipt_from_stat"]

# esm_class bits 2-5 say what a deliver_sm is: 0x04 is an SMSC delivery receipt, 0x08 an SME
# acknowledgement, 0x20 an intermediate notification; 0 is a mobile-originated message.
_RECEIPT_TYPES = {0x04, 0x20}
_MESSAGE_TYPE_MASK = 0x3C

_TEXT_FIELD = re.compile(rb"(id|stat|err|sub|dlvrd)\s*:\s*(\S+)", re.IGNORECASE)

#: message_state values (SMPP 3.4 5.2.28) and the stat words of the text form.
_STATE_WORDS = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
_FINAL = {
    "DELIVRD": ReceiptStatus.DELIVERED,
    "DELIVERED": ReceiptStatus.DELIVERED,
    "EXPIRED": ReceiptStatus.EXPIRED,
    "DELETED": ReceiptStatus.FAILED,
    "UNDELIV": ReceiptStatus.FAILED,
    "UNDELIVERABLE": ReceiptStatus.FAILED,
    "REJECTD": ReceiptStatus.FAILED,
    "REJECTED": ReceiptStatus.FAILED,
    "UNKNOWN": ReceiptStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class PartReceipt:
    """What a receipt says about one submitted part (one SMPP message id)."""

    message_id: str
    status: ReceiptStatus
    stat: str  # the SMSC's word: DELIVRD, UNDELIV, ...
    error_code: str | None
    raw: dict[str, Any]


def _tlv_text(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("latin-1").strip()


def parse_receipt(
    *, esm_class: int, short_message: bytes, tlvs: Sequence[tuple[int, bytes]]
) -> PartReceipt | None:
    """The final outcome a `deliver_sm` reports, or None (not a receipt, or not final)."""
    by_tag = dict(tlvs)
    has_receipt_tlv = Tag.RECEIPTED_MESSAGE_ID in by_tag
    if esm_class & _MESSAGE_TYPE_MASK not in _RECEIPT_TYPES and not has_receipt_tlv:
        return None
    message_id = _tlv_text(by_tag[Tag.RECEIPTED_MESSAGE_ID]) if has_receipt_tlv else None
    state = by_tag.get(Tag.MESSAGE_STATE)
    # The text is read only for what the TLVs leave out (most SMSCs send both).
    text: dict[str, str] = {}
    if not message_id or not state or state[0] != 2:  # 2: DELIVERED needs no error code
        text = {
            key.lower().decode(): value.decode("latin-1")
            for key, value in _TEXT_FIELD.findall(short_message)
        }
    message_id = message_id or text.get("id")
    stat: str | None = None
    if state:
        stat = _STATE_WORDS.get(state[0], "UNKNOWN")
    elif "stat" in text:
        stat = text["stat"].upper()
    if not message_id or stat is None or stat not in _FINAL:
        return None  # ENROUTE, ACCEPTD and unreadable receipts change nothing
    error_code = None
    network_error = by_tag.get(Tag.NETWORK_ERROR_CODE)
    if network_error and len(network_error) >= 3:
        error_code = f"{network_error[0]}:{int.from_bytes(network_error[1:3], 'big')}"
    elif text.get("err", "000").strip("0"):
        error_code = text["err"]
    status = _FINAL[stat]
    raw: dict[str, Any] = {"stat": stat}
    if short_message:
        raw["text"] = short_message.decode("latin-1")
    if by_tag:
        raw["tlvs"] = {f"0x{tag:04X}": value.hex() for tag, value in by_tag.items()}
    return PartReceipt(
        message_id=message_id,
        status=status,
        stat=stat,
        error_code=error_code if status is not ReceiptStatus.DELIVERED else None,
        raw=raw,
    )


def receipt_from_stat(message_id: str, stat: str, error_code: str | None) -> PartReceipt:
    """A part's receipt rebuilt from the stat word stored for it."""
    return PartReceipt(message_id, _FINAL.get(stat, ReceiptStatus.FAILED), stat, error_code, {})
