"""The contact page's preferences form read against what the person holds, and the changes a
save made, as the redirect carries them."""

from __future__ import annotations

from textopt.consent.models import FrequencyLimit
from textopt.consent.preferences import ChannelPreferences
from textopt.vocab import Channel
from textopt.web.preference_form import (
    RESUME_REFUSED,
    WRONG_CHOICE,
    changes_made,
    changes_shown,
    read_preference_form,
)

SMS = ChannelPreferences(Channel.SMS, True, "subscribed", True, None)
EMAIL_STOPPED = ChannelPreferences(Channel.EMAIL, True, "stopped", True, None)
NO_EMAIL = ChannelPreferences(Channel.EMAIL, False, "none", True, None)


def test_a_field_left_out_keeps_its_value_and_a_channel_without_address_is_not_read() -> None:
    read = read_preference_form(
        {"sms_frequency": "1-a-week", "email_reminders": "stop"}, [SMS, NO_EMAIL]
    )
    assert read.changes == {Channel.SMS: {"frequency": FrequencyLimit.ONE_A_WEEK}}
    assert read.errors == {}


def test_resuming_stopped_promotions_and_an_unknown_value_are_refused_on_their_field() -> None:
    read = read_preference_form(
        {"email_promotions": "keep", "sms_reminders": "maybe", "email_promotions_x": "1"},
        [SMS, EMAIL_STOPPED],
    )
    assert read.errors == {"email_promotions": RESUME_REFUSED, "sms_reminders": WRONG_CHOICE}
    assert read.values == {"email_promotions": "keep", "sms_reminders": "maybe"}


def test_the_changes_made_are_named_and_only_known_codes_come_back_from_a_redirect() -> None:
    after = [
        ChannelPreferences(Channel.SMS, True, "subscribed", False, FrequencyLimit.TWO_A_MONTH),
        ChannelPreferences(Channel.EMAIL, True, "stopped", True, None),
    ]
    email = ChannelPreferences(Channel.EMAIL, True, "pending", True, FrequencyLimit.ONE_A_WEEK)
    codes = changes_made([SMS, email], after)
    assert codes == ["sms.reminders.stopped", "sms.frequency.2-a-month", "email.promotions.stopped"]
    carried = ",".join([*codes, "sms.promotions.resumed", "<b>"])
    assert changes_shown(carried) == [
        ("sms", "reminders.stopped"),
        ("sms", "frequency.2-a-month"),
        ("email", "promotions.stopped"),
    ]
