"""Receipts as SMSCs write them: the text form field by field, the TLVs first, final states."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textopt.providers import ReceiptStatus
from textopt.providers.smpp_pdu import Tag
from textopt.providers.smpp_receipts import parse_receipt, receipt_from_stat

D = ReceiptStatus.DELIVERED
F = ReceiptStatus.FAILED
U = ReceiptStatus.UNKNOWN
E = ReceiptStatus.EXPIRED

HEAD = "id:{id} sub:001 dlvrd:000 submit date:2611251000 done date:2611251001 stat:{stat} err:{err}"
UUID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"

# (receipt text, id, stat word, error code, status); None: not a final receipt
TABLE: list[tuple[str, str, str, str | None, ReceiptStatus]] = [
    (HEAD.format(id="0", stat="UNDELIV", err="027"), "0", "UNDELIV", "027", F),
    # the message quoted after `text:` names fields of its own: none of them is read
    (
        HEAD.format(id="77", stat="UNDELIV", err="001") + " text:Votre id:ABC",
        "77",
        "UNDELIV",
        "001",
        F,
    ),
    (
        HEAD.format(id="78", stat="UNDELIV", err="001") + " text:stat:DELIVRD promo",
        "78",
        "UNDELIV",
        "001",
        F,
    ),
    (
        HEAD.format(id="79", stat="DELIVRD", err="000") + " text:Le produit solid:9",
        "79",
        "DELIVRD",
        None,
        D,
    ),
    (
        HEAD.format(id="80", stat="EXPIRED", err="000") + " text:err:099 id:1 stat:DELIVRD",
        "80",
        "EXPIRED",
        None,
        E,
    ),
    # keys in capitals, `Text:` as some write it, 12-digit dates
    (
        "ID:1A2B3C4D SUB:001 DLVRD:001 SUBMIT DATE:261125100011 DONE DATE:261125100112 "
        "STAT:DELIVRD ERR:000 Text:Bonjour",
        "1A2B3C4D",
        "DELIVRD",
        None,
        D,
    ),
    # `err:0` and `err:000` say "no error"; an error code is kept as written
    ("id:5 stat:REJECTD err:0", "5", "REJECTD", None, F),
    ("id:5 stat:UNDELIV err:000 text:", "5", "UNDELIV", None, F),
    ("id:5 stat:UNDELIV err:0B4", "5", "UNDELIV", "0B4", F),
    # sub, dlvrd and the dates missing; a UUID id; lower-case stat words
    (f"id:{UUID} stat:delivrd err:000", UUID, "DELIVRD", None, D),
    # a space after a colon, empty values, a NUL at the end of the C string
    (
        "id: 4242 sub: dlvrd: submit date: done date: stat: DELETED err: text:\x00",
        "4242",
        "DELETED",
        None,
        F,
    ),
    ("id:00000123 stat:UNDELIV err:001\x00", "00000123", "UNDELIV", "001", F),
    # the final states that confirm nothing (SMPP 3.4 5.2.28: 6 and 7)
    (HEAD.format(id="6", stat="ACCEPTD", err="000") + " text:", "6", "ACCEPTD", None, U),
    (HEAD.format(id="7", stat="UNKNOWN", err="000") + " text:", "7", "UNKNOWN", None, U),
    # a vendor's own field beside the standard ones
    ("id:9 sub:001 dlvrd:001 vendor:xyz stat:DELIVRD err:000 text:", "9", "DELIVRD", None, D),
    # a message_state number in place of a word
    ("id:10 stat:5 err:001", "10", "UNDELIV", "001", F),
]


@pytest.mark.parametrize(("text", "message_id", "stat", "error_code", "status"), TABLE)
def test_the_text_form_is_read_field_by_field(
    text: str, message_id: str, stat: str, error_code: str | None, status: ReceiptStatus
) -> None:
    receipt = parse_receipt(esm_class=0x04, short_message=text.encode("latin-1"), tlvs=[])
    assert receipt is not None
    assert (receipt.message_id, receipt.stat, receipt.error_code, receipt.status) == (
        message_id,
        stat,
        error_code,
        status,
    )
    assert receipt.raw["stat"] == stat


@pytest.mark.parametrize(
    "text",
    [
        "id:5 sub:001 dlvrd:000 stat:ENROUTE err:000 text:",  # on its way: not final
        "id:5 stat:SCHEDULED err:000",
        "id:5 stat:PENDING err:000",  # a vendor's word we do not know
        "sub:001 dlvrd:001 stat:DELIVRD err:000 text:Le produit solid:9",  # no id at all
        "stat:DELIVRD err:000 text:id:9",  # the only id is in the message
        "id:5 err:000 text:stat:DELIVRD",  # the only stat is in the message
        "Bonjour, voici votre code",
        "",
    ],
)
def test_receipts_without_a_final_state_or_an_id_change_nothing(text: str) -> None:
    assert parse_receipt(esm_class=0x04, short_message=text.encode("latin-1"), tlvs=[]) is None


def test_dates_of_10_and_12_digits_are_kept_as_written() -> None:
    text = b"id:1 submit date:2611251000 done date:261125100159 stat:DELIVRD err:000 text:"
    receipt = parse_receipt(esm_class=0x04, short_message=text, tlvs=[])
    assert receipt is not None
    assert receipt.raw["fields"]["submit_date"] == "2611251000"
    assert receipt.raw["fields"]["done_date"] == "261125100159"
    assert receipt.raw["text"] == text.decode()


def test_a_receipt_text_in_ucs2_is_read() -> None:
    text = "id:31 stat:UNDELIV err:012 text:Promo".encode("utf-16-be")
    receipt = parse_receipt(esm_class=0x04, short_message=text, tlvs=[])
    assert receipt is not None
    assert (receipt.message_id, receipt.status, receipt.error_code) == ("31", F, "012")


def test_a_receipt_text_in_message_payload_is_read() -> None:
    tlvs = [(Tag.MESSAGE_PAYLOAD, b"id:32 stat:DELIVRD err:000 text:")]
    receipt = parse_receipt(esm_class=0x04, short_message=b"", tlvs=tlvs)
    assert receipt is not None
    assert (receipt.message_id, receipt.status) == ("32", D)


@pytest.mark.parametrize(("state", "status"), [(6, U), (7, U), (2, D), (5, F), (3, E), (8, F)])
def test_message_state_tlvs_give_the_outcome(state: int, status: ReceiptStatus) -> None:
    tlvs = [(Tag.RECEIPTED_MESSAGE_ID, b"AB12\x00"), (Tag.MESSAGE_STATE, bytes((state,)))]
    receipt = parse_receipt(esm_class=0x04, short_message=b"", tlvs=tlvs)
    assert receipt is not None
    assert (receipt.message_id, receipt.status) == ("AB12", status)


def test_tlvs_win_over_a_text_that_disagrees_and_both_are_kept() -> None:
    text = b"id:999 stat:DELIVRD err:000 text:"
    tlvs = [(Tag.RECEIPTED_MESSAGE_ID, b"AB12\x00"), (Tag.MESSAGE_STATE, b"\x06")]
    receipt = parse_receipt(esm_class=0x04, short_message=text, tlvs=tlvs)
    assert receipt is not None
    assert (receipt.message_id, receipt.stat, receipt.status) == ("AB12", "ACCEPTD", U)
    assert receipt.raw["text"] == text.decode()
    assert receipt.raw["tlvs"]["0x0427"] == "06"


def test_the_text_fills_what_the_tlvs_leave_out() -> None:
    text = b"id:44 stat:UNDELIV err:034 text:"
    # the state without an id or an error code: both come from the text
    receipt = parse_receipt(esm_class=0x04, short_message=text, tlvs=[(Tag.MESSAGE_STATE, b"\x05")])
    assert receipt is not None
    assert (receipt.message_id, receipt.status, receipt.error_code) == ("44", F, "034")
    # a state number we do not know: the text's word decides
    receipt = parse_receipt(
        esm_class=0x04,
        short_message=b"id:45 stat:DELIVRD err:000",
        tlvs=[(Tag.RECEIPTED_MESSAGE_ID, b"45\x00"), (Tag.MESSAGE_STATE, b"\x2a")],
    )
    assert receipt is not None
    assert receipt.status == D


def test_an_intermediate_state_tlv_is_not_final_whatever_the_text_says() -> None:
    tlvs = [(Tag.RECEIPTED_MESSAGE_ID, b"46\x00"), (Tag.MESSAGE_STATE, b"\x01")]
    receipt = parse_receipt(esm_class=0x04, short_message=b"id:46 stat:DELIVRD", tlvs=tlvs)
    assert receipt is None


def test_a_stored_accepted_part_is_rebuilt_as_unknown() -> None:
    assert receipt_from_stat("7", "ACCEPTD", None).status == U
    assert receipt_from_stat("7", "UNKNOWN", None).status == U
    assert receipt_from_stat("7", "UNDELIV", "001").status == F


HEADS = [
    HEAD.format(id="77", stat="UNDELIV", err="001"),
    HEAD.format(id="ABC", stat="DELIVRD", err="000"),
    "ID:0 STAT:ACCEPTD ERR:0",
    "id:12 stat:ENROUTE err:000",
    "stat:DELIVRD err:000",
]
#: What a message may say: words of the text form among others, in any case.
MESSAGE = st.lists(
    st.sampled_from(
        ["id:", "ID:9", "stat:", "STAT:DELIVRD", "err:001", "text:", "sub:", "done date:", "x"]
    )
    | st.text(alphabet=" :\t\x00idstaerDELIVRUNK0123456789éç", max_size=12),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(head=st.sampled_from(HEADS), message=MESSAGE, key=st.sampled_from(["text:", "TEXT:"]))
def test_what_follows_text_never_changes_the_outcome(head: str, message: str, key: str) -> None:
    def outcome(text: str) -> tuple[object, ...] | None:
        receipt = parse_receipt(esm_class=0x04, short_message=text.encode("latin-1"), tlvs=[])
        if receipt is None:
            return None
        return (receipt.message_id, receipt.status, receipt.stat, receipt.error_code)

    assert outcome(f"{head} {key}{message}") == outcome(f"{head} {key}")


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=200),
    tlvs=st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=8)), max_size=4),
)
def test_garbage_never_raises(body: bytes, tlvs: list[tuple[int, bytes]]) -> None:
    for esm_class in (0x00, 0x04):
        parse_receipt(esm_class=esm_class, short_message=body, tlvs=tlvs)
