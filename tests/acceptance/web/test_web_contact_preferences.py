"""The contact page's preferences form: a marketer records what the person asked for (one
ledger event per change, in the marketer's name, an audit entry), sees what changed in both
languages; nothing changed writes nothing; promotions stopped are never resumed from it; a
viewer and a request without the session's CSRF token are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.keys import TEST_DIGEST
from tests.factories.web import csrf_of, sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import AuditEntry, Role
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent
from textopt.db.engine import session_scope

MARKETER = "marketer@boutique.example"
FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _contact(engine: Engine, *, sms_promotions_stopped: bool = False) -> int:
    """Léa: a number with SMS marketing consent (or withdrawn), no email address."""
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345678", first_name="Léa")
        if sms_promotions_stopped:
            consent.record_consent(
                s,
                digest=TEST_DIGEST,
                contact_id=contact.id,
                channel="sms",
                purpose="marketing",
                action="revoked",
                source="keyword",
            )
        return contact.id


def _written(engine: Engine) -> tuple[int, int]:
    """How many ledger events and audit entries exist."""
    with session_scope(engine) as s:
        events = s.scalar(select(func.count()).select_from(ConsentEvent)) or 0
        audits = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        return events, audits


def _sms_row(page: str) -> str:
    found = re.search(r'<tr id="preferences-sms">.*?</tr>', page, re.S)
    assert found is not None, page
    return found.group(0)


def _signed_in(http: httpx.Client, engine: Engine, email: str, role: Role) -> None:
    make_user(engine, email, role)
    assert sign_in_form(http, email, PASSWORD).status_code == 303


def _post(http: httpx.Client, contact_id: int, data: dict[str, Any], **kw: Any) -> httpx.Response:
    return http.post(f"/app/contacts/{contact_id}/preferences", data=data, **kw)


def test_a_marketer_limits_sms_to_1_a_week_and_stops_reminders_in_their_own_name(
    http: httpx.Client, engine: Engine
) -> None:
    contact_id = _contact(engine)
    _signed_in(http, engine, MARKETER, Role.MARKETER)
    page = http.get(f"/app/contacts/{contact_id}", headers=FR).text
    assert 'id="preferences-form-sms"' in page
    assert 'id="preferences-form-email"' not in page  # no address: nothing to choose
    assert "aucune adresse" in page
    before = _written(engine)
    saved = _post(
        http,
        contact_id,
        {
            "csrf_token": csrf_of(page),
            "sms_promotions": "keep",
            "sms_frequency": "1-a-week",
            "sms_reminders": "stop",
        },
    )
    assert saved.status_code == 303
    location = saved.headers["location"]
    assert location.startswith(f"/app/contacts/{contact_id}?notice=preferences_saved")
    assert location.endswith("#preferences")

    french = http.get(location, headers=FR).text
    assert (
        '<p class="notice" role="status">Préférences enregistrées. Par SMS : rappels et suivi '
        "de commande arrêtés, promotions limitées à 1 par semaine.</p>"
    ) in french
    row = _sms_row(french)
    assert "1 par semaine au plus" in row
    assert "arrêtés" in row
    english = http.get(location, headers=EN).text
    assert (
        "Preferences saved. By SMS: reminders and order updates stopped, promotions limited "
        "to 1 a week."
    ) in english
    assert "preference_change" not in english  # the code is never shown bare
    assert 'value="1-a-week" selected' in english  # the form shows the choice now held

    assert _written(engine) == (before[0] + 2, before[1] + 1)
    with session_scope(engine) as s:
        ledger = consent.history(s, contact_id=contact_id)[-2:]
        assert sorted((e.channel, e.purpose, e.action) for e, _ in ledger) == [
            ("sms", "marketing", "limit-1-a-week"),
            ("sms", "transactional", "revoked"),
        ]
        for event, proof in ledger:
            assert event.source == "api"  # the team's source: not the person's own page
            assert proof is not None
            assert proof.data == {"recorded_by": MARKETER, "via": "preferences"}
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert audit is not None
        assert (audit.action, audit.actor_label, audit.target_id) == (
            "consent.preferences",
            MARKETER,
            str(contact_id),
        )
        assert audit.detail["events"] == [e.id for e, _ in ledger]
        assert consent.verify_ledger(s, digest=TEST_DIGEST).ok


def test_saving_the_same_choices_records_nothing_and_says_so(
    http: httpx.Client, engine: Engine
) -> None:
    contact_id = _contact(engine)
    _signed_in(http, engine, MARKETER, Role.MARKETER)
    page = http.get(f"/app/contacts/{contact_id}", headers=EN).text
    events_before = _written(engine)[0]
    same = _post(
        http,
        contact_id,
        {
            "csrf_token": csrf_of(page),
            "sms_promotions": "keep",
            "sms_frequency": "default",
            "sms_reminders": "keep",
        },
    )
    assert same.status_code == 303
    assert "notice=preferences_unchanged" in same.headers["location"]
    assert _written(engine)[0] == events_before
    shown = http.get(same.headers["location"], headers=FR).text
    assert "Rien n’a changé : les préférences étaient déjà celles-ci." in shown


def test_promotions_stopped_are_offered_as_unavailable_and_a_forged_resume_is_refused(
    http: httpx.Client, engine: Engine
) -> None:
    contact_id = _contact(engine, sms_promotions_stopped=True)
    _signed_in(http, engine, MARKETER, Role.MARKETER)
    page = http.get(f"/app/contacts/{contact_id}", headers=EN).text
    assert '<option value="keep" disabled>receive them again (not available here)</option>' in (
        page
    )
    assert 'id="sms-promotions-help"' in page
    assert 'id="sms-frequency" name="sms_frequency" disabled' in page
    before = _written(engine)
    forged = _post(
        http,
        contact_id,
        {"csrf_token": csrf_of(page), "sms_promotions": "keep", "sms_reminders": "stop"},
        headers=FR,
    )
    assert forged.status_code == 422
    error = re.search(r'id="sms-promotions-error" role="alert">([^<]*)</p>', forged.text)
    assert error is not None
    assert error.group(1).startswith("Refusé : les promotions ne reprennent pas")
    assert 'aria-invalid="true" aria-describedby="sms-promotions-error sms-promotions-help"' in (
        forged.text
    )
    assert _written(engine) == before  # not even the reminders asked for alongside
    unknown = _post(
        http, contact_id, {"csrf_token": csrf_of(page), "sms_reminders": "never"}, headers=EN
    )
    assert unknown.status_code == 422
    assert 'id="sms-reminders-error" role="alert">Choose one of the values of the list.' in (
        unknown.text
    )
    assert _written(engine) == before


def test_a_viewer_sees_no_form_and_cannot_post_one(http: httpx.Client, engine: Engine) -> None:
    contact_id = _contact(engine)
    _signed_in(http, engine, "viewer@boutique.example", Role.VIEWER)
    page = http.get(f"/app/contacts/{contact_id}", headers=EN).text
    assert 'id="preferences-sms"' in page  # the preferences are shown
    assert 'id="preferences-form"' not in page
    before = _written(engine)
    refused = _post(
        http, contact_id, {"csrf_token": csrf_of(page), "sms_reminders": "stop"}, headers=EN
    )
    assert refused.status_code == 403
    assert "Not allowed" in refused.text
    assert _written(engine) == before


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_post_without_the_sessions_csrf_token_is_refused(
    http: httpx.Client, engine: Engine, token: str | None
) -> None:
    contact_id = _contact(engine)
    _signed_in(http, engine, MARKETER, Role.MARKETER)
    before = _written(engine)
    data = {"sms_reminders": "stop"} | ({"csrf_token": token} if token else {})
    refused = _post(http, contact_id, data, headers=EN)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert _written(engine) == before
