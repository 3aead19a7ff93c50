"""Only the sender IDs the workspace registered (`sender_ids`) may be used.

Before, any key with the `send` scope could send as `PAYPAL` where alphanumeric senders are
allowed: the policy checks a sender's form, not whose name it is.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.factories.campaigns import WEDNESDAY_10H, new_campaign

from textopt.campaigns.sends import enqueue_message
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import ValidationError

PHONES = ["+33612345001"]
AT = WEDNESDAY_10H


def test_only_a_registered_sender_id_may_be_used(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s, pytest.raises(ValidationError) as refused:
        enqueue_message(
            s, settings=campaign_settings, to=PHONES[0], text="Hi", sender_id="PAYPAL", now=AT
        )
    assert refused.value.field == "sender_id"
    with session_scope(engine) as s, pytest.raises(ValidationError) as refused:
        new_campaign(s, campaign_settings, sender_id="PAYPAL")
    assert refused.value.field == "sender_id"
    registered = campaign_settings.model_copy(update={"sender_ids": ["BOUTIQUE"]})
    with session_scope(engine) as s:
        message, _ = enqueue_message(
            s, settings=registered, to=PHONES[0], text="Hi", sender_id="BOUTIQUE", now=AT
        )
        assert message.sender == "BOUTIQUE"
