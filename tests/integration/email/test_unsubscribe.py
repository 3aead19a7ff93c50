"""The unsubscribe handler: one revocation per person and channel, nothing for bad links."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from tests.factories.keys import TEST_KEY
from tests.factories.multichannel import add_person

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent
from textopt.consent.unsubscribe import unsubscribe, unsubscribe_token
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.errors import ValidationError
from textopt.gdpr import service as gdpr


def _revocations(engine: Engine) -> int:
    with session_scope(engine) as s:
        query = select(func.count()).where(ConsentEvent.action == "revoked")
        return int(s.scalar(query) or 0)


def test_the_handler_revokes_the_links_channel_once(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        lea_id = add_person(s, phone="+33612345601", email="lea@example.fr").id
    token = unsubscribe_token(key=TEST_KEY, contact_id=lea_id, channel="email", campaign_id=3)
    with session_scope(engine) as s:
        first = unsubscribe(s, key=TEST_KEY, token=token, proof={"ip": "127.0.0.1"})
    with session_scope(engine) as s:
        again = unsubscribe(s, key=TEST_KEY, token=token)
    assert (first.recorded, again.recorded, first.campaign_id) == (True, False, 3)
    assert _revocations(engine) == 1
    with session_scope(engine) as s:
        state = consent.current_consent(s, contact_id=lea_id)
        [(_, proof)] = [
            h for h in consent.history(s, contact_id=lea_id) if h[0].action == "revoked"
        ]
    assert state[("email", "marketing")].status == "revoked"
    assert state[("sms", "marketing")].status == "granted"
    assert proof is not None
    assert (proof.data["campaign"], proof.data["ip"]) == (3, "127.0.0.1")


def test_bad_links_and_erased_people_record_nothing(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as s:
        lea_id = add_person(s, phone="+33612345601", email="lea@example.fr").id
    token = unsubscribe_token(key=TEST_KEY, contact_id=lea_id, channel="email", campaign_id=None)
    nobody = unsubscribe_token(key=TEST_KEY, contact_id=999, channel="email", campaign_id=None)
    for bad in (token[:-1] + ("x" if token[-1] != "x" else "y"), nobody, "nonsense"):
        with session_scope(engine) as s, pytest.raises(ValidationError, match="not valid"):
            unsubscribe(s, key=TEST_KEY, token=bad)
    with session_scope(engine) as s:
        gdpr.erase_person(s, settings=settings, contact=s.get_one(Contact, lea_id))
    with session_scope(engine) as s:
        assert unsubscribe(s, key=TEST_KEY, token=token).recorded is False
    assert _revocations(engine) == 0
