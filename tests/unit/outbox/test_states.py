"""The outbox and campaign state machines allow exactly the transitions written down."""

from __future__ import annotations

import pytest

from textopt.campaigns.models import CampaignStatus, check_campaign_transition
from textopt.errors import InvalidTransition
from textopt.outbox.states import FINAL_STATES, TRANSITIONS, MessageStatus, check_transition

S = MessageStatus

ALLOWED = {
    (S.PLANNED, S.SENDING),
    (S.PLANNED, S.PLANNED),
    (S.PLANNED, S.BLOCKED),
    (S.PLANNED, S.EXPIRED),
    (S.PLANNED, S.CANCELLED),
    (S.QUEUED, S.SENDING),
    (S.QUEUED, S.PLANNED),
    (S.QUEUED, S.BLOCKED),
    (S.QUEUED, S.EXPIRED),
    (S.QUEUED, S.CANCELLED),
    (S.SENDING, S.SUBMITTED),
    (S.SENDING, S.FAILED),
    (S.SENDING, S.QUEUED),
    (S.SENDING, S.EXPIRED),
    (S.SENDING, S.UNKNOWN),
    (S.SENDING, S.DELIVERED),
    (S.SUBMITTED, S.DELIVERED),
    (S.SUBMITTED, S.FAILED),
    (S.SUBMITTED, S.EXPIRED),
    (S.SUBMITTED, S.UNKNOWN),
    (S.UNKNOWN, S.DELIVERED),
    (S.UNKNOWN, S.FAILED),
    (S.UNKNOWN, S.EXPIRED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("new", list(S))
def test_every_pair_of_message_states_is_allowed_or_refused_as_written(
    current: MessageStatus, new: MessageStatus
) -> None:
    if (current, new) in ALLOWED:
        check_transition(current, new)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current} to {new}"):
            check_transition(current, new)


def test_no_final_state_goes_back_to_sending() -> None:
    for state in FINAL_STATES:
        assert S.SENDING not in TRANSITIONS[state]
        assert S.QUEUED not in TRANSITIONS[state]


def test_a_message_in_doubt_is_never_sent_again_only_resolved_by_a_receipt() -> None:
    assert TRANSITIONS[S.UNKNOWN] == {S.DELIVERED, S.FAILED, S.EXPIRED}


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("draft", "running", True),
        ("draft", "scheduled", True),
        ("running", "paused", True),
        ("paused", "running", True),
        ("running", "completed", True),
        ("scheduled", "cancelled", True),
        ("completed", "running", False),
        ("cancelled", "running", False),
        ("draft", "paused", False),
        ("draft", "completed", False),
    ],
)
def test_campaign_lifecycle(current: str, new: str, allowed: bool) -> None:
    if allowed:
        check_campaign_transition(CampaignStatus(current), CampaignStatus(new))
    else:
        with pytest.raises(InvalidTransition):
            check_campaign_transition(current, new)
