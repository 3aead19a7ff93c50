"""SMPP receipts and GSM packing, without a network."""

from __future__ import annotations

from textopt.providers import ReceiptStatus
from textopt.providers.smpp_pdu import Tag, bind_body, pack_septets, read_cstring, status_name
from textopt.providers.smpp_receipts import parse_receipt

TEXT = b"id:0 sub:001 dlvrd:000 submit date:2611251000 done date:2611251001 stat:UNDELIV err:027"


def test_the_text_form_gives_id_state_and_error() -> None:
    receipt = parse_receipt(esm_class=0x04, short_message=TEXT, tlvs=[])
    assert receipt is not None
    assert (receipt.message_id, receipt.status, receipt.error_code) == (
        "0",
        ReceiptStatus.FAILED,
        "027",
    )


def test_tlvs_win_over_the_text_and_vendor_tlvs_are_kept() -> None:
    tlvs = [
        (Tag.RECEIPTED_MESSAGE_ID, b"ABC-123\x00"),
        (Tag.MESSAGE_STATE, b"\x02"),
        (0x1401, b"ORANGE\x00"),
    ]
    receipt = parse_receipt(esm_class=0x04, short_message=TEXT, tlvs=tlvs)
    assert receipt is not None
    assert (receipt.message_id, receipt.status) == ("ABC-123", ReceiptStatus.DELIVERED)
    assert receipt.raw["tlvs"]["0x1401"] == b"ORANGE\x00".hex()


def test_intermediate_states_mobile_messages_and_garbage_are_not_receipts() -> None:
    enroute = b"id:5 stat:ENROUTE err:000"
    assert parse_receipt(esm_class=0x04, short_message=enroute, tlvs=[]) is None
    assert parse_receipt(esm_class=0x00, short_message=b"STOP", tlvs=[]) is None
    assert parse_receipt(esm_class=0x04, short_message=b"\xff\x00garbage", tlvs=[]) is None
    assert parse_receipt(esm_class=0x04, short_message=b"", tlvs=[(Tag.MESSAGE_STATE, b"")]) is None


def test_expired_receipts_say_expired() -> None:
    tlvs = [(Tag.RECEIPTED_MESSAGE_ID, b"9\x00"), (Tag.MESSAGE_STATE, b"\x03")]
    receipt = parse_receipt(esm_class=0x00, short_message=b"", tlvs=tlvs)
    assert receipt is not None
    assert receipt.status == ReceiptStatus.EXPIRED


def test_septets_pack_eight_into_seven_octets_with_udh_fill_bits() -> None:
    assert pack_septets(b"hellohello") == bytes.fromhex("E8329BFD4697D9EC37")
    # after a 6-octet UDH one fill bit aligns the first septet: it shifts everything by one
    assert pack_septets(b"\x7f", fill_bits=1) == bytes((0xFE,))


def test_bind_bodies_and_status_names() -> None:
    body = bind_body(system_id="textopt", password="secret")
    assert read_cstring(body) == "textopt"
    assert read_cstring(body, 8) == "secret"
    assert status_name(0x58) == "ESME_RTHROTTLED"
    assert status_name(0x401) == "0x00000401"
