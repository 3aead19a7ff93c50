"""Delivery receipts in `deliver_sm`: the TLV form and the text form, parsed leniently.

SMSCs differ: some send only the text (`id:… stat:DELIVRD err:000`), some only the TLVs
(`receipted_message_id`, `message_state`), many both, often with vendor TLVs as well. The TLVs
win when present and the text only fills what they leave out; unknown TLVs are kept in the raw
record and otherwise ignored. Anything that does not parse is reported as None, never raised:
one bad receipt must not stop a session.

The text form (SMPP 3.4 Appendix B) is `id:… sub:… dlvrd:… submit date:… done date:… stat:…
err:… text:…`, written in any case, with fields sometimes missing. It is read field by field:
a key counts only where a field may start (the start of the text or after a space), and
nothing after `text:` is read, because that part holds the start of the message we sent (a
promotion may well say `id:`, `stat:DELIVRD` or `solid:9`).
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

_KEYS = r"id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text"
#: A field of the text form: its key where a field starts (`(?<!\S)`: at the start or after a
#: space, so `solid:9` is no id), and its value, one word (empty when the next key follows).
_TEXT_FIELD = re.compile(
    rf"(?<!\S)({_KEYS})[ \t]*:[ \t]*(?!(?:{_KEYS})[ \t]*:)(\S*)", re.IGNORECASE
)
#: Where the message's own text starts: nothing from there on is a field.
_TEXT_KEY = re.compile(r"(?<!\S)text[ \t]*:", re.IGNORECASE)
#: The keys as written (any case, `submit date` or `submit_date`) to one name each.
_NAMES = {
    f"{start}{sep}date": f"{start}_date" for start in ("submit", "done") for sep in (" ", "_", "")
} | {key: key for key in ("id", "sub", "dlvrd", "stat", "err", "text")}

#: message_state values (SMPP 3.4 5.2.28, and SMPP 5.0's 0 and 9) and the stat words of the
#: text form.
_STATE_WORDS = {
    0: "SCHEDULED",
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
    9: "SKIPPED",
}
#: The final stat words. ACCEPTD (taken on the subscriber's behalf, by customer services or a
#: gateway that reports nothing further) and UNKNOWN are final states that confirm nothing
#: about the handset: they end the message unknown, neither delivered nor failed. Any other
#: word (ENROUTE, SCHEDULED, a vendor's) is not final and changes nothing.
_FINAL = {
    "DELIVRD": ReceiptStatus.DELIVERED,
    "DELIVERED": ReceiptStatus.DELIVERED,
    "EXPIRED": ReceiptStatus.EXPIRED,
    "DELETED": ReceiptStatus.FAILED,
    "UNDELIV": ReceiptStatus.FAILED,
    "UNDELIVERABLE": ReceiptStatus.FAILED,
    "REJECTD": ReceiptStatus.FAILED,
    "REJECTED": ReceiptStatus.FAILED,
    "SKIPPED": ReceiptStatus.FAILED,
    "ACCEPTD": ReceiptStatus.UNKNOWN,
    "ACCEPTED": ReceiptStatus.UNKNOWN,
    "UNKNOWN": ReceiptStatus.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class PartReceipt:
    """What a receipt says about one submitted part (one SMPP message id)."""

    message_id: str
    status: ReceiptStatus
    stat: str  # the SMSC's word: DELIVRD, UNDELIV, ACCEPTD, ...
    error_code: str | None
    raw: dict[str, Any]


def _tlv_text(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("latin-1").strip()


def _decode(short_message: bytes) -> str:
    """The receipt's text; a few SMSCs write it in UCS-2 (a NUL before each ASCII letter)."""
    if len(short_message) >= 4 and short_message[0] == 0 and short_message[1] != 0:
        try:
            return short_message.decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return short_message.decode("latin-1")


def _text_fields(text: str) -> dict[str, str]:
    """The fields before `text:` (what follows is the message), the first of each kept."""
    text = text.replace("\x00", " ")  # NUL: a C string's end
    cut = _TEXT_KEY.search(text)
    if cut is not None:  # cut first: `text:id:9` holds no id, whatever its value looks like
        text = text[: cut.start()]
    fields: dict[str, str] = {}
    for match in _TEXT_FIELD.finditer(text):
        fields.setdefault(_NAMES[match.group(1).lower()], match.group(2))
    return fields


def _stat_of(word: str) -> str:
    """A stat word in capitals; a number is read as a message_state."""
    word = word.strip().upper()
    if word.isdigit():
        return _STATE_WORDS.get(int(word), word)
    return word


def parse_receipt(
    *, esm_class: int, short_message: bytes, tlvs: Sequence[tuple[int, bytes]]
) -> PartReceipt | None:
    """The final outcome a `deliver_sm` reports, or None (not a receipt, or not final)."""
    by_tag = dict(tlvs)
    has_receipt_tlv = Tag.RECEIPTED_MESSAGE_ID in by_tag
    if esm_class & _MESSAGE_TYPE_MASK not in _RECEIPT_TYPES and not has_receipt_tlv:
        return None
    if not short_message and Tag.MESSAGE_PAYLOAD in by_tag:  # the text in a TLV instead
        short_message = by_tag[Tag.MESSAGE_PAYLOAD]
    message_id = _tlv_text(by_tag[Tag.RECEIPTED_MESSAGE_ID]) if has_receipt_tlv else None
    state = by_tag.get(Tag.MESSAGE_STATE)
    stat = _STATE_WORDS.get(state[0]) if state else None  # an unheard-of number: read the text
    network_error = by_tag.get(Tag.NETWORK_ERROR_CODE)
    # The text is read only for what the TLVs leave out (most SMSCs send both, and a
    # delivery needs no error code).
    text = ""
    fields: dict[str, str] = {}
    if short_message:
        text = _decode(short_message)
        if not message_id or stat is None or (stat != "DELIVRD" and not network_error):
            fields = _text_fields(text)
    message_id = message_id or fields.get("id")
    if stat is None and fields.get("stat"):
        stat = _stat_of(fields["stat"])
    if not message_id or stat is None or stat not in _FINAL:
        return None  # ENROUTE and other passing states, and unreadable receipts, change nothing
    error_code = None
    if network_error and len(network_error) >= 3:
        error_code = f"{network_error[0]}:{int.from_bytes(network_error[1:3], 'big')}"
    elif fields.get("err", "").strip("0"):  # err:0 and err:000 say "no error"
        error_code = fields["err"]
    status = _FINAL[stat]
    raw: dict[str, Any] = {"stat": stat}
    if text:
        raw["text"] = text
    if fields:
        # as written: dates are the SMSC's local time, 10 or 12 digits, with no zone
        raw["fields"] = fields
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
