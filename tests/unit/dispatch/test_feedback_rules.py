"""Which provider error codes say what about a number (dispatch.feedback)."""

from __future__ import annotations

from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings, load_settings
from textopt.dispatch.feedback import Meaning, feedback_rules

ACCOUNTS = {
    "twilio-main": {"kind": "twilio"},
    "smsc": {"kind": "smpp"},
    "orange": {"kind": "smpp"},
    "hook": {"kind": "webhook"},
    "sandbox": {"kind": "sandbox"},
}


def test_the_default_codes_follow_each_accounts_kind() -> None:
    rules = feedback_rules(Settings(providers=ACCOUNTS), digest=TEST_DIGEST)
    assert rules.limit == 2
    assert [rules.meaning("twilio-main", c) for c in ("21211", "30006", "21610", "30003")] == [
        Meaning.UNDELIVERABLE,
        Meaning.UNDELIVERABLE,
        Meaning.OPT_OUT,
        None,  # unreachable handset: switched off, not gone
    ]
    # the SMPP codes as the adapter writes them: submit_sm_resp status, receipt TLV
    assert rules.meaning("smsc", "0x0B") is Meaning.UNDELIVERABLE
    assert rules.meaning("smsc", "0x0b ") is Meaning.UNDELIVERABLE
    assert rules.meaning("smsc", "3:1") is Meaning.UNDELIVERABLE
    assert rules.meaning("smsc", "3:27") is None  # absent subscriber: temporary
    assert rules.meaning("smsc", "21211") is None  # another kind's code
    assert rules.meaning("hook", "21211") is None
    assert rules.meaning("sandbox", "0x0B") is None
    assert rules.meaning("unknown-account", "21211") is None
    assert rules.meaning("smsc", None) is None


def test_an_account_name_wins_over_its_kind() -> None:
    settings = Settings(
        providers=ACCOUNTS,
        sms_undeliverable_codes={"smpp": ["0x0B"], "orange": ["005", "3:1"]},
        sms_opt_out_codes={"hook": ["unsubscribed"]},
    )
    rules = feedback_rules(settings, digest=TEST_DIGEST)
    assert rules.meaning("orange", "005") is Meaning.UNDELIVERABLE
    assert rules.meaning("orange", "0x0B") is None
    assert rules.meaning("smsc", "3:1") is None
    assert rules.meaning("hook", "UNSUBSCRIBED") is Meaning.OPT_OUT
    assert rules.meaning("twilio-main", "21211") is None  # the table replaces the defaults


def test_the_code_tables_come_from_the_environment_as_json() -> None:
    settings = load_settings(
        environ={
            "TEXTOPT_SMS_UNDELIVERABLE_CODES": '{"smpp": ["0x0B", "3:11"]}',
            "TEXTOPT_SMS_OPT_OUT_CODES": '{"twilio": ["21610"]}',
            "TEXTOPT_SMS_UNDELIVERABLE_LIMIT": "3",
        }
    )
    assert settings.sms_undeliverable_codes == {"smpp": ["0x0B", "3:11"]}
    assert settings.sms_undeliverable_limit == 3
